"""Without a beat (Celery eager: the demo), a vote refits the ratings when the last run is
older than ARENA_REFIT_AFTER_VOTE_SECONDS, in a thread of its own: the vote's response never
waits for it, and there are never two refits at once."""

import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arena.catalog.models import Arena
from arena.ratings import services
from arena.ratings.models import RatingRun
from arena.ratings.services import REFIT_THREAD, ratings_recompute
from tests.arena.helpers import open_battle
from tests.arena.test_settings import settings_in
from tests.bench.sampler import FLOOR_SHARE
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

# The refit runs on its own connection and must see the committed vote.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def arena(settings):
    settings.ARENA_REFIT_AFTER_VOTE_SECONDS = 60
    prompt = PromptFactory()
    for _ in range(3):
        GenerationFactory(prompt=prompt, model=AIModelFactory())


def last_run_aged(seconds: float) -> RatingRun:
    """A rating run of the text-to-image arena, computed `seconds` ago."""
    run = ratings_recompute(arena=Arena.T2I)
    run.computed_at = timezone.now() - timedelta(seconds=seconds)
    run.save(update_fields=["computed_at"])
    return run


def vote(client: Client) -> int:
    battle = open_battle(client)
    return client.post(f"/battle/{battle.token}/", {"choice": "left"}).status_code


def refit_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == REFIT_THREAD]


def test_a_vote_refits_the_ratings_when_the_last_run_is_older_than_a_minute(arena):
    old = last_run_aged(61)

    assert vote(Client()) == 302
    for thread in refit_threads():
        thread.join(timeout=60)

    latest = RatingRun.objects.board(Arena.T2I).first()
    assert latest.pk != old.pk
    assert latest.votes == 1  # the vote that asked for it is counted
    assert RatingRun.objects.board(Arena.EDIT).exists()  # every arena, as beat would


def test_a_vote_leaves_fresh_ratings_alone(arena):
    fresh = last_run_aged(30)

    assert vote(Client()) == 302

    assert refit_threads() == []
    assert RatingRun.objects.board(Arena.T2I).first().pk == fresh.pk


def test_no_refit_after_a_vote_where_a_beat_runs(arena, settings):
    settings.ARENA_REFIT_AFTER_VOTE_SECONDS = 0
    old = last_run_aged(3600)

    assert vote(Client()) == 302

    assert refit_threads() == []
    assert RatingRun.objects.board(Arena.T2I).first().pk == old.pk


@pytest.fixture
def slow_refit(monkeypatch):
    """The refit holds until the test lets it go; returns (started, release)."""
    started, release = threading.Event(), threading.Event()
    refresh = services._refresh

    def held() -> list[RatingRun]:
        started.set()
        assert release.wait(timeout=60)
        return refresh()

    monkeypatch.setattr(services, "_refresh", held)
    yield started, release
    release.set()
    for thread in refit_threads():
        thread.join(timeout=60)


def test_the_votes_response_does_not_wait_for_the_refit(arena, slow_refit):
    started, release = slow_refit
    last_run_aged(120)

    status = vote(Client())  # returns while the refit it started is still held

    assert status == 302
    assert started.wait(timeout=60)
    (thread,) = refit_threads()
    assert thread.is_alive()
    release.set()
    thread.join(timeout=60)
    assert RatingRun.objects.board(Arena.T2I).first().votes == 1


def test_never_two_refits_at_once(arena, slow_refit):
    started, _ = slow_refit
    last_run_aged(120)

    assert vote(Client()) == 302
    assert started.wait(timeout=60)
    assert vote(Client()) == 302  # the ratings are still stale, but a refit is under way

    assert len(refit_threads()) == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "60"),  # no REDIS_URL: Celery runs eagerly, no beat
        ({"REDIS_URL": "redis://127.0.0.1:6379/11"}, "0"),
        ({"CELERY_TASK_ALWAYS_EAGER": "1", "REDIS_URL": "redis://127.0.0.1:6379/11"}, "60"),
        ({"ARENA_REFIT_AFTER_VOTE_SECONDS": "0"}, "0"),
    ],
)
def test_votes_refit_the_ratings_by_default_only_without_a_beat(env, expected):
    result = settings_in(
        {"DEBUG": "1", "ARENA_REFIT_AFTER_VOTE_SECONDS": "", **env},
        "settings.ARENA_REFIT_AFTER_VOTE_SECONDS",
    )

    assert result.stdout.strip() == expected, result.stderr


def test_make_bench_measures_the_sampler_with_the_sites_floor_share():
    result = settings_in({"DEBUG": "1"}, "settings.ARENA_FLOOR_SHARE")

    assert float(result.stdout) == FLOOR_SHARE, result.stderr
