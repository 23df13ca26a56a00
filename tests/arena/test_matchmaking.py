"""Matchmaking through the sampler: valid pairs, no immediate repeats, fresh after curation."""

import threading

import numpy as np
import pytest
from django.db import connection, transaction

from arena.battles import matchmaking
from arena.battles.matchmaking import battle_pick
from arena.battles.models import EloRating
from arena.battles.services import battle_create, vote_record
from arena.catalog.models import AIModel
from arena.catalog.services import model_set_active
from arena.ratings.models import Rating
from arena.ratings.pairing import pair_weights
from arena.ratings.services import ratings_recompute
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def arena():
    models = [AIModelFactory() for _ in range(4)]
    prompts = [PromptFactory() for _ in range(3)]
    for prompt in prompts:
        for model in models:
            GenerationFactory(prompt=prompt, model=model)
    return prompts, models


def test_pairs_are_two_different_models_on_one_prompt(arena):
    rng = np.random.default_rng(0)
    for _ in range(200):
        left, right = battle_pick(arena="t2i", session_key="v", rng=rng)
        assert left.prompt_id == right.prompt_id
        assert left.model_id != right.model_id


def test_a_visitor_never_gets_the_same_prompt_and_pair_twice_in_a_row(arena):
    previous = None
    for _ in range(150):
        battle = battle_create(arena="t2i", session_key="visitor")
        current = (battle.prompt_id, frozenset({battle.left.model_id, battle.right.model_id}))
        assert current != previous
        previous = current


def test_every_possible_battle_comes_up(arena):
    prompts, _ = arena
    seen = set()
    rng = np.random.default_rng(1)
    for _ in range(800):
        left, right = battle_pick(arena="t2i", session_key="v", rng=rng)
        seen.add((left.prompt_id, frozenset({left.model_id, right.model_id})))
    assert len(seen) == len(prompts) * 6  # 3 prompts x C(4, 2) pairs


def test_the_only_possible_battle_is_shown_again_rather_than_none():
    prompt = PromptFactory()
    for _ in range(2):
        GenerationFactory(prompt=prompt, model=AIModelFactory())

    first = battle_create(arena="t2i", session_key="visitor")
    second = battle_create(arena="t2i", session_key="visitor")

    assert {first.left_id, first.right_id} == {second.left_id, second.right_id}


def test_a_retired_model_leaves_the_battles_at_once(arena):
    _, models = arena
    battle_pick(arena="t2i", session_key="v")  # the pool is built with all four models
    model_set_active(model_ids=[models[0].pk], active=False)

    rng = np.random.default_rng(2)
    for _ in range(100):
        left, right = battle_pick(arena="t2i", session_key="v", rng=rng)
        assert models[0].pk not in {left.model_id, right.model_id}
    assert not AIModel.objects.get(pk=models[0].pk).active


def test_each_side_shows_one_of_its_renditions_at_random():
    prompt = PromptFactory()
    models = [AIModelFactory() for _ in range(2)]
    renditions = {
        model.pk: {GenerationFactory(prompt=prompt, model=model, rendition=r).pk for r in range(3)}
        for model in models
    }
    shown = {model.pk: set() for model in models}
    rng = np.random.default_rng(3)
    for _ in range(60):
        for generation in battle_pick(arena="t2i", session_key="v", rng=rng):
            shown[generation.model_id].add(generation.pk)
    assert shown == renditions


def test_a_visitor_meets_every_rendition_before_seeing_one_again():
    prompt = PromptFactory()
    models = [AIModelFactory() for _ in range(2)]
    for model in models:
        for rendition in range(3):
            GenerationFactory(prompt=prompt, model=model, rendition=rendition)

    shown = []
    for _ in range(3):
        battle = battle_create(arena="t2i", session_key="memoriser")
        shown += [battle.left_id, battle.right_id]

    assert len(set(shown)) == 6  # three battles, six different images
    fourth = battle_create(arena="t2i", session_key="memoriser")
    assert {fourth.left_id, fourth.right_id} <= set(shown)  # only then does one come back


@pytest.mark.django_db(transaction=True)
def test_a_pool_rebuilt_while_a_retirement_commits_is_rebuilt_once_it_has(arena):
    _, models = arena

    def rebuild_elsewhere() -> None:
        # Another request, on its own connection, builds its pool before the retirement
        # commits: it still sees the model, under the version the retirement has just set.
        battle_pick(arena="t2i", session_key="other")
        connection.close()

    with transaction.atomic():
        model_set_active(model_ids=[models[0].pk], active=False)
        other = threading.Thread(target=rebuild_elsewhere)
        other.start()
        other.join()

    rng = np.random.default_rng(4)
    for _ in range(100):
        left, right = battle_pick(arena="t2i", session_key="v", rng=rng)
        assert models[0].pk not in {left.model_id, right.model_id}


def test_battles_draw_from_the_pairing_plan_the_refit_wrote(arena, settings):
    settings.ARENA_MIN_VOTES = 1
    prompts, models = arena
    for i in range(40):
        battle = battle_create(arena="t2i", session_key=f"voter-{i}")
        winner = "left" if battle.left.model_id == models[0].pk else "right"
        vote_record(token=battle.token, session_key=f"voter-{i}", choice=winner)
    ratings_recompute(arena="t2i")
    newcomer = AIModelFactory()  # joins after the refit: no rating, no votes
    for prompt in prompts:
        GenerationFactory(prompt=prompt, model=newcomer)

    battle_pick(arena="t2i", session_key="v")  # builds the pool with the newcomer

    pool = matchmaking._pools["t2i"]
    ids = sorted(pool.models, key=pool.models.get)
    rated = {row.model_id: row for row in Rating.objects.filter(arena="t2i")}
    votes = dict(EloRating.objects.filter(arena="t2i").values_list("model_id", "votes"))
    assert newcomer.pk in ids
    assert newcomer.pk not in rated

    def column(field):
        return np.array([getattr(rated[m], field) if m in rated else np.nan for m in ids])

    expected = pair_weights(
        column("rating"),
        column("ci_low"),
        column("ci_high"),
        np.array([votes.get(m, 0) for m in ids]),
    )
    np.testing.assert_allclose(pool.pool.weights, expected)
    assert len({round(w, 9) for w in expected[np.triu_indices(len(ids), 1)]}) > 1  # not uniform
