"""Matchmaking: which prompt and which two models a visitor is shown next. No Django here.

Votes are spent where they teach the most, over arrays the caller keeps between requests:

    weights = pair_weights(rating, ci_low, ci_high, votes)
    pool = battle_pool(weights, available)
        # both once per ratings recompute or change of images, for the n models of an arena
    battle = choose_battle(pool, shown, rng=rng, last=(prompt, i, j))
        # per request: (prompt index, left model index, right model index), or None

- `rating`, `ci_low`, `ci_high`: the leaderboard's Elo ratings and 95% interval per model;
  NaN for a model with no rating yet, which then counts as average with the prior's width.
- `votes`: votes per model so far.
- `available`: (prompts, n) booleans, True where the model has a ready image for the prompt.
- `shown`: (prompts,) how many battles each prompt has been shown in.
- `last`: the visitor's previous (prompt, model, model), in any model order, or None.

A pair's weight is the chance that the leaderboard has the two in the wrong order, times
how far a vote can still move their gap, times a boost for models with few votes:

    Phi(-|gap| / s) * s * boost(i) * boost(j)

where gap is the rating difference and s its standard deviation (from both intervals). Pairs
that are clearly apart weigh almost nothing, pairs whose order is a toss-up weigh most, and
among those the less measured ones. A model with no rating yet counts as average with the
prior's width, so it is a toss-up against everyone. boost(i) = 1 + NEW_MODEL_BOOST * (1 -
votes(i) / settled_votes) until a model has settled_votes votes (SETTLED_VOTES, 300: by then
its interval is about +/-45 Elo points, where ARENA_MIN_VOTES only decides when it is ranked).
A prompt's weight is (1 + mean shown) / (1 + shown), so prompts shown less come up more.

A battle is drawn from prompt weight times pair weight over every (prompt, pair) whose two
images exist, except, with probability `exploration`, from the uniform picker (a uniform
prompt with two images, then a uniform pair of them), so every possible battle keeps a share.
A model is never paired with itself, and the visitor's last (prompt, pair) is never repeated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arena.ratings.bt import PRIOR_PRECISION
from arena.ratings.engine import ELO_PER_LOGIT, MEAN_RATING

# One battle in ten is uniform: at 10,000 votes a day that still gives each of the 496 pairs
# of 32 models some 60 votes a month in the open data. At one in five, the simulation in
# `make bench` needed about a tenth more votes when new models join a board.
EXPLORATION = 0.1
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

    gap = np.abs(strength[:, None] - strength[None, :])
    gap_sd = np.maximum(np.sqrt(sd[:, None] ** 2 + sd[None, :] ** 2), 1e-9)
    unsettled = np.clip(1.0 - np.asarray(votes) / max(settled_votes, 1), 0.0, 1.0)
    boost = 1.0 + NEW_MODEL_BOOST * unsettled
    misordered = 0.5 * _erfc(gap / (gap_sd * math.sqrt(2.0)))  # Phi(-gap / s)
    weights = misordered * gap_sd * boost[:, None] * boost[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights


@dataclass(frozen=True)
class BattlePool:
    """What choose_battle needs that changes only when ratings or images change: cache it."""

    weights: np.ndarray  # (n, n) pair weights
    available: np.ndarray  # (prompts, n) booleans
    pair_mass: np.ndarray  # (prompts,) total weight of each prompt's possible pairs
    pair_count: np.ndarray  # (prompts,) number of each prompt's possible pairs


def battle_pool(weights: np.ndarray, available: np.ndarray) -> BattlePool:
    """The possible battles: every pair of models that both have an image for a prompt."""
    available = np.asarray(available, dtype=bool)
    present = available.astype(np.float64)
    per_prompt = present.sum(axis=1)
    return BattlePool(
        weights=np.asarray(weights, dtype=np.float64),
        available=available,
        # Half of a^T W a over each prompt's row a of the availability matrix.
        pair_mass=0.5 * np.einsum("pi,pi->p", present @ weights, present),
        pair_count=per_prompt * (per_prompt - 1) / 2,
    )


def choose_battle(
    pool: BattlePool,
    shown: np.ndarray,
    *,
    rng: np.random.Generator,
    last: tuple[int, int, int] | None = None,
    exploration: float = EXPLORATION,
) -> tuple[int, int, int] | None:
    """(prompt, left model, right model), sides in random order; None if no battle is possible."""
    pair_count, pair_mass = pool.pair_count, pool.pair_mass
    if last is not None:
        prompt, i, j = last
        if pool.available[prompt, i] and pool.available[prompt, j] and i != j:
            pair_count, pair_mass = pair_count.copy(), pair_mass.copy()
            pair_count[prompt] -= 1
            pair_mass[prompt] -= pool.weights[i, j]
    possible = pair_count > 0.5
    if not possible.any():
        return None

    shown = np.asarray(shown, dtype=np.float64)
    weighted = (
        np.where(possible, pair_mass.clip(min=0.0), 0.0) * (1.0 + shown.mean()) / (1.0 + shown)
    )
    uniform = rng.random() < exploration or not weighted.sum() > 0.0
    prompt_mass = possible.astype(np.float64) if uniform else weighted
    prompt = _draw(prompt_mass, rng)

    models = np.flatnonzero(pool.available[prompt])
    allowed = np.triu(np.ones((models.size, models.size), dtype=bool), k=1)
    if last is not None and last[0] == prompt:
        repeated = np.isin(models, last[1:])
        allowed &= ~np.outer(repeated, repeated)
    local = np.where(allowed, 1.0 if uniform else pool.weights[np.ix_(models, models)], 0.0)
    if not local.sum() > 0.0:
        local = allowed.astype(np.float64)
    cell = _draw(local.ravel(), rng)
    pair = [int(models[cell // models.size]), int(models[cell % models.size])]
    if rng.random() < 0.5:
        pair.reverse()
    return prompt, pair[0], pair[1]


def _draw(mass: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to `mass`; never one with zero mass."""
    cumulative = np.cumsum(mass)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], "right"))
