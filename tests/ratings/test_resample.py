"""The bootstrap's multinomial resampling of the count table."""

import numpy as np

from arena.ratings.resample import multinomial_rounds


def test_every_round_keeps_the_number_of_votes_and_empty_cells_stay_empty():
    counts = np.array([5, 0, 120, 3, 0, 872])
    draws = multinomial_rounds(counts, 200, np.random.default_rng(1))
    assert (draws.sum(axis=1) == counts.sum()).all()
    assert (draws[:, counts == 0] == 0).all()


def test_rounds_have_the_multinomial_mean_and_variance():
    counts = np.array([10, 40, 150, 300, 500])
    total = counts.sum()
    p = counts / total
    draws = multinomial_rounds(counts, 20_000, np.random.default_rng(2))
    np.testing.assert_allclose(draws.mean(axis=0), total * p, rtol=0.02)
    np.testing.assert_allclose(draws.var(axis=0), total * p * (1 - p), rtol=0.05)
    # Cells of one multinomial are negatively correlated: cov = -N p_i p_j.
    covariance = np.cov(draws[:, 2], draws[:, 4])[0, 1]
    assert abs(covariance + total * p[2] * p[4]) < 0.1 * total * p[2] * p[4]


def test_tiny_tables_are_resampled_exactly_too():
    draws = multinomial_rounds(np.array([1, 1]), 4_000, np.random.default_rng(3))
    assert set(map(tuple, draws)) == {(2, 0), (1, 1), (0, 2)}
    assert abs((draws[:, 0] == 1).mean() - 0.5) < 0.03


def test_the_same_generator_state_gives_the_same_rounds():
    counts = np.array([7, 9, 30])
    first = multinomial_rounds(counts, 10, np.random.default_rng(4))
    again = multinomial_rounds(counts, 10, np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
