"""Votes from known strengths, for the ratings tests and benchmarks."""

from __future__ import annotations

import numpy as np

from arena.ratings.engine import A_WINS, B_WINS, BOTH_BAD, ELO_PER_LOGIT, TIE


def bt_votes(
    rng: np.random.Generator,
    strength_elo: np.ndarray,
    count: int,
    *,
    left_advantage_elo: float = 0.0,
    draw_share: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, outcome) of `count` votes between uniformly drawn pairs of models.

    The left model wins with the Bradley-Terry probability of the Elo gap plus the left-side
    advantage; a `draw_share` of votes are a tie or both-bad, half each, whatever the gap.
    """
    n = len(strength_elo)
    left = rng.integers(0, n, count)
    right = (left + rng.integers(1, n, count)) % n
    outcome = bt_outcomes(
        rng,
        strength_elo,
        left,
        right,
        left_advantage_elo=left_advantage_elo,
        draw_share=draw_share,
    )
    return left, right, outcome


def bt_outcomes(
    rng: np.random.Generator,
    strength_elo: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    *,
    left_advantage_elo: float = 0.0,
    draw_share: float = 0.0,
) -> np.ndarray:
    """Outcome codes of the battles (left, right) by the same rule as bt_votes."""
    gap = (strength_elo[left] - strength_elo[right] + left_advantage_elo) / ELO_PER_LOGIT
    left_wins = rng.random(len(left)) < 1.0 / (1.0 + np.exp(-gap))
    outcome = np.where(left_wins, A_WINS, B_WINS)
    draws = rng.random(len(left)) < draw_share
    outcome[draws] = np.where(rng.random(int(draws.sum())) < 0.5, TIE, BOTH_BAD)
    return outcome
