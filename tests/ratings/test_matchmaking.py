"""The matchmaking sampler: which prompt and which two models a visitor sees next."""

from collections import Counter

import numpy as np
import pytest

from arena.battles.sampling import battle_pool, choose_battle
from arena.ratings.pairing import pair_weights

NAN = float("nan")


def settled_weights(rating, half_width=20.0, votes=1_000):
    rating = np.asarray(rating, dtype=float)
    return pair_weights(
        rating,
        rating - half_width,
        rating + half_width,
        np.full(len(rating), votes),
        settled_votes=300,
    )


def draw_many(pool, shown, count, *, seed=0, last=None, exploration=0.2):
    rng = np.random.default_rng(seed)
    return [
        choose_battle(pool, shown, rng=rng, last=last, exploration=exploration)
        for _ in range(count)
    ]


def test_a_model_is_never_paired_with_itself():
    rng = np.random.default_rng(1)
    available = rng.random((30, 6)) < 0.5
    pool = battle_pool(settled_weights([1000, 1010, 990, 1200, 800, 1005]), available)
    for prompt, left, right in filter(None, draw_many(pool, np.zeros(30), 3_000)):
        assert left != right
        assert available[prompt, left]
        assert available[prompt, right]


def test_the_visitors_last_prompt_and_pair_are_never_shown_again_in_a_row():
    available = np.array([[True, True, True], [True, True, False]])
    weights = settled_weights([1000, 1001, 1500])  # (0, 1) is by far the heaviest pair
    pool = battle_pool(weights, available)
    for last in [(0, 0, 1), (0, 1, 0), (1, 1, 0)]:
        for prompt, left, right in draw_many(pool, np.zeros(2), 500, last=last):
            assert (prompt, {left, right}) != (last[0], {last[1], last[2]})


def test_no_battle_when_the_only_one_possible_was_just_shown():
    pool = battle_pool(settled_weights([1000, 1100]), np.array([[True, True]]))
    rng = np.random.default_rng(2)
    assert choose_battle(pool, np.zeros(1), rng=rng, last=(0, 1, 0)) is None
    assert choose_battle(pool, np.zeros(1), rng=rng) in [(0, 0, 1), (0, 1, 0)]


def test_no_battle_without_a_prompt_that_has_two_images():
    pool = battle_pool(settled_weights([1000, 1100]), np.array([[True, False], [False, True]]))
    assert choose_battle(pool, np.zeros(2), rng=np.random.default_rng(3)) is None


def test_a_new_model_gets_more_than_its_uniform_share():
    rating = np.array([1000, 1050, 950, 1100, 900, 1000, NAN])
    votes = np.array([2_000] * 6 + [0])
    low, high = rating - 15, rating + 15
    pool = battle_pool(pair_weights(rating, low, high, votes, settled_votes=300), np.ones((20, 7)))
    battles = draw_many(pool, np.zeros(20), 4_000)
    share = np.mean([6 in (left, right) for _, left, right in battles])
    assert share > 2 * (2 / 7)


def test_close_and_uncertain_pairs_weigh_more_than_settled_ones():
    weights = pair_weights(
        np.array([1000, 1005, 1300, 1000]),
        np.array([990, 995, 1290, 900]),
        np.array([1010, 1015, 1310, 1100]),
        np.full(4, 1_000),
        settled_votes=300,
    )
    assert weights[0, 1] > 10 * weights[0, 2]  # a toss-up against a clear gap
    assert weights[0, 3] > weights[0, 1]  # same gap, far wider interval
    np.testing.assert_array_equal(weights, weights.T)
    assert (np.diag(weights) == 0).all()


def test_every_possible_battle_keeps_an_exploration_share():
    available = np.array([[True, True, True, True], [True, False, True, False]])
    # (0, 1) is a toss-up; every other pair is hundreds of points apart and tightly known.
    pool = battle_pool(settled_weights([1000, 1000, 1600, 2200], half_width=2), available)
    battles = Counter(
        (prompt, min(left, right), max(left, right))
        for prompt, left, right in draw_many(pool, np.zeros(2), 6_000)
    )
    possible = {(0, a, b) for a in range(4) for b in range(a + 1, 4)} | {(1, 0, 2)}
    assert set(battles) == possible
    assert battles[(0, 0, 1)] > 0.5 * sum(battles.values())


def test_without_exploration_only_weighted_battles_are_drawn():
    available = np.ones((1, 4), dtype=bool)
    weights = np.zeros((4, 4))
    weights[1, 2] = weights[2, 1] = 1.0
    battles = draw_many(battle_pool(weights, available), np.zeros(1), 200, exploration=0.0)
    assert {frozenset((left, right)) for _, left, right in battles} == {frozenset((1, 2))}


def test_prompts_shown_less_come_up_more():
    pool = battle_pool(settled_weights([1000, 1010, 1020]), np.ones((2, 3), dtype=bool))
    prompts = Counter(prompt for prompt, _, _ in draw_many(pool, np.array([0.0, 50.0]), 3_000))
    assert prompts[0] > 3 * prompts[1]


def test_sides_are_random():
    pool = battle_pool(settled_weights([1000, 1010]), np.ones((1, 2), dtype=bool))
    lefts = Counter(left for _, left, _ in draw_many(pool, np.zeros(1), 2_000))
    assert lefts[0] == pytest.approx(1_000, rel=0.1)
