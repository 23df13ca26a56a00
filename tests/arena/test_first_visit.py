"""A fair first visit: on a board like the demo's, a new visitor's first battles show the top
models too, and no model more than twice in their first five battles in an arena.

The finding this reproduces: after the demo's simulated votes, 19 of a new visitor's first
20 text-to-image battles paired only the three weakest built-in models, and the best never
appeared. The sampler spends votes where pairs are close and uncertain, and at the bottom of
the demo's board ties and "both bad" keep the ratings close.
"""

import random
from collections import Counter

import numpy as np
import pytest

from arena.battles import matchmaking
from arena.battles.services import battle_create, vote_record
from arena.catalog.models import Arena
from arena.pages.management.commands.seed_demo import TRUE_STRENGTH, simulated_choice
from arena.ratings.models import Rating
from arena.ratings.services import ratings_refresh
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db

# The demo's text-to-image models, best first.
DEMO_MODELS = ["lumen-xl", "prism-2", "sketchbook", "palette", "blockworld", "daydream"]
WEAKEST = set(DEMO_MODELS[3:])
NEW_VISITORS = 20


@pytest.fixture
def demo_board(settings, monkeypatch):
    """Six prompts, the demo's six models, and about as many simulated votes as the demo's
    text-to-image arena gets, from the demo's simulated voters; then the refit.

    The simulated voters' battles are drawn from a seeded generator, so the board is the same
    every run (unseeded, about one run in a hundred ranked prism-2 above lumen-xl); the new
    visitors' battles afterwards are drawn as on the site."""
    settings.ARENA_MIN_VOTES = 30
    seeded = np.random.default_rng(7)
    monkeypatch.setattr(matchmaking.np.random, "default_rng", lambda: seeded)
    models = [AIModelFactory(slug=slug) for slug in DEMO_MODELS]
    for _ in range(6):
        prompt = PromptFactory()
        for model in models:
            GenerationFactory(prompt=prompt, model=model)
    rng = random.Random(7)
    for _ in range(420):
        voter = f"seed-demo-voter-{rng.randrange(60)}"
        battle = battle_create(arena=Arena.T2I, session_key=voter)
        choice = simulated_choice(battle.left.model.slug, battle.right.model.slug, rng)
        vote_record(token=battle.token, session_key=voter, choice=choice)
    monkeypatch.undo()
    ratings_refresh()
    board = Rating.objects.leaderboard(Arena.T2I).values_list("model__slug", flat=True)
    assert list(board)[:3] == DEMO_MODELS[:3]
    assert set(TRUE_STRENGTH) >= set(DEMO_MODELS)
    return models


def first_battles(count):
    """Each new visitor's first `count` text-to-image battles, as pairs of model slugs."""
    return [
        [
            (battle.left.model.slug, battle.right.model.slug)
            for battle in (
                battle_create(arena=Arena.T2I, session_key=f"new-visitor-{visitor}")
                for _ in range(count)
            )
        ]
        for visitor in range(NEW_VISITORS)
    ]


def test_no_model_appears_more_than_twice_in_a_new_visitors_first_five_battles(demo_board):
    for battles in first_battles(5):
        appearances = Counter(slug for pair in battles for slug in pair)
        assert max(appearances.values()) <= 2, battles


def test_a_new_visitors_first_battles_include_the_top_models(demo_board):
    visits = first_battles(5)
    battles = [pair for visit in visits for pair in visit]

    # Measured on this board: about 40% of the battles pair only the three weakest (95% in
    # the finding; 20% under uniform pairing), the best is in a quarter of them, and nine
    # new visitors in ten meet it in their first five battles.
    only_weakest = sum(set(pair) <= WEAKEST for pair in battles)
    assert only_weakest < 0.6 * len(battles)
    for slug in DEMO_MODELS[:3]:
        assert sum(slug in pair for pair in battles) > 0.1 * len(battles), slug
    met_the_best = sum(any(DEMO_MODELS[0] in pair for pair in visit) for visit in visits)
    assert met_the_best >= NEW_VISITORS // 2


def test_variety_yields_when_every_battle_left_would_repeat_a_model_a_third_time():
    prompt = PromptFactory()
    models = [AIModelFactory() for _ in range(3)]
    for model in models:
        GenerationFactory(prompt=prompt, model=model)

    # Three models make three pairs: once each has been shown, every model has been seen
    # twice, and the fourth battle must show one a third time rather than none.
    battles = [battle_create(arena=Arena.T2I, session_key="newcomer") for _ in range(5)]

    pairs = [frozenset((battle.left.model_id, battle.right.model_id)) for battle in battles]
    assert len(set(pairs[:3])) == 3
    assert len(pairs) == matchmaking.VARIETY_BATTLES
