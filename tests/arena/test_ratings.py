"""Bradley-Terry ratings on the site: the beat task, the export round trip, the open data."""

import io
import json
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from arena.battles.models import Vote
from arena.ratings.models import Rating, RatingRun
from arena.ratings.services import ratings_recompute, votes_publish
from arena.ratings.tasks import ratings_refresh_run
from tests.arena.helpers import votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db
STRENGTH = {"ace": 1250, "good": 1100, "fair": 1000, "poor": 850}


@pytest.fixture
def voted(settings):
    """300 votes on four models by 37 simulated voters who follow STRENGTH, in two arenas.

    Written in bulk: the vote path itself is proven in test_vote.py; here only the votes matter.
    """
    settings.ARENA_MIN_VOTES = 20
    rng = random.Random(5)
    models = {slug: AIModelFactory(slug=slug, can_edit=True) for slug in STRENGTH}
    generations = {}
    for arena in ("t2i", "edit"):
        prompt = PromptFactory(arena=arena)
        generations[arena] = [GenerationFactory(prompt=prompt, model=m) for m in models.values()]
    rows = []
    for i in range(300):
        left, right = rng.sample(generations["edit" if i % 3 == 0 else "t2i"], 2)
        p_left = 1 / (1 + 10 ** ((STRENGTH[right.model.slug] - STRENGTH[left.model.slug]) / 400))
        outcome = "left" if rng.random() < p_left else "right"
        rows.append((left, right, "tie" if rng.random() < 0.1 else outcome, f"voter-{i % 37}"))
    votes_bulk(rows)
    return models


def test_the_beat_task_recomputes_both_arenas(voted):
    ratings_refresh_run.delay()

    assert set(RatingRun.objects.values_list("arena", flat=True)) == {"t2i", "edit"}
    board = list(Rating.objects.leaderboard("t2i").values_list("model__slug", flat=True))
    assert board == ["ace", "good", "fair", "poor"]
    assert RatingRun.objects.get(arena="t2i").votes == 200
    for rating in Rating.objects.all():
        assert rating.ci_low < rating.rating < rating.ci_high


def test_beat_refreshes_ratings_often_and_publishes_votes_nightly(settings):
    from arena.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}

    assert (
        schedule["arena.ratings.tasks.ratings_refresh_run"] == settings.ARENA_RATINGS_EVERY_SECONDS
    )
    assert schedule["arena.ratings.tasks.votes_publish_run"].hour == {settings.ARENA_EXPORT_HOUR}
    requeue = schedule["arena.catalog.tasks.generations_requeue_stale_run"]
    assert requeue == settings.ARENA_REQUEUE_EVERY_SECONDS
    assert schedule["arena.api.tasks.api_images_prune_run"] == settings.ARENA_PRUNE_EVERY_SECONDS


def test_ratings_compute_on_the_export_prints_the_numbers_the_site_shows(voted, tmp_path):
    ratings_recompute(arena="t2i")
    export = tmp_path / "votes.jsonl"
    call_command("export_votes", "--arena", "t2i", "--output", str(export))
    out = io.StringIO()

    call_command("ratings_compute", "--votes", str(export), stdout=out)

    printed = {row["model"]: row for row in json.loads(out.getvalue())}
    for rating in Rating.objects.filter(arena="t2i").select_related("model"):
        row = printed[rating.model.slug]
        assert (row["rating"], row["ci_low"], row["ci_high"], row["rank"], row["votes"]) == (
            rating.rating,
            rating.ci_low,
            rating.ci_high,
            rating.rank,
            rating.votes,
        )
    assert len(printed) == Rating.objects.filter(arena="t2i").count()


def test_the_export_uses_the_public_format_and_hides_voters(voted, tmp_path):
    export = tmp_path / "votes.jsonl"
    call_command("export_votes", "--output", str(export))

    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert len(lines) == 300
    assert set(lines[0]) == {
        "model_a",
        "model_b",
        "winner",
        "tstamp",
        "arena",
        "prompt_id",
        "judge",
        "categories",
    }
    assert {line["winner"] for line in lines} <= {"model_a", "model_b", "tie", "tie (bothbad)"}
    assert all(line["judge"].startswith("arena_user_") for line in lines)
    assert not any("voter-" in line["judge"] for line in lines)
    assert len({line["judge"] for line in lines}) == 37


def test_flagged_votes_are_left_out_of_ratings_and_export(voted, tmp_path):
    Vote.objects.filter(arena="t2i", left_model__slug="poor").update(flagged=True)
    flagged = Vote.objects.filter(flagged=True).count()

    run = ratings_recompute(arena="t2i")
    call_command("export_votes", "--arena", "t2i", "--output", str(tmp_path / "v.jsonl"))

    assert run.votes == 200 - flagged
    assert run.flagged_votes == flagged
    assert len((tmp_path / "v.jsonl").read_text().splitlines()) == 200 - flagged


def test_ratings_compute_names_a_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"model_a": "x", "model_b": "y", "winner": "model_a", "tstamp": 1, "arena": "t2i",'
        ' "prompt_id": 1, "judge": "j"}\n{"model_a": "x", "winner": "left"}\n'
    )

    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="line 2"):
        call_command("ratings_compute", "--votes", str(path), stdout=io.StringIO())


def test_recompute_from_the_admin(voted, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("c", "c@x.org", "pw"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/ratings/ratingrun/recompute/", follow=True)

    assert "Recomputing the ratings" in response.content.decode()
    assert RatingRun.objects.count() == 2
    assert client.get("/admin/ratings/ratingrun/").status_code == 200


def test_the_admin_sends_the_recompute_only_once_its_transaction_commits(
    voted, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("c", "c@x.org", "pw"))

    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/admin/ratings/ratingrun/recompute/")

    assert not RatingRun.objects.exists()
    for callback in callbacks:
        callback()
    assert RatingRun.objects.count() == 2


def test_the_public_data_page_links_the_nightly_files(voted, settings):
    settings.DEBUG = True
    page = Client().get("/leaderboard/data/").content.decode()
    assert "The first files are written tonight" in page

    votes_publish()

    page = Client().get("/leaderboard/data/").content.decode()
    assert 'href="/media/exports/votes-t2i.jsonl"' in page
    assert 'href="/media/exports/votes-edit.jsonl"' in page
    assert "ratings_compute --votes votes-t2i.jsonl" in page
