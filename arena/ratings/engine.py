"""Bradley-Terry leaderboards with bootstrap intervals, from vote counts. No Django here.

The method is LMArena's (FastChat's elo_analysis), made exact and fast:

- votes are first aggregated into a count table [left model, right model, outcome];
- Bradley-Terry is fitted on that table; a tie or a both-bad vote scores half a win each way;
  a left-side advantage is fitted with the strengths (see bt.py), so ratings are corrected for
  position bias and the advantage itself is reported; a light Gaussian prior (bt.py) keeps a
  model with only wins or only losses finite;
- ratings are on the Elo scale (400 / ln 10 points per unit of log-odds) with mean 1000;
- `bootstrap` rounds resample the count table as a multinomial with the same number of votes
  (resample.py; seeded, so reproducible) and are fitted together; the interval is the 2.5th
  to 97.5th percentile of the rounds; the rating itself is the fit of the full table;
- rank = 1 + the number of models whose lower bound is above this model's upper bound;
- a model with fewer than `min_votes` votes is preliminary: it is fitted with the others (its
  votes inform their ratings) but ranked apart, against the established models only, and
  never pushes an established model down.

Everything is a function of the count table and the seed: vote order, and the order in which
models are given, change nothing (models are indexed in sorted name order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena.battles import elo
from arena.battles.outcomes import OUTCOMES, OUTCOMES_BY_CODE, Choice
from arena.ratings import bt
from arena.ratings.resample import multinomial_rounds

# Outcome codes, the public vote files' `winner` labels and the left side's score, in code
# order, from the one table of what a vote means.
A_WINS, B_WINS, TIE, BOTH_BAD = (OUTCOMES[choice].code for choice in Choice)
WINNER_LABELS = tuple(outcome.winner for outcome in OUTCOMES_BY_CODE)
LEFT_SCORE = np.array([outcome.left_score for outcome in OUTCOMES_BY_CODE])

# The online Elo's scale, and its start as the board's mean.
ELO_PER_LOGIT = elo.SCALE / math.log(elo.BASE)
MEAN_RATING = elo.ELO_START
DEFAULT_BOOTSTRAP = 100
DEFAULT_SEED = 0
INTERVAL_PERCENTILES = (2.5, 97.5)
ROUND_DIGITS = 1
BOOTSTRAP_BLOCK = 10
BOOTSTRAP_THREADS = 2


@dataclass(frozen=True)
class VoteCounts:
    """Votes aggregated per (left model, right model, outcome); models in sorted name order.

    Only models that appear in at least one vote are present, so the table built from the
    database and the one read back from an export are identical.
    """

    models: tuple[str, ...]
    table: np.ndarray  # int64, shape (n, n, 4): [left, right, outcome code]

    @property
    def votes(self) -> np.ndarray:
        """Votes per model, on either side."""
        per_pair = self.table.sum(axis=2)
        return per_pair.sum(axis=1) + per_pair.sum(axis=0)

    @property
    def total(self) -> int:
        return int(self.table.sum())


def count_votes(
    models: Sequence[str],
    left: np.ndarray | Sequence[int],
    right: np.ndarray | Sequence[int],
    outcome: np.ndarray | Sequence[int],
) -> VoteCounts:
    """Aggregate votes given as indices into `models` (left = model_a) and outcome codes."""
    if len(set(models)) != len(models):
        raise ValueError("model names must be unique")
    left, right, outcome = (np.asarray(v, dtype=np.int64).ravel() for v in (left, right, outcome))
    if not left.size == right.size == outcome.size:
        raise ValueError("left, right and outcome must have the same length")
    n = len(models)
    for name, values, limit in (("left", left, n), ("right", right, n), ("outcome", outcome, 4)):
        if values.size and (values.min() < 0 or values.max() >= limit):
            raise ValueError(f"{name} has codes outside 0..{limit - 1}")
    if (left == right).any():
        raise ValueError(f"a model cannot face itself (vote {int(np.argmax(left == right))})")
    table = np.bincount((left * n + right) * 4 + outcome, minlength=n * n * 4).reshape(n, n, 4)
    return _canonical(tuple(models), table)


def combine_counts(*parts: VoteCounts) -> VoteCounts:
    """One count table from several, say of the halves of a vote file."""
    models = tuple(sorted({model for part in parts for model in part.models}))
    at = {model: i for i, model in enumerate(models)}
    table = np.zeros((len(models), len(models), 4), dtype=np.int64)
    for part in parts:
        rows = [at[model] for model in part.models]
        table[np.ix_(rows, rows)] += part.table
    return VoteCounts(models, table)


def _canonical(models: tuple[str, ...], table: np.ndarray) -> VoteCounts:
    per_pair = table.sum(axis=2)
    played = (per_pair.sum(axis=1) + per_pair.sum(axis=0)) > 0
    order = sorted(np.flatnonzero(played), key=models.__getitem__)
    return VoteCounts(tuple(models[i] for i in order), table[np.ix_(order, order)])


@dataclass(frozen=True)
class Leaderboard:
    """Ratings (Elo scale, mean 1000) with 95% bootstrap intervals, per model of `models`."""

    models: tuple[str, ...]
    rating: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rank: np.ndarray
    votes: np.ndarray
    preliminary: np.ndarray
    left_advantage: float  # Elo points the left position is worth
    left_advantage_ci: tuple[float, float]
    bootstrap: int
    seed: int

    def rows(self) -> list[dict[str, Any]]:
        """The leaderboard as shown: established models by rank, then preliminary ones.

        Every number is rounded here, once, so the site and `ratings_compute` print the same.
        """
        order = sorted(
            range(len(self.models)),
            key=lambda i: (bool(self.preliminary[i]), -self.rating[i], self.models[i]),
        )
        return [
            {
                "model": self.models[i],
                "rating": round(float(self.rating[i]), ROUND_DIGITS),
                "ci_low": round(float(self.ci_low[i]), ROUND_DIGITS),
                "ci_high": round(float(self.ci_high[i]), ROUND_DIGITS),
                "rank": int(self.rank[i]),
                "votes": int(self.votes[i]),
                "preliminary": bool(self.preliminary[i]),
            }
            for i in order
        ]


def compute_leaderboard(
    counts: VoteCounts,
    *,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    min_votes: int = 0,
) -> Leaderboard:
    """Fit the full table and `bootstrap` multinomial resamples of it (seeded)."""
    if bootstrap < 1:
        raise ValueError("bootstrap needs at least one round")
    n = len(counts.models)
    if n == 0:
        return _empty_leaderboard(bootstrap, seed)
    # A draw and a both-bad vote score the same, so they are one cell to resample and fit.
    cells = np.concatenate(
        [counts.table[..., :2], counts.table[..., 2:].sum(axis=2, keepdims=True)], axis=2
    )
    full = _fit_cells(cells[None])
    rounds = _bootstrap(cells, bootstrap, seed, start=full[0])
    rating = MEAN_RATING + ELO_PER_LOGIT * full[0, :n]
    boot_rating = MEAN_RATING + ELO_PER_LOGIT * rounds[:, :n]
    ci_low, ci_high = np.percentile(boot_rating, INTERVAL_PERCENTILES, axis=0)
    advantage_low, advantage_high = np.percentile(
        ELO_PER_LOGIT * rounds[:, n], INTERVAL_PERCENTILES
    )
    votes = counts.votes
    preliminary = votes < min_votes
    return Leaderboard(
        models=counts.models,
        rating=rating,
        ci_low=ci_low,
        ci_high=ci_high,
        rank=rank_by_intervals(ci_low, ci_high, among=~preliminary),
        votes=votes,
        preliminary=preliminary,
        left_advantage=float(ELO_PER_LOGIT * full[0, n]),
        left_advantage_ci=(float(advantage_low), float(advantage_high)),
        bootstrap=bootstrap,
        seed=seed,
    )


def _empty_leaderboard(bootstrap: int, seed: int) -> Leaderboard:
    nothing = np.zeros(0)
    return Leaderboard(
        models=(),
        rating=nothing,
        ci_low=nothing,
        ci_high=nothing,
        rank=np.zeros(0, dtype=np.int64),
        votes=np.zeros(0, dtype=np.int64),
        preliminary=np.zeros(0, dtype=bool),
        left_advantage=0.0,
        left_advantage_ci=(0.0, 0.0),
        bootstrap=bootstrap,
        seed=seed,
    )


def _fit_cells(cells: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Fit (R, n, n, 3) tables of [left wins, right wins, draws]."""
    games = cells.sum(axis=3)
    score = cells[..., 0] + 0.5 * cells[..., 2]
    return bt.fit(score, games, start=None if start is None else np.tile(start, (len(cells), 1)))


def _bootstrap(cells: np.ndarray, rounds: int, seed: int, start: np.ndarray) -> np.ndarray:
    """Fit `rounds` multinomial resamples of the table, started from the full fit.

    Rounds go in fixed blocks, each with its own generator spawned from the seed, so the
    result depends on the seed alone; blocks are small enough for their arrays to stay in
    cache, and run on BOOTSTRAP_THREADS threads (numpy releases the GIL for the heavy part).
    """
    sizes = [BOOTSTRAP_BLOCK] * (rounds // BOOTSTRAP_BLOCK)
    if rounds % BOOTSTRAP_BLOCK:
        sizes.append(rounds % BOOTSTRAP_BLOCK)
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    flat = cells.reshape(-1)

    def block(size: int, block_seed: np.random.SeedSequence) -> np.ndarray:
        draws = multinomial_rounds(flat, size, np.random.default_rng(block_seed))
        return _fit_cells(draws.reshape(size, *cells.shape), start)

    with ThreadPoolExecutor(max_workers=BOOTSTRAP_THREADS) as pool:
        return np.concatenate(list(pool.map(block, sizes, seeds)))


def rank_by_intervals(
    ci_low: np.ndarray, ci_high: np.ndarray, *, among: np.ndarray | None = None
) -> np.ndarray:
    """1 + the number of models (of those in `among`) whose lower bound beats my upper bound.

    Models whose intervals overlap share a rank; ranks can skip, as in LMArena's table.
    """
    ci_low, ci_high = np.asarray(ci_low), np.asarray(ci_high)
    rivals = ci_low if among is None else ci_low[np.asarray(among, dtype=bool)]
    return 1 + (rivals[None, :] > ci_high[:, None]).sum(axis=1)
