"""Bradley-Terry ratings: values, ties, position bias, reproducibility, intervals."""

import math

import numpy as np
import pytest

from arena.ratings import bt
from arena.ratings.engine import (
    A_WINS,
    B_WINS,
    BOTH_BAD,
    ELO_PER_LOGIT,
    TIE,
    compute_leaderboard,
    count_votes,
)
from tests.ratings.reference import logistic_fit
from tests.ratings.synthetic import bt_votes


def votes_from_table(rows: list[tuple[int, int, int, int]]) -> tuple[list[int], ...]:
    """(left, right, outcome) lists from (left, right, outcome, how many) rows."""
    left, right, outcome = [], [], []
    for a, b, code, times in rows:
        left += [a] * times
        right += [b] * times
        outcome += [code] * times
    return left, right, outcome


def by_model(board):
    return {row["model"]: row for row in board.rows()}


def test_two_models_are_apart_by_the_elo_gap_of_their_win_rate():
    # A wins 3 games in 4, with sides balanced so the left-side term is exactly zero.
    table = [(0, 1, A_WINS, 30_000), (0, 1, B_WINS, 10_000)]
    table += [(1, 0, B_WINS, 30_000), (1, 0, A_WINS, 10_000)]
    board = compute_leaderboard(count_votes(["a", "b"], *votes_from_table(table)))
    expected = 400 * math.log10(0.75 / 0.25)
    assert board.rating[0] - board.rating[1] == pytest.approx(expected, abs=1.0)
    assert board.rating.mean() == pytest.approx(1000.0)
    assert board.left_advantage == pytest.approx(0.0, abs=1e-6)


def test_a_tie_or_a_both_bad_vote_is_half_a_win_each_way():
    wins_only = [
        (0, 1, A_WINS, 300),
        (0, 1, B_WINS, 100),
        (1, 0, B_WINS, 300),
        (1, 0, A_WINS, 100),
    ]
    with_draws = [(0, 1, A_WINS, 200), (0, 1, TIE, 200), (1, 0, B_WINS, 200)]
    with_draws += [(1, 0, BOTH_BAD, 200)]
    plain = compute_leaderboard(count_votes(["a", "b"], *votes_from_table(wins_only)))
    drawn = compute_leaderboard(count_votes(["a", "b"], *votes_from_table(with_draws)))
    np.testing.assert_allclose(drawn.rating, plain.rating, atol=1e-6)


def test_fit_is_the_maximum_of_the_penalised_likelihood_on_raw_votes():
    rng = np.random.default_rng(3)
    strength = rng.normal(0, 150, 8)
    left, right, outcome = bt_votes(rng, strength, 5_000, left_advantage_elo=25, draw_share=0.2)
    board = compute_leaderboard(count_votes([f"m{i}" for i in range(8)], left, right, outcome))
    rating, advantage = logistic_fit(
        left, right, outcome, 8, left_term=True, prior_precision=bt.PRIOR_PRECISION
    )
    np.testing.assert_allclose(board.rating, rating, atol=0.01)
    assert board.left_advantage == pytest.approx(advantage, abs=0.01)


def test_vote_order_and_model_order_change_nothing():
    rng = np.random.default_rng(4)
    names = [f"model-{i}" for i in range(10)]
    left, right, outcome = bt_votes(rng, rng.normal(0, 100, 10), 3_000, draw_share=0.1)
    board = compute_leaderboard(count_votes(names, left, right, outcome), seed=7)

    shuffle = rng.permutation(len(left))
    renumber = rng.permutation(10)  # model i is now called names[i] at position renumber[i]
    renamed = [None] * 10
    for old, new in enumerate(renumber):
        renamed[new] = names[old]
    shuffled = count_votes(
        renamed, renumber[left[shuffle]], renumber[right[shuffle]], outcome[shuffle]
    )
    assert compute_leaderboard(shuffled, seed=7).rows() == board.rows()


def test_same_seed_gives_the_same_intervals_and_another_seed_others():
    rng = np.random.default_rng(5)
    counts = count_votes(list("abcdef"), *bt_votes(rng, rng.normal(0, 100, 6), 2_000))
    first = compute_leaderboard(counts, seed=1)
    again = compute_leaderboard(counts, seed=1)
    other = compute_leaderboard(counts, seed=2)
    np.testing.assert_array_equal(first.ci_low, again.ci_low)
    np.testing.assert_array_equal(first.ci_high, again.ci_high)
    assert not np.array_equal(first.ci_low, other.ci_low)
    np.testing.assert_array_equal(first.rating, other.rating)


def test_a_model_with_only_wins_stays_finite_and_ranks_first():
    rng = np.random.default_rng(6)
    left, right, outcome = bt_votes(rng, rng.normal(0, 50, 5), 2_000)
    champion = [(5, m, A_WINS, 20) for m in range(5)] + [(m, 5, B_WINS, 20) for m in range(5)]
    extra = votes_from_table(champion)
    counts = count_votes(
        [f"m{i}" for i in range(6)],
        np.concatenate([left, extra[0]]),
        np.concatenate([right, extra[1]]),
        np.concatenate([outcome, extra[2]]),
    )
    board = by_model(compute_leaderboard(counts))
    assert all(math.isfinite(row[key]) for row in board.values() for key in ("rating", "ci_low"))
    assert board["m5"]["rank"] == 1
    assert board["m5"]["rating"] == max(row["rating"] for row in board.values())
    assert board["m5"]["rating"] < 3000


def test_a_model_with_only_losses_stays_finite_and_ranks_last():
    rng = np.random.default_rng(7)
    left, right, outcome = bt_votes(rng, rng.normal(0, 50, 4), 1_000)
    loser = votes_from_table([(4, m, B_WINS, 10) for m in range(4)])
    counts = count_votes(
        list("abcde"),
        np.concatenate([left, loser[0]]),
        np.concatenate([right, loser[1]]),
        np.concatenate([outcome, loser[2]]),
    )
    board = compute_leaderboard(counts)
    assert np.isfinite(board.rating).all()
    assert np.isfinite(board.ci_high).all()
    assert board.rating[4] == board.rating.min()
    assert board.rank[4] == board.rank.max()


def test_left_side_advantage_is_estimated_and_taken_out_of_the_ratings():
    rng = np.random.default_rng(8)
    strength = np.array([0.0, 0.0, 0.0, 0.0])
    left, right, outcome = bt_votes(rng, strength, 20_000, left_advantage_elo=40)
    # Model 0 is also shown on the left in 10,000 more battles: uncorrected, that would lift it.
    others = rng.integers(1, 4, 10_000)
    extra = np.zeros(10_000, dtype=int)
    gap = 40 / ELO_PER_LOGIT
    extra_outcome = np.where(rng.random(10_000) < 1 / (1 + math.exp(-gap)), A_WINS, B_WINS)
    board = compute_leaderboard(
        count_votes(
            list("abcd"),
            np.concatenate([left, extra]),
            np.concatenate([right, others]),
            np.concatenate([outcome, extra_outcome]),
        )
    )
    low, high = board.left_advantage_ci
    assert low < 40 < high
    assert board.left_advantage == pytest.approx(40, abs=6)
    assert np.abs(board.rating - 1000).max() < 6
    naive, _ = logistic_fit(
        np.concatenate([left, extra]),
        np.concatenate([right, others]),
        np.concatenate([outcome, extra_outcome]),
        4,
        left_term=False,
    )
    assert naive[0] - 1000 > 10


def test_bootstrap_intervals_cover_the_true_ratings():
    rng = np.random.default_rng(9)
    strength = rng.normal(0, 120, 16)
    truth = 1000 + strength - strength.mean()
    counts = count_votes(
        [f"m{i:02d}" for i in range(16)], *bt_votes(rng, strength, 20_000, left_advantage_elo=20)
    )
    board = compute_leaderboard(counts, seed=3)
    covered = (board.ci_low <= truth) & (truth <= board.ci_high)
    assert covered.sum() >= 13
    assert (board.ci_low <= board.rating).all()
    assert (board.rating <= board.ci_high).all()


def test_no_votes_give_an_empty_leaderboard():
    board = compute_leaderboard(count_votes([], [], [], []))
    assert board.rows() == []


def test_a_model_cannot_face_itself():
    with pytest.raises(ValueError, match="itself"):
        count_votes(["a", "b"], [0, 1], [1, 1], [A_WINS, A_WINS])


def test_models_without_votes_are_left_out():
    counts = count_votes(["a", "unused", "b"], [0, 2], [2, 0], [A_WINS, TIE])
    assert counts.models == ("a", "b")
    assert counts.votes.tolist() == [2, 2]
