"""The pairing plan: how much a vote between each two models would teach. No Django here.

Each ratings refit writes the plan for battles (arena/battles/sampling.py draws from it):

    weights = pair_weights(rating, ci_low, ci_high, votes)      # (n, n)
    newcomer, newcomers = newcomer_weights(rating, ci_low, ci_high, votes)

- `rating`, `ci_low`, `ci_high`: the leaderboard's Elo ratings and 95% interval per model;
  NaN for a model with no rating yet, which then counts as average with the prior's width.
- `votes`: votes per model so far.

A pair's weight is the chance that the leaderboard has the two in the wrong order, times
how far a vote can still move their gap, times a boost for models with few votes, times how
much their order matters to a reader:

    Phi(-|gap| / s) * s * boost(i) * boost(j) * position(i, j)

where gap is the rating difference and s its standard deviation (from both intervals). Pairs
that are clearly apart weigh almost nothing, pairs whose order is a toss-up weigh most, and
among those the less measured ones and those nearer the top. position(i, j) is the discount
ranked-list measures (NDCG) give a position, 1 / log2(1 + r), at the better of the two
models' expected ranks (r = 1 + the chances that each rated model is above it): a swap at
the top of the board counts fully, one at rank 3 half, one at rank 31 a fifth. People read
the top of a leaderboard; a sampler that only chases toss-ups spends the votes at the bottom,
where ties and "both bad" keep the ratings close.

A model with no rating yet counts as average with the prior's width, so it is a toss-up
against everyone. boost(i) = 1 + NEW_MODEL_BOOST * (1 -
votes(i) / settled_votes) until a model has settled_votes votes (SETTLED_VOTES, 300: by then
its interval is about +/-45 Elo points, where ARENA_MIN_VOTES only decides when it is ranked).
A model that joins after the refit has no rating and no votes: `newcomer_weights` gives its
weight against each known model and against another newcomer.
"""

from __future__ import annotations

import math

import numpy as np

from arena.ratings.bt import PRIOR_PRECISION
from arena.ratings.engine import ELO_PER_LOGIT, MEAN_RATING

NEW_MODEL_BOOST = 3.0
SETTLED_VOTES = 300
UNKNOWN_SD = 1.0 / math.sqrt(PRIOR_PRECISION)  # log-odds: the fit's prior width
Z_95 = 1.959964
# numpy has no erfc, and scipy.special costs a quarter of a second to import in every process.
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def pair_weights(
    rating: np.ndarray,
    ci_low: np.ndarray,
    ci_high: np.ndarray,
    votes: np.ndarray,
    *,
    settled_votes: int = SETTLED_VOTES,
) -> np.ndarray:
    """Symmetric (n, n) weights of the pairs of n models, zero on the diagonal."""
    rating = np.asarray(rating, dtype=np.float64)
    known = np.isfinite(rating) & np.isfinite(ci_low) & np.isfinite(ci_high)
    strength = np.where(known, (rating - MEAN_RATING) / ELO_PER_LOGIT, 0.0)
    width = np.asarray(ci_high, dtype=np.float64) - np.asarray(ci_low, dtype=np.float64)
    sd = np.where(known, width / (2 * Z_95 * ELO_PER_LOGIT), UNKNOWN_SD)

    difference = strength[:, None] - strength[None, :]
    gap_sd = np.maximum(np.sqrt(sd[:, None] ** 2 + sd[None, :] ** 2), 1e-9)
    unsettled = np.clip(1.0 - np.asarray(votes) / max(settled_votes, 1), 0.0, 1.0)
    boost = 1.0 + NEW_MODEL_BOOST * unsettled
    # below[i, j]: the chance that j is really above i, Phi((s_j - s_i) / s).
    below = 0.5 * _erfc(difference / (gap_sd * math.sqrt(2.0)))
    np.fill_diagonal(below, 0.0)
    misordered = np.minimum(below, below.T)  # Phi(-|gap| / s)
    # Places on the board are held by rated models: one not rated yet takes none from them.
    expected_rank = 1.0 + (below * known[None, :]).sum(axis=1)
    position = 1.0 / np.log2(1.0 + expected_rank)
    # Every factor is symmetric to the last bit, so the product is too.
    weights = misordered * gap_sd * np.outer(boost, boost) * np.maximum.outer(position, position)
    np.fill_diagonal(weights, 0.0)
    return weights


def newcomer_weights(
    rating: np.ndarray,
    ci_low: np.ndarray,
    ci_high: np.ndarray,
    votes: np.ndarray,
    *,
    settled_votes: int = SETTLED_VOTES,
) -> tuple[np.ndarray, float]:
    """(n,) each model's weight against a model with no rating and no votes, and the weight
    of a pair of two such models."""
    unknown = np.array([np.nan, np.nan])
    weights = pair_weights(
        np.concatenate([rating, unknown]),
        np.concatenate([ci_low, unknown]),
        np.concatenate([ci_high, unknown]),
        np.concatenate([votes, [0, 0]]),
        settled_votes=settled_votes,
    )
    n = len(rating)
    return weights[:n, n], float(weights[n, n + 1])
