"""The rank rule and the rows the site and `ratings_compute` show."""

import numpy as np

from arena.ratings.engine import (
    A_WINS,
    B_WINS,
    compute_leaderboard,
    count_votes,
    rank_by_intervals,
)


def test_overlapping_intervals_share_a_rank_and_ranks_skip():
    low = np.array([1100, 1090, 1000, 1005])
    high = np.array([1120, 1110, 1040, 1095])
    # m0 and m1 overlap; both clear m2; m3 overlaps m1 but not m0.
    assert rank_by_intervals(low, high).tolist() == [1, 1, 3, 2]


def test_a_model_is_ranked_below_every_model_whose_lower_bound_beats_its_upper_bound():
    low = np.array([1200, 1100, 1000, 900])
    high = np.array([1250, 1150, 1050, 950])
    assert rank_by_intervals(low, high).tolist() == [1, 2, 3, 4]


def test_preliminary_models_never_push_established_models_down():
    low = np.array([1000, 1300])
    high = np.array([1050, 1400])
    among = np.array([True, False])
    assert rank_by_intervals(low, high, among=among).tolist() == [1, 1]


def test_rows_list_established_models_by_rating_then_preliminary_ones():
    left, right, outcome = [], [], []
    for a, b, wins, losses in [(0, 1, 60, 40), (1, 2, 70, 30), (0, 2, 80, 20), (3, 0, 3, 2)]:
        left += [a] * (wins + losses)
        right += [b] * (wins + losses)
        outcome += [A_WINS] * wins + [B_WINS] * losses
    counts = count_votes(["top", "mid", "low", "newcomer"], left, right, outcome)
    rows = compute_leaderboard(counts, min_votes=50).rows()
    assert [row["model"] for row in rows] == ["top", "mid", "low", "newcomer"]
    assert [row["preliminary"] for row in rows] == [False, False, False, True]
    assert rows[3]["votes"] == 5
    assert set(rows[0]) == {"model", "rating", "ci_low", "ci_high", "rank", "votes", "preliminary"}
    assert all(row["rating"] == round(row["rating"], 1) for row in rows)
