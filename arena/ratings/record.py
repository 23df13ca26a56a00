"""The public sampling record (/leaderboard/sampling/): how battles are chosen, and what came
of it, per arena.

- The pairing plan the last ratings refit wrote (arena/ratings/pairing.py), over the models
  that compete now, as each pair's share of the plan's battles, and each model's share of all
  battles as the draw gives them now (plan, exploration and floor; arena/battles/sampling.py),
  as if every model had an image for every prompt.
- Battles served and votes counted per model over the last 7 and 30 days. A battle still open
  to a vote is counted only once it is voted on or expires: the page never tells which models
  a live battle shows. Votes counted are those the ratings and the vote files count.
- The votes left out: flagged votes, and why (each flagged voter's reason).
- The left-side advantage the last refit measured.

Aggregates only, in a fixed number of queries whatever the traffic (RECORD_QUERIES); the
battle and vote counts, which read a month of rows, are kept for RECORD_CACHE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from arena.battles.models import Battle, PairingPlan, Vote
from arena.battles.sampling import EXPLORATION, Plan, battle_pool
from arena.catalog.models import AIModel, Arena
from arena.ratings.models import Rating, RatingRun, VoterFlag

WINDOWS = (7, 30)  # days
RECORD_CACHE_KEY = "ratings:sampling-record"
RECORD_CACHE_SECONDS = 60
# Queries of a render: the plans, the models, the ranks, a run per arena, and (uncached) the
# battles and votes on each side, the vote totals and the flagged votes by reason.
RECORD_QUERIES = 5 + 6
# A pair's cell is shaded by its share of the heaviest pair's, in HEAT_LEVELS steps; pairs
# under HEAT_FLOOR of the plan's battles stay blank.
HEAT_LEVELS = 5
HEAT_FLOOR = 0.005


@dataclass(frozen=True)
class Cell:
    share: float | None  # of the plan's battles; None on the diagonal
    level: int  # 0 (blank) to HEAT_LEVELS

    @property
    def percent(self) -> str:
        if self.share is None:
            return ""
        if self.share == 0.0:
            return "0"
        return "<0.1" if self.share < 0.0005 else f"{self.share:.1%}".removesuffix("%")


@dataclass(frozen=True)
class ModelRow:
    model: AIModel
    rank: int | None
    share: float | None  # of all battles as the draw gives them now; None if not competing
    newcomer: bool  # competes, but joined since the plan was written
    battles: tuple[int, ...]  # per window
    votes: tuple[int, ...]  # per window

    @property
    def share_percent(self) -> float | None:
        return None if self.share is None else 100 * self.share


@dataclass(frozen=True)
class Reason:
    label: str
    votes: int
    voters: int


@dataclass(frozen=True)
class ArenaRecord:
    arena: Arena
    plan_written: datetime | None
    competing: list[AIModel]  # the heat map's columns
    heat: list[tuple[AIModel, list[Cell]]]  # its rows
    models: list[ModelRow]
    votes: int
    flagged: int
    reasons: list[Reason]
    run: RatingRun | None

    @property
    def flagged_share(self) -> float:
        return self.flagged / self.votes if self.votes else 0.0


def sampling_record() -> tuple[list[ArenaRecord], datetime]:
    """Every arena's record, and when its battles and votes were counted."""
    activity = cache.get(RECORD_CACHE_KEY)
    if activity is None:
        activity = _activity()
        cache.set(RECORD_CACHE_KEY, activity, RECORD_CACHE_SECONDS)
    plans = {plan.arena: plan for plan in PairingPlan.objects.all()}
    models = {model.pk: model for model in AIModel.objects.all()}
    ranks = {
        (arena, model_id): rank
        for arena, model_id, rank in Rating.objects.main().values_list("arena", "model", "rank")
    }
    records = [
        _arena_record(Arena(arena), plans.get(arena), models, ranks, activity) for arena in Arena
    ]
    return records, activity["counted_at"]


def _arena_record(
    arena: Arena,
    plan: PairingPlan | None,
    models: dict[int, AIModel],
    ranks: dict[tuple[str, int], int],
    activity: dict[str, Any],
) -> ArenaRecord:
    def order(model: AIModel) -> tuple[int, str]:
        return ranks.get((arena, model.pk), len(models) + 1), model.name

    competing = sorted(
        (model for model in models.values() if model.active and model.competes_in(arena)),
        key=order,
    )
    ids = [model.pk for model in competing]
    weights = (plan.plan() if plan else Plan.uniform()).weights_for(ids)
    pool = battle_pool(
        weights,
        np.ones((1, len(ids)), dtype=bool),
        exploration=EXPLORATION,
        floor_share=settings.ARENA_FLOOR_SHARE,
    )
    shares = dict(zip(ids, pool.shares().tolist(), strict=True)) if len(ids) > 1 else {}
    planned = set(plan.model_ids) if plan else set()

    battles, votes = activity["battles"].get(arena, {}), activity["votes"].get(arena, {})
    shown = set(ids) | battles.keys() | votes.keys()
    empty = (0,) * len(WINDOWS)
    rows = [
        ModelRow(
            model=model,
            rank=ranks.get((arena, model.pk)),
            share=shares.get(model.pk),
            newcomer=model.pk in shares and plan is not None and model.pk not in planned,
            battles=battles.get(model.pk, empty),
            votes=votes.get(model.pk, empty),
        )
        for model in sorted((models[pk] for pk in shown if pk in models), key=order)
    ]
    totals = activity["totals"].get(arena, (0, 0))
    return ArenaRecord(
        arena=arena,
        plan_written=plan.computed_at if plan else None,
        competing=competing,
        heat=list(zip(competing, _heat(weights), strict=True)),
        models=rows,
        votes=totals[0],
        flagged=totals[1],
        reasons=[Reason(*reason) for reason in activity["reasons"].get(arena, [])],
        run=RatingRun.objects.board(arena).first(),
    )


def _heat(weights: np.ndarray) -> list[list[Cell]]:
    """Each pair's share of the plan's battles (every pair counted once), shaded."""
    n = len(weights)
    upper = np.triu(weights, k=1)
    total = upper.sum()
    shares = (upper + upper.T) / total if total > 0 else np.zeros_like(weights)
    heaviest = shares.max(initial=0.0)
    return [
        [
            Cell(None, 0)
            if i == j
            else Cell(
                float(shares[i, j]),
                0
                if shares[i, j] < HEAT_FLOOR
                else min(HEAT_LEVELS, 1 + int((HEAT_LEVELS - 1) * shares[i, j] / heaviest)),
            )
            for j in range(n)
        ]
        for i in range(n)
    ]


def _activity() -> dict[str, Any]:
    """Battles and votes per arena and model over the windows; vote totals; flagged votes by
    reason. Plain dicts and tuples, for the cache."""
    now = timezone.now()
    since = {days: now - timedelta(days=days) for days in WINDOWS}
    oldest = since[max(WINDOWS)]

    def windowed(field: str) -> dict[str, Count]:
        return {
            f"last_{days}": Count("pk", filter=Q(**{f"{field}__gte": start}))
            for days, start in since.items()
        }

    battles: dict[str, dict[int, tuple[int, ...]]] = {}
    finished = Battle.objects.filter(created_at__gte=oldest).filter(
        Q(vote__isnull=False) | Q(expires_at__lte=now)
    )
    for side in ("left__model", "right__model"):
        rows = finished.values("arena", side).annotate(**windowed("created_at")).order_by()
        _add(battles, rows, side)
    votes: dict[str, dict[int, tuple[int, ...]]] = {}
    counted = Vote.objects.filter(flagged=False, created_at__gte=oldest)
    for side in ("left_model", "right_model"):
        rows = counted.values("arena", side).annotate(**windowed("created_at")).order_by()
        _add(votes, rows, side)

    totals = {
        row["arena"]: (row["votes"], row["flagged"])
        for row in Vote.objects.values("arena")
        .annotate(votes=Count("pk"), flagged=Count("pk", filter=Q(flagged=True)))
        .order_by()
    }
    reason = VoterFlag.objects.filter(voter=OuterRef("voter")).values("reason")[:1]
    labels = dict(VoterFlag.Reason.choices)
    reasons: dict[str, list[tuple[str, int, int]]] = {}
    for row in (
        Vote.objects.filter(flagged=True)
        .values("arena")
        .annotate(reason=Subquery(reason))
        .values("arena", "reason")
        .annotate(votes=Count("pk"), voters=Count("voter", distinct=True))
        .order_by("arena", "-votes")
    ):
        label = labels.get(row["reason"], "No reason on record (the flag was deleted)")
        reasons.setdefault(row["arena"], []).append((label, row["votes"], row["voters"]))
    return {
        "battles": battles,
        "votes": votes,
        "totals": totals,
        "reasons": reasons,
        "counted_at": now,
    }


def _add(into: dict[str, dict[int, tuple[int, ...]]], rows: Any, side: str) -> None:
    """Add one side's per-window counts to each (arena, model)'s."""
    for row in rows:
        per_model = into.setdefault(row["arena"], {})
        counts = tuple(row[f"last_{days}"] for days in WINDOWS)
        before = per_model.get(row[side], (0,) * len(WINDOWS))
        per_model[row[side]] = tuple(a + b for a, b in zip(before, counts, strict=True))
