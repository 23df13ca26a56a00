"""Which prompt and which two images a visitor sees next.

Votes are spent where they teach the most: close and uncertain pairs (those near the top of
the board first), new models, prompts shown less, with a share of uniform exploration and a
floor share of battles for every model (ARENA_FLOOR_SHARE). A visitor's first battles in an
arena have variety: no model in more than two of their first five. The pair weights are the
pairing plan the last ratings refit stored (PairingPlan); the draw is arena/battles/sampling.py.
Both work on arrays that change slowly (which images exist, the plan), so each web process
keeps them as a pool and rebuilds it when curation or a new plan bumps a shared version, or
after ARENA_POOL_SECONDS (new images join within that time).

Each prompt and model has up to ARENA_RENDITIONS images, each from its own secret seed; the
sampler chooses the prompt and the two models, and each side shows one of its renditions at
random, so someone who remembers every image revealed to them keeps meeting ones they have
not seen.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count

from arena.battles import sampling
from arena.battles.models import Battle, PairingPlan
from arena.catalog.models import Arena, Generation

VERSION_KEY = "matchmaking:version"
# A visitor's first VARIETY_BATTLES battles in an arena show no model more than VARIETY_MAX
# times (unless only such battles are possible): first impressions of an arena should not be
# one corner of its board.
VARIETY_BATTLES = 5
VARIETY_MAX = 2


@dataclass(frozen=True)
class ArenaPool:
    version: str
    built_at: float
    prompts: dict[int, int]  # prompt id -> row
    prompt_ids: list[int]  # row -> prompt id
    models: dict[int, int]  # model id -> column
    # (prompts, models, renditions) ids of ready images, 0 where there is none; a battle shows
    # one rendition of each side, drawn at random.
    generations: np.ndarray
    pool: sampling.BattlePool
    shown: np.ndarray  # (prompts,) battles shown per prompt; counted up by this process too

    @property
    def depth(self) -> int:
        """The most renditions any prompt and model has."""
        return int(self.generations.shape[2])

    def index(self, prompt_id: int, model_id: int) -> tuple[int, int] | None:
        if prompt_id not in self.prompts or model_id not in self.models:
            return None
        return self.prompts[prompt_id], self.models[model_id]


_pools: dict[str, ArenaPool] = {}
_building = threading.Lock()


def matchmaking_changed() -> None:
    """Make every process rebuild its pools: models or prompts joined or left, or a new plan.

    Called inside a transaction, it says so again once the transaction commits: a pool rebuilt
    in between read the rows from before the change and would keep them until
    ARENA_POOL_SECONDS."""
    _version_bump()
    transaction.on_commit(_version_bump)


def _version_bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def battle_pick(
    *, arena: Arena, session_key: str, rng: np.random.Generator | None = None
) -> tuple[Generation, Generation] | None:
    """Two ready images of one prompt by two different models, left first, or None."""
    pool = _pool(arena)
    if pool is None:
        return None
    rng = rng or np.random.default_rng()
    last, excluded = _history(pool, arena, session_key)
    choice = sampling.choose_battle(pool.pool, pool.shown, rng=rng, last=last, excluded=excluded)
    if choice is None and excluded is not None:
        # Every battle left would show a model a third time: variety yields.
        choice = sampling.choose_battle(pool.pool, pool.shown, rng=rng, last=last)
    if choice is None and last is not None:
        # The visitor's last battle was the only one possible: showing it again beats nothing.
        choice = sampling.choose_battle(pool.pool, pool.shown, rng=rng)
    if choice is None:
        return None
    prompt, left, right = choice
    pool.shown[prompt] += 1
    cells = pool.generations[prompt, left], pool.generations[prompt, right]
    seen = _seen(session_key, prompt_id=pool.prompt_ids[prompt]) if pool.depth > 1 else set()
    left_id, right_id = (_rendition(cell, seen, rng) for cell in cells)
    # Only what a battle and its page need: the models, and the prompt's text.
    found = (
        Generation.objects.select_related("prompt")
        .only("model", "prompt__text")
        .in_bulk([left_id, right_id])
    )
    if len(found) < 2:  # deleted since the pool was built
        matchmaking_changed()
        return None
    return found[left_id], found[right_id]


def _rendition(ids: np.ndarray, seen: set[int], rng: np.random.Generator) -> int:
    """One of a cell's ready renditions at random, preferring those this visitor has not been
    shown: an image they saw revealed comes back only once they have seen every rendition."""
    ready = [int(pk) for pk in ids if pk > 0]
    unseen = [pk for pk in ready if pk not in seen] or ready
    return unseen[int(rng.integers(len(unseen)))]


def _seen(session_key: str, *, prompt_id: int) -> set[int]:
    """The images of this prompt the visitor has been shown, in any battle."""
    shown = Battle.objects.filter(session_key=session_key, prompt_id=prompt_id)
    return {pk for pair in shown.values_list("left_id", "right_id") for pk in pair}


def _history(
    pool: ArenaPool, arena: Arena, session_key: str
) -> tuple[tuple[int, int, int] | None, np.ndarray | None]:
    """The visitor's last battle as (prompt, model, model) rows of the pool, or None; and,
    while they have had fewer than VARIETY_BATTLES battles here, the models they have seen
    VARIETY_MAX times, as a mask of the pool's columns (None once they have had them all)."""
    recent = list(
        Battle.objects.filter(session_key=session_key, arena=arena)
        .order_by("-created_at")
        .values_list("prompt_id", "left__model_id", "right__model_id")[:VARIETY_BATTLES]
    )
    last = None
    if recent:
        prompt_id, left_id, right_id = recent[0]
        left, right = pool.index(prompt_id, left_id), pool.index(prompt_id, right_id)
        if left is not None and right is not None:
            last = left[0], left[1], right[1]
    if len(recent) >= VARIETY_BATTLES:
        return last, None
    seen = Counter(model_id for _, *pair in recent for model_id in pair)
    excluded = np.zeros(len(pool.models), dtype=bool)
    for model_id, times in seen.items():
        if times >= VARIETY_MAX and model_id in pool.models:
            excluded[pool.models[model_id]] = True
    return last, excluded


def _pool(arena: Arena) -> ArenaPool | None:
    version = cache.get(VERSION_KEY) or ""
    pool = _pools.get(arena)
    if _fresh(pool, version):
        return pool if pool and pool.prompts else None
    with _building:
        pool = _pools.get(arena)
        if not _fresh(pool, version):
            pool = _pools[arena] = _build(arena, version)
    return pool if pool.prompts else None


def _fresh(pool: ArenaPool | None, version: str) -> bool:
    return (
        pool is not None
        and pool.version == version
        and time.monotonic() - pool.built_at < settings.ARENA_POOL_SECONDS
    )


def _build(arena: Arena, version: str) -> ArenaPool:
    images = list(Generation.objects.competing(arena).values_list("prompt_id", "model_id", "pk"))
    prompt_ids = sorted({prompt for prompt, _, _ in images})
    model_ids = sorted({model for _, model, _ in images})
    prompts = {prompt: i for i, prompt in enumerate(prompt_ids)}
    models = {model: i for i, model in enumerate(model_ids)}
    per_cell: dict[tuple[int, int], list[int]] = defaultdict(list)
    for prompt, model, pk in images:
        per_cell[prompts[prompt], models[model]].append(pk)
    depth = max((len(ids) for ids in per_cell.values()), default=1)
    generations = np.zeros((len(prompt_ids), len(model_ids), depth), dtype=np.int64)
    for (row, column), ids in per_cell.items():
        generations[row, column, : len(ids)] = ids

    shown = np.zeros(len(prompt_ids))
    for prompt, count in (
        Battle.objects.filter(arena=arena, prompt_id__in=prompt_ids)
        .values("prompt_id")
        .annotate(count=Count("pk"))
        .values_list("prompt_id", "count")
    ):
        shown[prompts[prompt]] = count

    plan = PairingPlan.objects.filter(arena=arena).first()
    weights = (plan.plan() if plan else sampling.Plan.uniform()).weights_for(model_ids)
    return ArenaPool(
        version=version,
        built_at=time.monotonic(),
        prompts=prompts,
        prompt_ids=prompt_ids,
        models=models,
        generations=generations,
        pool=sampling.battle_pool(
            weights, (generations > 0).any(axis=2), floor_share=settings.ARENA_FLOOR_SHARE
        ),
        shown=shown,
    )
