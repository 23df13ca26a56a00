"""Fifty visitors voting at the same moment: no lost update, ratings conserved."""

import random
import threading

import pytest
from django.db import connection

from arena.battles.elo import ELO_START
from arena.battles.models import EloRating, Vote
from arena.battles.services import battle_create, vote_record
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

VOTERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_votes_lose_nothing_and_conserve_the_rating_sum():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (SQLite serialises writers)")
    models = [AIModelFactory() for _ in range(4)]
    prompt = PromptFactory()
    for model in models:
        GenerationFactory(prompt=prompt, model=model)
    battles = [battle_create(arena="t2i", session_key=f"voter-{i}") for i in range(VOTERS)]
    rng = random.Random(1)
    choices = [rng.choice(["left", "right", "tie", "both_bad"]) for _ in battles]
    start = threading.Barrier(VOTERS)
    errors = []

    def vote(i: int) -> None:
        try:
            start.wait()
            vote_record(token=battles[i].token, session_key=f"voter-{i}", choice=choices[i])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(VOTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Vote.objects.count() == VOTERS
    ratings = list(EloRating.objects.filter(arena="t2i"))
    assert sum(r.rating for r in ratings) == pytest.approx(1000.0 * len(ratings))
    assert sum(r.votes for r in ratings) == 2 * VOTERS
    # Each vote saw the ratings the previous vote on the same model left behind.
    last_seen: dict[int, float] = {}
    for vote_row in Vote.objects.order_by("pk"):
        for model_id, before, after in (
            (vote_row.left_model_id, vote_row.left_elo_before, vote_row.left_elo_after),
            (vote_row.right_model_id, vote_row.right_elo_before, vote_row.right_elo_after),
        ):
            assert before == pytest.approx(last_seen.get(model_id, ELO_START))
            last_seen[model_id] = after
    assert {r.model_id: r.rating for r in ratings} == pytest.approx(last_seen)
