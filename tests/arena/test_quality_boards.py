"""Per-quality leaderboards: fitted by the same engine from the answers to the questions after
the vote, flagged voters left out, their own vote files reproducible with `ratings_compute`,
their own tabs on the leaderboard, and where the two questions disagree on the main board."""

import io
import json
import random
import urllib.parse

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.battles.models import QualityVote, Vote
from arena.battles.outcomes import OUTCOMES, Choice
from arena.ratings import engine
from arena.ratings.models import Rating, RatingRun
from arena.ratings.services import (
    quality_ratings_recompute,
    ratings_recompute,
    ratings_refresh,
    votes_publish,
)
from arena.ratings.votefile import FIELDS
from tests.arena.helpers import votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db

# Which image follows the prompt better, and which looks better: two opposite orders, so the
# two boards disagree most about the models at either end.
ADHERENCE = {"ace": 1300, "good": 1150, "fair": 1000, "poor": 850}
AESTHETICS = {"poor": 1300, "fair": 1150, "good": 1000, "ace": 850}
BATTLES = 600


def picked(rng: random.Random, strength: dict[str, int], left: str, right: str) -> str:
    if rng.random() < 0.08:
        return "tie"
    p_left = 1 / (1 + 10 ** ((strength[right] - strength[left]) / 400))
    return "left" if rng.random() < p_left else "right"


@pytest.fixture
def answered(settings):
    """BATTLES text-to-image votes by 40 voters; most answer both questions, some one, some
    none. Written in bulk: the answering itself is proven in test_quality_vote.py."""
    settings.ARENA_MIN_VOTES = 20
    rng = random.Random(12)
    prompt = PromptFactory()
    generations = [
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=s)) for s in ADHERENCE
    ]
    rows = []
    for i in range(BATTLES):
        left, right = rng.sample(generations, 2)
        rows.append((left, right, rng.choice(["left", "right", "tie"]), f"voter-{i % 40}"))
    votes = votes_bulk(rows)
    answers = []
    for vote in votes:
        left, right = vote.battle.left.model.slug, vote.battle.right.model.slug
        for quality, strength in (("adherence", ADHERENCE), ("aesthetics", AESTHETICS)):
            if rng.random() < 0.85:
                choice = picked(rng, strength, left, right)
                answers.append(
                    QualityVote(
                        battle=vote.battle, quality=quality, choice=choice, voter=vote.voter
                    )
                )
    QualityVote.objects.bulk_create(answers)
    return votes


def expected_rows(settings, quality: str, *, flagged: bool = False) -> list[dict]:
    """The engine's rows on the answers, counted here without the database."""
    answers = QualityVote.objects.filter(quality=quality, battle__vote__flagged=flagged)
    rows = list(
        answers.values_list("battle__left__model__slug", "battle__right__model__slug", "choice")
    )
    models = sorted({slug for left, right, _ in rows for slug in (left, right)})
    index = {slug: i for i, slug in enumerate(models)}
    counts = engine.count_votes(
        models,
        np.array([index[left] for left, _, _ in rows]),
        np.array([index[right] for _, right, _ in rows]),
        np.array([OUTCOMES[Choice(choice)].code for _, _, choice in rows]),
    )
    return engine.compute_leaderboard(
        counts,
        bootstrap=settings.ARENA_BOOTSTRAP_ROUNDS,
        seed=settings.ARENA_RATINGS_SEED,
        min_votes=settings.ARENA_MIN_VOTES,
    ).rows()


def stored(quality: str) -> dict[str, tuple]:
    return {
        row.model.slug: (row.rating, row.ci_low, row.ci_high, row.rank, row.votes, row.preliminary)
        for row in Rating.objects.leaderboard("t2i", quality=quality)
    }


def as_stored(rows: list[dict]) -> dict[str, tuple]:
    keys = ("rating", "ci_low", "ci_high", "rank", "votes", "preliminary")
    return {row["model"]: tuple(row[key] for key in keys) for row in rows}


@pytest.mark.parametrize("quality", ["adherence", "aesthetics"])
def test_a_quality_board_is_the_engines_fit_of_its_answers(answered, settings, quality):
    run = quality_ratings_recompute(arena="t2i", quality=quality)

    assert stored(quality) == as_stored(expected_rows(settings, quality))
    assert run.votes == QualityVote.objects.filter(quality=quality).count()
    assert (run.arena, run.quality, run.category) == ("t2i", quality, "")
    assert not Rating.objects.board("t2i").exists()  # the main board is not touched


def test_each_board_ranks_the_models_by_its_own_question(answered):
    for quality in ("adherence", "aesthetics"):
        quality_ratings_recompute(arena="t2i", quality=quality)

    by = {
        quality: list(
            Rating.objects.leaderboard("t2i", quality=quality).values_list(
                "model__slug", flat=True
            )
        )
        for quality in ("adherence", "aesthetics")
    }
    assert by["adherence"] == ["ace", "good", "fair", "poor"]
    assert by["aesthetics"] == ["poor", "fair", "good", "ace"]


def test_flagged_voters_answers_are_left_out_like_their_votes(answered, settings):
    Vote.objects.filter(voter__in=[vote.voter for vote in answered[:5]]).update(flagged=True)
    flagged = QualityVote.objects.filter(quality="adherence", battle__vote__flagged=True).count()
    assert flagged > 0

    run = quality_ratings_recompute(arena="t2i", quality="adherence")

    assert run.flagged_votes == flagged
    assert run.votes == QualityVote.objects.filter(quality="adherence").count() - flagged
    assert stored("adherence") == as_stored(expected_rows(settings, "adherence"))


def test_ratings_compute_on_a_quality_export_prints_the_boards_numbers(answered, tmp_path):
    Vote.objects.filter(voter=answered[0].voter).update(flagged=True)
    quality_ratings_recompute(arena="t2i", quality="aesthetics")
    export = tmp_path / "votes-t2i-aesthetics.jsonl"
    call_command(
        "export_votes", "--arena", "t2i", "--quality", "aesthetics", "--output", str(export)
    )
    out = io.StringIO()

    call_command("ratings_compute", "--votes", str(export), stdout=out)

    printed = {row["model"]: row for row in json.loads(out.getvalue())}
    assert as_stored(list(printed.values())) == stored("aesthetics")
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert len(lines) == RatingRun.objects.get(quality="aesthetics").votes
    assert tuple(lines[0]) == FIELDS  # the main vote files' format, field for field
    assert all(line["judge"].startswith("arena_user_") for line in lines)
    assert {line["winner"] for line in lines} == {"model_a", "model_b", "tie"}


def test_the_refresh_fits_the_questions_people_answered(answered):
    ratings_refresh()

    boards = set(RatingRun.objects.values_list("arena", "quality"))
    # Nobody answered in the editing arena: its questions get no empty runs.
    assert boards == {("t2i", ""), ("t2i", "adherence"), ("t2i", "aesthetics"), ("edit", "")}
    assert Rating.objects.board("t2i", quality="adherence").count() == 4


def test_a_board_whose_answers_are_gone_is_fitted_again_empty(answered):
    quality_ratings_recompute(arena="t2i", quality="adherence")
    QualityVote.objects.all().delete()

    ratings_refresh()

    assert not Rating.objects.board("t2i", quality="adherence").exists()
    assert RatingRun.objects.board("t2i", quality="adherence").first().votes == 0


def test_the_nightly_files_include_one_per_question(answered, settings):
    settings.DEBUG = True

    names = votes_publish()

    assert "exports/votes-t2i-adherence.jsonl" in names
    assert "exports/votes-edit-preservation.jsonl" in names
    page = Client().get("/leaderboard/data/").content.decode()
    assert 'href="/media/exports/votes-t2i-aesthetics.jsonl"' in page
    assert "<td>Looks better</td>" in page


def test_the_leaderboard_offers_each_questions_board(answered):
    ratings_refresh()
    client = Client()

    page = client.get("/leaderboard/t2i/?quality=aesthetics").content.decode()
    partial = client.get(
        "/leaderboard/t2i/?quality=adherence", headers={"HX-Request": "true"}
    ).content.decode()

    assert '<a role="tab" href="/leaderboard/t2i/?quality=adherence"' in page
    assert 'hx-get="/leaderboard/t2i/?quality=adherence"' in page
    assert 'href="/leaderboard/t2i/?quality=aesthetics" aria-selected="true"' in page
    assert "Which image looks better?" in page
    assert page.index("/models/poor/") < page.index("/models/ace/")
    assert "<html" not in partial
    assert partial.index("/models/ace/") < partial.index("/models/poor/")


def test_the_main_board_lists_models_the_two_questions_rank_apart(answered):
    ratings_refresh()

    page = Client().get("/leaderboard/t2i/").content.decode()

    section = page[page.index('class="disagreement"') :]
    assert "Follows the prompt or looks better?" in section
    listed = {slug for slug in ADHERENCE if f'data-model="{slug}"' in section}
    assert listed == {"ace", "poor"}  # ranked 1 and 4, 4 and 1; good and fair are one apart


def test_a_question_without_answers_says_so(answered):
    ratings_refresh()

    page = Client().get("/leaderboard/edit/?quality=preservation").content.decode()

    assert (
        "No answers to “Which edit keeps the untouched parts of the picture better?” yet" in page
    )


@pytest.mark.parametrize("query", ["quality=beauty", "quality=preservation", "quality=%00"])
def test_an_unknown_question_board_is_a_400_with_a_sentence(query):
    response = Client().get(f"/leaderboard/t2i/?{query}")
    partial = Client().get(f"/leaderboard/t2i/?{query}", headers={"HX-Request": "true"})

    assert response.status_code == partial.status_code == 400
    assert "The Text-to-Image arena asks no question by that name" in response.content.decode()
    assert partial.content.decode().lstrip().startswith('<section id="board"')


def test_the_main_refit_is_unchanged_by_the_answers(answered, settings):
    run = ratings_recompute(arena="t2i")

    assert run.votes == BATTLES
    assert run.quality == ""


@settings(max_examples=40, deadline=None)
@given(query=st.binary(max_size=40), htmx=st.booleans())
def test_the_leaderboard_takes_any_query_string(query, htmx):
    response = Client().get(
        f"/leaderboard/edit/?quality={urllib.parse.quote_from_bytes(query, safe='=&;%+')}",
        headers={"HX-Request": "true"} if htmx else {},
    )

    assert response.status_code in (200, 400)
