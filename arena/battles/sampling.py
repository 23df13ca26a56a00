"""Drawing the next battle from the stored pairing plan. No Django here.

The plan is what the last ratings refit decided (arena/ratings/pairing.py): a weight for every
pair of models it knew, and the weight a model it did not know (one that joined since) gets
against each of them. Per request only the draw runs, over arrays the caller keeps:

    weights = plan.weights_for(model_ids)      # (n, n) for the n models that have images
    pool = battle_pool(weights, available, floor_share=0.5)     # once per pool build
    battle = choose_battle(pool, shown, rng=rng, last=(prompt, i, j), excluded=mask)
        # (prompt index, left model index, right model index), or None

- `available`: (prompts, n) booleans, True where the model has a ready image for the prompt.
- `shown`: (prompts,) how many battles each prompt has been shown in.
- `last`: the visitor's previous (prompt, model, model), in any model order, or None.
- `excluded`: (n,) booleans, models this visitor should not see now, or None.

A prompt's weight is (1 + mean shown) / (1 + shown), so prompts shown less come up more. A
battle is drawn from prompt weight times pair weight over every (prompt, pair) whose two images
exist, except, with probability `exploration`, from the uniform picker (a uniform prompt with
two images, then a uniform pair of them), so every possible battle keeps a share. A model is
never paired with itself, and the visitor's last (prompt, pair) is never repeated.

The floor: every model that can be in a battle is in at least `floor_share` of the battles an
even share would give it (2 / n of them). The plan weighs what a vote would teach, and a model
far from every other teaches little; the floor is what keeps it on the screen. It lives here,
not in the plan, because a share of battles depends on what only the pool knows: which models
have images now (one that joined since the refit, one retired since), for which prompts, and
the exploration share. battle_pool works out each model's share under the plan and
exploration, and the battles the floor adds: with probability `floor_rate` a battle is drawn
for the floor, for a model chosen in proportion to its shortfall, against an opponent the
plan weighs (or any, if it weighs none), on a prompt where both have images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

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
    exploration: float = EXPLORATION
    floor_rate: float = 0.0  # the chance that a battle is drawn for the floor
    floor_models: np.ndarray | None = None  # (n,) whose floor it is, in proportion

    def shares(self) -> np.ndarray:
        """(n,) the share of battles each model is in, in the long run (up to the prompts'
        freshness weights and the no-repeat rule): 2 / n each if all were even."""
        plan, uniform = _component_shares(self)
        floor = np.zeros_like(uniform) if self.floor_models is None else self.floor_models
        return (
            self.exploration * uniform
            + (1.0 - self.exploration - self.floor_rate) * plan
            + self.floor_rate * _floor_shares(self, floor)
        )


def battle_pool(
    weights: np.ndarray,
    available: np.ndarray,
    *,
    exploration: float = EXPLORATION,
    floor_share: float = 0.0,
) -> BattlePool:
    """The possible battles: every pair of models that both have an image for a prompt; and,
    with a `floor_share`, the battles the floor adds (see the module's docstring)."""
    available = np.asarray(available, dtype=bool)
    present = available.astype(np.float64)
    per_prompt = present.sum(axis=1)
    pool = BattlePool(
        weights=np.asarray(weights, dtype=np.float64),
        available=available,
        # Half of a^T W a over each prompt's row a of the availability matrix.
        pair_mass=0.5 * np.einsum("pi,pi->p", present @ weights, present),
        pair_count=per_prompt * (per_prompt - 1) / 2,
        exploration=exploration,
    )
    if floor_share <= 0.0:
        return pool
    rate, models = _floor(pool, floor_share)
    return replace(pool, floor_rate=rate, floor_models=models)


def _component_shares(pool: BattlePool) -> tuple[np.ndarray, np.ndarray]:
    """(n,) each model's share of the battles the plan draws, and of the uniform picker's.

    A plan draw picks prompt p with chance mass_p / total and a pair in it by weight, so pair
    (i, j) comes up in proportion to W_ij times the prompts where both have images."""
    possible = pool.pair_count > 0.5
    present = pool.available[possible].astype(np.float64)
    if not possible.any():
        return np.zeros(pool.available.shape[1]), np.zeros(pool.available.shape[1])
    uniform = (present * (2.0 / present.sum(axis=1, keepdims=True))).mean(axis=0)
    together = present.T @ present
    plan = (pool.weights * together).sum(axis=1)
    total = plan.sum() / 2
    return (plan / total if total > 0.0 else uniform), uniform


def _floor_shares(pool: BattlePool, floor: np.ndarray) -> np.ndarray:
    """(n,) each model's share of the floor's battles: its own, and as an opponent (drawn on
    a prompt where both have images, by pair weight, or evenly where it weighs none)."""
    present = pool.available[pool.pair_count > 0.5].astype(np.float64)
    opponents = np.zeros_like(pool.weights)
    for model in np.flatnonzero(floor):
        rows = present[present[:, model] > 0.0]
        rows[:, model] = 0.0
        against = rows * pool.weights[model]
        totals = against.sum(axis=1, keepdims=True)
        evenly = rows / rows.sum(axis=1, keepdims=True)
        opponents[model] = np.where(
            totals > 0.0, against / np.where(totals > 0.0, totals, 1.0), evenly
        ).mean(axis=0)
    return floor + floor @ opponents


def _floor(pool: BattlePool, floor_share: float) -> tuple[float, np.ndarray | None]:
    """The chance that a battle is drawn for the floor, and for which model in proportion.

    The smallest rate r whose battles, shared out in proportion to each model's shortfall
    below the floor, lift every model to it; counted without the battles a model gets as the
    floor's opponent, so the floor holds with room to spare."""
    plan, uniform = _component_shares(pool)
    can_battle = uniform > 0.0
    if can_battle.sum() < 2:
        return 0.0, None
    target = np.where(can_battle, min(floor_share, 1.0) * 2.0 / can_battle.sum(), 0.0)
    ceiling = 1.0 - pool.exploration

    def shortfall(rate: float) -> np.ndarray:
        return np.maximum(target - pool.exploration * uniform - (ceiling - rate) * plan, 0.0)

    # shortfall grows with the rate (the plan's battles shrink), so iterate up to the rate
    # that covers it.
    rate = 0.0
    for _ in range(100):
        needed = min(float(shortfall(rate).sum()), ceiling)
        if needed <= rate + 1e-12:
            break
        rate = needed
    short = shortfall(rate)
    if rate <= 0.0 or not short.sum() > 0.0:
        return 0.0, None
    return rate, short / short.sum()


def choose_battle(
    pool: BattlePool,
    shown: np.ndarray,
    *,
    rng: np.random.Generator,
    last: tuple[int, int, int] | None = None,
    exploration: float | None = None,
    excluded: np.ndarray | None = None,
) -> tuple[int, int, int] | None:
    """(prompt, left model, right model), sides in random order; None if no battle is possible
    (without the `excluded` models, and without repeating `last`)."""
    exploration = pool.exploration if exploration is None else exploration
    available, pair_count, pair_mass = pool.available, pool.pair_count, pool.pair_mass
    if excluded is not None and np.any(excluded):
        available, pair_count, pair_mass = _without(pool, np.asarray(excluded, dtype=bool))
    if last is not None:
        prompt, i, j = last
        if available[prompt, i] and available[prompt, j] and i != j:
            pair_count, pair_mass = pair_count.copy(), pair_mass.copy()
            pair_count[prompt] -= 1
            pair_mass[prompt] -= pool.weights[i, j]
    possible = pair_count > 0.5
    if not possible.any():
        return None

    shown = np.asarray(shown, dtype=np.float64)
    freshness = (1.0 + shown.mean()) / (1.0 + shown)
    weighted = np.where(possible, pair_mass.clip(min=0.0), 0.0) * freshness
    draw = rng.random()
    uniform = draw < exploration or not weighted.sum() > 0.0
    floor = None
    if pool.floor_models is not None and not uniform and draw < exploration + pool.floor_rate:
        floor = _floor_battle(pool, available, possible * freshness, last, rng)
    if floor is not None:
        prompt, model = floor
    else:
        prompt, model = _draw(possible.astype(np.float64) if uniform else weighted, rng), None

    models = np.flatnonzero(available[prompt])
    allowed = np.triu(np.ones((models.size, models.size), dtype=bool), k=1)
    if last is not None and last[0] == prompt:
        repeated = np.isin(models, last[1:])
        allowed &= ~np.outer(repeated, repeated)
    if model is not None:
        involved = models == model
        allowed &= involved[:, None] | involved[None, :]
    local = np.where(allowed, 1.0 if uniform else pool.weights[np.ix_(models, models)], 0.0)
    if not local.sum() > 0.0:
        local = allowed.astype(np.float64)
    cell = _draw(local.ravel(), rng)
    pair = [int(models[cell // models.size]), int(models[cell % models.size])]
    if rng.random() < 0.5:
        pair.reverse()
    return prompt, pair[0], pair[1]


def _without(pool: BattlePool, excluded: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pool's availability, pair counts and pair masses with the excluded models gone.

    With a = a' + g (g the excluded models' part of a prompt's row), half of a'^T W a' is the
    prompt's mass less g^T W a and plus half of g^T W g: only the excluded columns are read."""
    gone = np.flatnonzero(excluded)
    present = pool.available.astype(np.float64)
    own = present[:, gone]
    touching = np.einsum("px,px->p", own, present @ pool.weights[:, gone])
    among = np.einsum("px,xy,py->p", own, pool.weights[np.ix_(gone, gone)], own)
    left = present.sum(axis=1) - own.sum(axis=1)
    available = pool.available.copy()
    available[:, gone] = False
    return available, left * (left - 1) / 2, pool.pair_mass - touching + 0.5 * among


def _floor_battle(
    pool: BattlePool,
    available: np.ndarray,
    prompt_mass: np.ndarray,
    last: tuple[int, int, int] | None,
    rng: np.random.Generator,
) -> tuple[int, int] | None:
    """(prompt, model) of a battle drawn for a model's floor, or None if the model drawn has
    no battle left (every one excluded, or only the visitor's last)."""
    assert pool.floor_models is not None
    present = available.any(axis=0)
    mass = np.where(present, pool.floor_models, 0.0)
    if not mass.sum() > 0.0:
        return None
    model = _draw(mass, rng)
    others = available.sum(axis=1) - 1.0
    if last is not None and model in last[1:] and available[last[0], list(last[1:])].all():
        others[last[0]] -= 1.0
    candidates = np.where(available[:, model] & (others > 0.5), prompt_mass, 0.0)
    if not candidates.sum() > 0.0:
        return None
    return _draw(candidates, rng), model


def _draw(mass: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to `mass`; never one with zero mass."""
    cumulative = np.cumsum(mass)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], "right"))
