"""Drawing the next battle from the stored pairing plan. No Django here.

The plan is what the last ratings refit decided (arena/ratings/pairing.py): a weight for every
pair of models it knew, and the weight a model it did not know (one that joined since) gets
against each of them. Per request only the draw runs, over arrays the caller keeps:

    weights = plan.weights_for(model_ids)      # (n, n) for the n models that have images
    pool = battle_pool(weights, available)     # once per pool build
    battle = choose_battle(pool, shown, rng=rng, last=(prompt, i, j))
        # (prompt index, left model index, right model index), or None

- `available`: (prompts, n) booleans, True where the model has a ready image for the prompt.
- `shown`: (prompts,) how many battles each prompt has been shown in.
- `last`: the visitor's previous (prompt, model, model), in any model order, or None.

A prompt's weight is (1 + mean shown) / (1 + shown), so prompts shown less come up more. A
battle is drawn from prompt weight times pair weight over every (prompt, pair) whose two images
exist, except, with probability `exploration`, from the uniform picker (a uniform prompt with
two images, then a uniform pair of them), so every possible battle keeps a share. A model is
never paired with itself, and the visitor's last (prompt, pair) is never repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# One battle in ten is uniform: at 10,000 votes a day that still gives each of the 496 pairs
# of 32 models some 60 votes a month in the open data. At one in five, the simulation in
# `make bench` needed about a tenth more votes when new models join a board.
EXPLORATION = 0.1


@dataclass(frozen=True)
class Plan:
    """Pair weights over the models the last refit knew, by model id."""

    model_ids: tuple[int, ...]
    weights: np.ndarray  # (m, m), symmetric, zero on the diagonal
    newcomer: np.ndarray  # (m,) each known model's weight against a model joined since
    newcomers: float  # the weight of a pair of two models joined since

    @classmethod
    def uniform(cls) -> Plan:
        """Before any refit every model is new: every pair weighs the same."""
        return cls((), np.zeros((0, 0)), np.zeros(0), 1.0)

    def weights_for(self, model_ids: Sequence[int]) -> np.ndarray:
        """The (n, n) pair weights of these models, in this order, zero on the diagonal."""
        known = {model_id: i for i, model_id in enumerate(self.model_ids)}
        # Each model's row in the plan, or -1 for a newcomer; the plan gains a newcomer row.
        rows = np.array([known.get(model_id, -1) for model_id in model_ids], dtype=np.int64)
        m = len(self.model_ids)
        full = np.empty((m + 1, m + 1))
        full[:m, :m] = self.weights
        full[:m, m] = full[m, :m] = self.newcomer
        full[m, m] = self.newcomers
        rows = np.where(rows < 0, m, rows)
        weights = full[np.ix_(rows, rows)]
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
