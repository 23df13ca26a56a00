"""The public sampling record at /leaderboard/sampling/: pairing weights, battles and votes per
model, the votes left out and why, the left-side advantage; numbers as the admin and the vote
files have them, aggregates only, in a fixed number of queries."""

import io
import json
from datetime import timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from arena.battles.models import Battle, PairingPlan, Vote
from arena.battles.services import anonymous_id, battle_create, vote_record
from arena.catalog.models import Arena
from arena.ratings.models import RatingRun, VoterFlag
from arena.ratings.record import RECORD_CACHE_KEY, RECORD_QUERIES
from arena.ratings.services import ratings_refresh, votes_export
from tests.arena.helpers import open_battle, reset_shared_state
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db
URL = "/leaderboard/sampling/"


def make_arena(models=4, prompts=3):
    made = [AIModelFactory() for _ in range(models)]
    for _ in range(prompts):
        prompt = PromptFactory()
        for model in made:
            GenerationFactory(prompt=prompt, model=model)
    return made


def cast(votes, *, best=None, voter="voter"):
    """`votes` votes from one visitor; `best` wins its battles, the left side the rest."""
    for _ in range(votes):
        battle = battle_create(arena=Arena.T2I, session_key=voter)
        choice = "left"
        if best is not None and battle.right.model_id == best.pk:
            choice = "right"
        vote_record(token=battle.token, session_key=voter, choice=choice)


def record_of(client: Client, arena=Arena.T2I):
    response = client.get(URL)
    assert response.status_code == 200
    return next(r for r in response.context["records"] if r.arena == arena)


def per_model(record, field):
    return {row.model.pk: getattr(row, field) for row in record.models}


def test_the_record_shows_the_pairing_weights_the_refit_wrote(settings):
    settings.ARENA_MIN_VOTES = 1
    models = make_arena()
    for i in range(30):
        cast(1, best=models[0], voter=f"v{i}")
    ratings_refresh()

    record = record_of(Client())

    plan = PairingPlan.objects.get(arena=Arena.T2I).plan()
    ids = [model.pk for model in record.competing]
    weights = plan.weights_for(ids)
    shares = weights / np.triu(weights, k=1).sum()
    shown = np.array([[cell.share or 0.0 for cell in cells] for _, cells in record.heat])
    np.testing.assert_allclose(shown, shares)
    assert [model for model, _ in record.heat] == record.competing
    assert record.plan_written is not None
    total = sum(row.share for row in record.models)
    assert total == pytest.approx(2.0)  # every battle has two models


def test_a_model_that_joined_since_the_plan_is_shown_with_the_weights_it_gets():
    make_arena()
    cast(6)
    ratings_refresh()
    newcomer = AIModelFactory()
    # A model the six votes rated (which ones they met is the matchmaker's random draw).
    rated = Vote.objects.values_list("left_model_id", flat=True).first()

    record = record_of(Client())

    assert newcomer in record.competing
    rows = {row.model.pk: row for row in record.models}
    assert rows[newcomer.pk].newcomer
    assert not rows[rated].newcomer
    # Unrated, it is a toss-up against every model: the plan weighs each of its pairs.
    cells = dict(record.heat)[newcomer]
    assert all(cell.share > 0 for cell in cells if cell.share is not None)
    assert rows[newcomer.pk].share > 0


def test_battles_and_votes_per_model_match_the_vote_files():
    models = make_arena()
    cast(12, voter="recent")
    cast(6, voter="last-month")
    cast(4, voter="long-ago")
    now = timezone.now()
    for voter, days in (("last-month", 12), ("long-ago", 40)):
        battles = Battle.objects.filter(session_key=voter)
        battles.update(created_at=now - timedelta(days=days))
        Vote.objects.filter(battle__in=battles).update(created_at=now - timedelta(days=days))

    record = record_of(Client())

    out = io.BytesIO()
    votes_export(out=out, arena=Arena.T2I)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    slugs = {model.slug: model.pk for model in models}
    for index, days in enumerate((7, 30)):
        since = (now - timedelta(days=days)).timestamp()
        expected = dict.fromkeys(slugs.values(), 0)
        for line in lines:
            if line["tstamp"] >= since:
                expected[slugs[line["model_a"]]] += 1
                expected[slugs[line["model_b"]]] += 1
        assert {pk: votes[index] for pk, votes in per_model(record, "votes").items()} == expected
        # Every battle here was voted on: battles served match votes cast.
        assert {pk: b[index] for pk, b in per_model(record, "battles").items()} == expected
    assert sum(v[0] for v in per_model(record, "votes").values()) == 2 * 12
    assert sum(v[1] for v in per_model(record, "votes").values()) == 2 * 18


def test_flagged_votes_are_left_out_with_their_reason_as_the_admin_counts_them(admin_client):
    make_arena()
    cast(10, voter="honest")
    cast(6, voter="one-sided")
    cast(3, voter="contrarian")
    for voter, reason in (
        ("one-sided", VoterFlag.Reason.ONE_SIDE),
        ("contrarian", VoterFlag.Reason.CONTRARIAN),
    ):
        VoterFlag.objects.create(voter=anonymous_id(voter), reason=reason, votes=1, detail="")
        Vote.objects.filter(voter=anonymous_id(voter)).update(flagged=True)

    record = record_of(Client())

    listed = admin_client.get("/admin/battles/vote/", {"arena__exact": "t2i", "flagged__exact": 1})
    assert listed.context["cl"].result_count == record.flagged == 9
    assert record.votes == 19
    assert record.flagged_share == pytest.approx(9 / 19)
    assert [(r.label, r.votes, r.voters) for r in record.reasons] == [
        (VoterFlag.Reason.ONE_SIDE.label, 6, 1),
        (VoterFlag.Reason.CONTRARIAN.label, 3, 1),
    ]
    counted = sum(votes[1] for votes in per_model(record, "votes").values())
    assert counted == 2 * 10  # as the vote files and the ratings count them


def test_the_left_side_advantage_is_the_last_refits(settings):
    settings.ARENA_MIN_VOTES = 1
    make_arena()
    cast(20)
    ratings_refresh()
    run = RatingRun.objects.board(Arena.T2I).first()

    response = Client().get(URL)

    record = next(r for r in response.context["records"] if r.arena == Arena.T2I)
    assert record.run == run
    assert f"<strong>{run.left_advantage:.1f}</strong>" in response.content.decode()


def test_a_live_battle_is_counted_only_once_it_is_voted_on_or_expires():
    make_arena()
    before = per_model(record_of(Client()), "battles")

    visitor = Client()
    battle = open_battle(visitor)  # on screen, not voted on: its models are a secret
    reset_shared_state()
    live = record_of(Client())

    assert per_model(live, "battles") == before
    Battle.objects.filter(pk=battle.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    reset_shared_state()
    expired = per_model(record_of(Client()), "battles")
    assert expired[battle.left.model_id] == (1, 1)
    assert expired[battle.right.model_id] == (1, 1)


def test_the_record_takes_a_fixed_number_of_queries(settings, django_assert_num_queries):
    settings.ARENA_MIN_VOTES = 1
    small = make_arena(models=2, prompts=1)
    cast(3, voter="a")
    ratings_refresh()
    reset_shared_state()
    with django_assert_num_queries(RECORD_QUERIES):
        Client().get(URL)

    make_arena(models=5, prompts=4)
    for i in range(20):
        cast(2, voter=f"b{i}")
    VoterFlag.objects.create(voter=anonymous_id("a"), reason="one_side", votes=3, detail="")
    Vote.objects.filter(voter=anonymous_id("a")).update(flagged=True)
    ratings_refresh()
    reset_shared_state()
    with django_assert_num_queries(RECORD_QUERIES):
        response = Client().get(URL)
    with django_assert_num_queries(RECORD_QUERIES - 6):  # the counts come from the cache
        Client().get(URL)
    assert len(response.context["records"][0].competing) == 7
    assert small[0].name in response.content.decode()


def test_the_counts_are_kept_for_a_minute_and_say_when_they_were_made():
    make_arena()
    cast(2)
    first = Client().get(URL)
    cast(2, voter="later")

    again = Client().get(URL)
    assert again.context["counted_at"] == first.context["counted_at"]
    assert again.context["records"][0].models == first.context["records"][0].models
    cache.delete(RECORD_CACHE_KEY)
    recounted = Client().get(URL)
    assert recounted.context["counted_at"] > first.context["counted_at"]
    assert sum(row.votes[0] for row in recounted.context["records"][0].models) == 2 * 4


def test_the_leaderboard_links_to_the_sampling_record():
    response = Client().get("/leaderboard/t2i/")

    assert f'href="{URL}"'.encode() in response.content


def test_the_record_renders_before_any_vote_or_model():
    response = Client().get(URL)

    assert response.status_code == 200
    assert b"Sampling record" in response.content
