"""Matchmaking through the sampler: valid pairs, no immediate repeats, fresh after curation."""

import numpy as np
import pytest

from arena.battles.matchmaking import battle_pick
from arena.battles.services import battle_create
from arena.catalog.models import AIModel
from arena.catalog.services import model_set_active
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
