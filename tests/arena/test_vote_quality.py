"""Unreliable voters: flagged against the consensus, left out of the ratings, cleared by staff."""

import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from arena.battles.models import Vote
from arena.battles.services import anonymous_id
from arena.catalog.models import Generation
from arena.ratings.models import FlagPass, VoterFlag
from arena.ratings.services import ratings_recompute, voters_flag
from tests.arena.helpers import votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db
STRENGTH = {"ace": 1300, "good": 1150, "fair": 1000, "poor": 800}


@pytest.fixture
def votes(settings):
    """40 honest voters, one contrarian who picks the weaker model, one who always picks left."""
    settings.ARENA_MIN_VOTES = 10
    rng = random.Random(11)
    prompt = PromptFactory()
    images = [GenerationFactory(prompt=prompt, model=AIModelFactory(slug=s)) for s in STRENGTH]

    def strength(generation):
        return STRENGTH[generation.model.slug]

    rows = []
    for i in range(1200):
        left, right = rng.sample(images, 2)
        p_left = 1 / (1 + 10 ** ((strength(right) - strength(left)) / 400))
        rows.append(
            (left, right, "left" if rng.random() < p_left else "right", f"honest-{i % 40}")
        )
    for _ in range(40):
        left, right = rng.sample(images, 2)
        rows.append(
            (left, right, "left" if strength(left) < strength(right) else "right", "contrarian")
        )
        left, right = rng.sample(images, 2)
        rows.append((left, right, "left", "lefty"))
    votes_bulk(rows)
    ratings_recompute(arena="t2i")


def test_contrarian_and_one_sided_voters_are_flagged_and_no_one_else(votes):
    flags = {flag.voter: flag for flag in voters_flag(arena="t2i")}

    assert set(flags) == {anonymous_id("contrarian"), anonymous_id("lefty")}
    assert flags[anonymous_id("contrarian")].reason == "contrarian"
    assert "agreed with the consensus in" in flags[anonymous_id("contrarian")].detail
    assert flags[anonymous_id("lefty")].reason == "one_side"
    assert "picked the left image in 100%" in flags[anonymous_id("lefty")].detail
    assert Vote.objects.filter(flagged=True).count() == 80


def test_flagged_votes_do_not_count_in_the_next_recompute(votes):
    voters_flag(arena="t2i")

    run = ratings_recompute(arena="t2i")

    assert run.votes == 1200
    assert run.flagged_votes == 80


def test_staff_clear_a_flag_and_the_votes_count_again_for_good(votes):
    voters_flag(arena="t2i")
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("c", "c@x.org", "pw"))
    flag = VoterFlag.objects.get(voter=anonymous_id("lefty"))
    assert "lefty" not in client.get("/admin/ratings/voterflag/").content.decode()

    response = client.post(
        "/admin/ratings/voterflag/",
        {"action": "clear", "_selected_action": [flag.pk]},
        follow=True,
    )

    assert "Cleared 1 flags" in response.content.decode()
    flag.refresh_from_db()
    assert flag.cleared_at is not None
    assert flag.cleared_by.username == "c"
    assert not Vote.objects.filter(voter=anonymous_id("lefty"), flagged=True).exists()
    assert voters_flag(arena="t2i") == []  # not judged again
    assert ratings_recompute(arena="t2i").flagged_votes == 40


def test_a_pass_judges_only_voters_who_voted_since_the_last_one(votes):
    assert len(voters_flag(arena="t2i")) == 2
    good = Generation.objects.get(model__slug="good")
    fair = Generation.objects.get(model__slug="fair")
    old = votes_bulk([(fair, good, "left", "late-contrarian")] * 30)
    Vote.objects.filter(pk__in=[vote.pk for vote in old]).update(
        created_at=timezone.now() - timedelta(hours=1)
    )

    # Cast before the last pass and never again: not read, so not judged.
    assert voters_flag(arena="t2i") == []

    votes_bulk([(fair, good, "left", "late-contrarian")])
    flags = voters_flag(arena="t2i")

    assert [flag.voter for flag in flags] == [anonymous_id("late-contrarian")]
    assert flags[0].votes == 31  # judged on all their votes, the old ones too
    assert FlagPass.objects.get(arena="t2i").started_at > timezone.now() - timedelta(minutes=1)


def test_no_flags_before_there_is_a_consensus(settings):
    prompt = PromptFactory()
    left, right = (GenerationFactory(prompt=prompt) for _ in range(2))
    votes_bulk([(left, right, "left", "lefty")] * 30)

    assert voters_flag(arena="t2i") == []
