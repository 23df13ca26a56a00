"""A fair sampler: pairs near the top count more, every model keeps a floor share of battles,
and models a visitor has seen enough of can be left out of their next battle."""

from collections import Counter

import numpy as np
import pytest

from arena.battles.sampling import battle_pool, choose_battle
from arena.ratings.pairing import pair_weights

NAN = float("nan")
# A board like the demo's after some 400 votes: the top three clearly apart, the bottom three
# close together (ties and "both bad" keep their ratings close), every interval alike.
DEMO_RATINGS = np.array([1277.0, 1109.0, 1002.0, 916.0, 868.0, 829.0])
DEMO_HALF_WIDTHS = np.array([62.0, 52.0, 50.0, 47.0, 48.0, 46.0])


def demo_weights():
    return pair_weights(
        DEMO_RATINGS,
        DEMO_RATINGS - DEMO_HALF_WIDTHS,
        DEMO_RATINGS + DEMO_HALF_WIDTHS,
        np.full(6, 140),
    )


def battle_shares(pool, count, *, seed=0, excluded=None):
    """Each model's share of `count` drawn battles."""
    rng = np.random.default_rng(seed)
    prompts = pool.available.shape[0]
    appearances = Counter()
    for _ in range(count):
        _, left, right = choose_battle(pool, np.zeros(prompts), rng=rng, excluded=excluded)
        appearances.update([left, right])
    return np.array([appearances[i] for i in range(pool.available.shape[1])]) / count


def test_a_toss_up_near_the_top_outweighs_the_same_toss_up_at_the_bottom():
    rating = np.array([1300.0, 1290.0, 1100.0, 1000.0, 900.0, 710.0, 700.0])
    weights = pair_weights(rating, rating - 30, rating + 30, np.full(7, 1_000))

    assert weights[0, 1] > 1.5 * weights[5, 6]  # same gap, same intervals, ranks 1-2 vs 6-7


def test_pair_weights_are_symmetric_to_the_last_bit():
    rng = np.random.default_rng(4)
    rating = rng.normal(1000, 100, 12)
    half_width = rng.uniform(5, 80, 12)
    votes = rng.integers(0, 600, 12)  # new and settled models: boosts of every size

    weights = pair_weights(rating, rating - half_width, rating + half_width, votes)

    np.testing.assert_array_equal(weights, weights.T)


def test_a_model_not_rated_yet_takes_no_place_from_the_rated_ones():
    rating = np.array([1300.0, 1290.0, 1000.0])
    votes = np.full(3, 1_000)
    alone = pair_weights(rating, rating - 30, rating + 30, votes)
    joined = pair_weights(
        np.append(rating, NAN), np.append(rating - 30, NAN), np.append(rating + 30, NAN),
        np.append(votes, 0),
    )  # fmt: skip

    np.testing.assert_allclose(joined[:3, :3], alone)


def test_on_the_demos_board_the_plan_alone_hides_the_best_model():
    pool = battle_pool(demo_weights(), np.ones((12, 6), dtype=bool))

    shares = battle_shares(pool, 4_000)

    assert shares[0] < 0.06  # the finding: the best model is in almost no battle
    assert shares[3:].sum() > 1.5  # the bottom three fill most of them


@pytest.mark.parametrize("floor_share", [0.25, 0.5])
def test_every_model_gets_its_floor_share_of_battles(floor_share):
    pool = battle_pool(demo_weights(), np.ones((12, 6), dtype=bool), floor_share=floor_share)

    shares = battle_shares(pool, 6_000)

    floor = floor_share * 2 / 6
    assert shares.min() > 0.9 * floor
    assert shares[0] < 1.5 * floor  # the floor lifts the best model to it, not far past it
    assert shares[3:].sum() > shares[:3].sum()  # the plan still leads the rest


def test_the_floor_adds_no_battles_where_every_model_already_has_its_share():
    pool = battle_pool(np.ones((6, 6)) - np.eye(6), np.ones((12, 6), dtype=bool), floor_share=0.5)

    assert pool.floor_rate == 0.0


def test_the_pools_shares_are_the_shares_it_draws():
    rng = np.random.default_rng(5)
    available = rng.random((20, 6)) < 0.7
    pool = battle_pool(demo_weights(), available, floor_share=0.5)

    np.testing.assert_allclose(battle_shares(pool, 20_000, seed=6), pool.shares(), atol=0.02)


def test_a_model_with_images_for_few_prompts_still_gets_its_floor():
    available = np.ones((30, 6), dtype=bool)
    available[3:, 0] = False  # the best model has images for 3 prompts of 30
    pool = battle_pool(demo_weights(), available, floor_share=0.5)

    assert battle_shares(pool, 6_000)[0] > 0.9 * 0.5 * 2 / 6


def test_excluded_models_are_never_drawn():
    pool = battle_pool(demo_weights(), np.ones((12, 6), dtype=bool), floor_share=0.5)
    excluded = np.array([False, False, False, True, True, False])

    shares = battle_shares(pool, 2_000, excluded=excluded)

    assert shares[3] == shares[4] == 0.0
    assert shares[0] > 0.0


def test_excluding_models_draws_as_a_pool_without_them_would():
    rng = np.random.default_rng(7)
    available = rng.random((15, 6)) < 0.8
    excluded = np.array([False, True, False, False, True, False])
    weights = demo_weights()
    with_exclusion = battle_pool(weights, available)
    without_them = battle_pool(weights, available & ~excluded)

    first, second = np.random.default_rng(8), np.random.default_rng(8)
    shown = rng.integers(0, 5, 15)
    for _ in range(300):
        last = (3, 0, 2)
        assert choose_battle(
            with_exclusion, shown, rng=first, last=last, excluded=excluded
        ) == choose_battle(without_them, shown, rng=second, last=last)


def test_no_battle_when_the_exclusions_leave_none():
    pool = battle_pool(demo_weights(), np.ones((2, 6), dtype=bool), floor_share=0.5)
    excluded = np.array([True, True, True, True, True, False])

    assert (
        choose_battle(pool, np.zeros(2), rng=np.random.default_rng(9), excluded=excluded) is None
    )
