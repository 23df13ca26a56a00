"""Redis away (restarting, a network blip): pages serve, votes count, caps hold per process, and
work that could not be sent waits in the database. The shared Redis is never stopped: the site
is pointed at a port where nothing listens."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client

from arena import cache as arena_cache
from arena.battles.models import Vote
from arena.catalog.models import Generation
from arena.celery import tasks_send
from arena.ratings.services import ratings_refresh, ratings_refresh_when_stale
from tests.arena.helpers import DEAD_REDIS, broker_unreachable, open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def battles():
    prompt = PromptFactory()
    models = [AIModelFactory(slug=f"model-{n}") for n in range(3)]
    for model in models:
        GenerationFactory(prompt=prompt, model=model)
    return models


def test_the_shared_cache_away_reads_as_a_miss_and_refuses_locks_and_counters(redis_away):
    cache.set("key", "value")

    assert cache.get("key", "default") == "default"
    assert cache.get_or_set("figures", lambda: 42) == 42
    assert cache.get_many(["a", "b"]) == {}
    with pytest.raises(arena_cache.CacheUnavailable):
        cache.add("lock", "me")
    with pytest.raises(arena_cache.CacheUnavailable):
        cache.incr("counter")


def test_after_a_failure_redis_is_left_alone_for_a_while(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "arena.cache.RedisCache", "LOCATION": DEAD_REDIS}}
    tries = []
    monkeypatch.setattr(
        arena_cache.redis.RedisCache, "get", lambda *args: tries.append(args) or 1 / 0
    )
    monkeypatch.setattr(
        arena_cache.redis.RedisCache, "set", lambda *args: (_ for _ in ()).throw(OSError("down"))
    )

    cache.set("key", "value")  # fails: the outage starts
    assert cache.get("key") is None  # not even tried
    assert tries == []


def test_battles_pages_and_votes_work_while_redis_is_away(redis_away, battles, caplog):
    client = Client()
    caplog.set_level(logging.WARNING, logger="arena.cache")

    for path in ("/", "/battle/t2i/", "/leaderboard/t2i/", "/models/", "/models/model-0/"):
        assert client.get(path).status_code == 200, path
    battle = open_battle(client)
    voted = client.post(battle.get_absolute_url(), {"choice": "left"})

    assert voted.status_code == 302
    assert Vote.objects.filter(battle=battle).count() == 1
    assert client.get(voted["Location"]).status_code == 200  # the reveal, same session
    assert "Redis is unreachable" in caplog.text


def test_vote_caps_hold_per_process_while_redis_is_away(redis_away, battles, settings):
    settings.ARENA_VOTES_PER_MINUTE = 2
    client = Client()
    codes = []
    for _ in range(3):
        battle = open_battle(client)
        codes.append(client.post(battle.get_absolute_url(), {"choice": "left"}).status_code)

    assert codes == [302, 302, 429]
    assert Vote.objects.count() == 2


def test_ratings_refit_without_the_lock_and_no_refit_after_a_vote_starts(
    redis_away, battles, settings
):
    settings.ARENA_REFIT_AFTER_VOTE_SECONDS = 60

    assert ratings_refresh_when_stale(arena="t2i") is None
    assert [run.arena for run in ratings_refresh()] == ["t2i", "edit"]


def test_work_that_cannot_reach_the_broker_stays_queued_for_the_next_pass(battles, monkeypatch):
    generation = Generation.objects.first()
    Generation.objects.filter(pk=generation.pk).update(status=Generation.Status.QUEUED)
    broker_unreachable(monkeypatch)

    tasks_send("arena.catalog.tasks.generation_run", [(generation.pk,)])

    generation.refresh_from_db()
    assert generation.status == Generation.Status.QUEUED  # for beat's requeue pass to send
