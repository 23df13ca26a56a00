"""Online Elo as FastChat computes it: base 10, scale 400, K = 4, every model starts at 1000.

No Django here: the rating engine above reads the same scale and centre from this module.
"""

from __future__ import annotations

BASE = 10.0
SCALE = 400.0
K = 4.0
# Every model's first online rating, and the centre of the Bradley-Terry board.
ELO_START = 1000.0


def expected_score(rating: float, opponent: float) -> float:
    """Probability that a player rated `rating` beats one rated `opponent`."""
    return 1.0 / (1.0 + BASE ** ((opponent - rating) / SCALE))


def updated(left: float, right: float, left_score: float) -> tuple[float, float]:
    """New (left, right) ratings after a game where left scored 1 (win), 0.5 (draw) or 0."""
    delta = K * (left_score - expected_score(left, right))
    return left + delta, right - delta
