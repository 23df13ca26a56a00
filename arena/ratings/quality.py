"""Which voters look unreliable, judged against the consensus. No Django here.

Only decisive votes (left or right) count. For each, the consensus (the fitted ratings and
left advantage) gives the chance q that an honest voter picks the favourite. A voter's
agreements are then a sum of independent coin flips with those chances, so their expected
number and spread are known: a voter who agrees far less than that (z below -z_limit) is a
contrarian. A voter who picks the same side in nearly every decisive vote (side_share) is
not looking at the pictures at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings.engine import A_WINS, B_WINS, ELO_PER_LOGIT

MIN_DECISIVE_VOTES = 20
Z_LIMIT = 4.0
SIDE_SHARE = 0.95


@dataclass(frozen=True, slots=True)
class Finding:
    voter: int  # index into the caller's voter list
    reason: str  # "contrarian" or "one_side"
    votes: int
    detail: str


def suspicious_voters(
    voter: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    outcome: np.ndarray,
    rating: np.ndarray,
    *,
    left_advantage: float = 0.0,
    min_votes: int = MIN_DECISIVE_VOTES,
    z_limit: float = Z_LIMIT,
    side_share: float = SIDE_SHARE,
) -> list[Finding]:
    """Voters (by index) whose decisive votes disagree with `rating` beyond chance, or who
    nearly always pick one side. `rating` is on the Elo scale, indexed like `left`/`right`."""
    decisive = (outcome == A_WINS) | (outcome == B_WINS)
    voter, left, right = voter[decisive], left[decisive], right[decisive]
    picked_left = outcome[decisive] == A_WINS
    if not voter.size:
        return []
    gap = (rating[left] - rating[right] + left_advantage) / ELO_PER_LOGIT
    p_left = 1.0 / (1.0 + np.exp(-gap))
    favourite_left = p_left >= 0.5
    q = np.where(favourite_left, p_left, 1.0 - p_left)
    agreed = (picked_left == favourite_left).astype(np.float64)

    size = int(voter.max()) + 1
    votes = np.bincount(voter, minlength=size)
    observed = np.bincount(voter, weights=agreed, minlength=size)
    expected = np.bincount(voter, weights=q, minlength=size)
    spread = np.sqrt(np.bincount(voter, weights=q * (1.0 - q), minlength=size))
    lefts = np.bincount(voter, weights=picked_left.astype(np.float64), minlength=size)

    findings = []
    for index in np.flatnonzero(votes >= min_votes):
        n = int(votes[index])
        share = max(lefts[index], n - lefts[index]) / n
        z = (observed[index] - expected[index]) / max(spread[index], 1e-9)
        if share >= side_share:
            side = "left" if lefts[index] * 2 > n else "right"
            findings.append(
                Finding(
                    int(index),
                    "one_side",
                    n,
                    f"picked the {side} image in {share:.0%} of {n} decisive votes",
                )
            )
        elif z <= -z_limit:
            findings.append(
                Finding(
                    int(index),
                    "contrarian",
                    n,
                    f"agreed with the consensus in {observed[index]:.0f} of {n} decisive votes; "
                    f"an honest voter would agree in {expected[index]:.0f} ± {spread[index]:.1f} "
                    f"(z = {z:.1f})",
                )
            )
    return findings
