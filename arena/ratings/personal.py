"""A visitor's own leaderboard: an arena's models ranked from their votes alone.

The main board's engine fits it (`engine.compute_leaderboard`, with the same bootstrap rounds
and seed) on the count table of the votes cast in the visitor's session (`Vote.voter` is the
keyed hash of the session key), flagged ones included: it is their own opinion. Every model
they voted on is ranked, none is set apart as preliminary: with a few dozen votes the
intervals are wide, and they are shown as they are. Beside each model stands its rating on the
arena's main board, and the two orders are compared by Kendall's tau over the models both rank.

Three queries, whatever the number of votes: the visitor's count table, the main board, the
models' names. The fit is kept in the cache under a digest of the count table, so showing the
same votes again (a reload, a tab, a share) costs no bootstrap: a visitor with a thousand votes
over 64 models is some 90 ms of CPU to fit.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache

from arena.battles.models import Vote
from arena.catalog.models import AIModel, Arena
from arena.ratings import engine
from arena.ratings.counts import count_table
from arena.ratings.models import Rating

FIT_CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class PersonalRanking:
    """One visitor's ranking of an arena's models; `rows` stay empty until `ready`."""

    arena: Arena
    votes: int
    needed: int
    rows: list[dict[str, Any]]
    tau: float | None

    @property
    def ready(self) -> bool:
        return self.votes >= self.needed

    @property
    def to_go(self) -> int:
        return max(0, self.needed - self.votes)


def personal_ranking(*, arena: Arena, voter: str) -> PersonalRanking:
    """The ranking this voter's votes in this arena make, beside the main board's."""
    counts = count_table(Vote.objects.filter(arena=arena, voter=voter))
    needed = settings.ARENA_PERSONAL_MIN_VOTES
    if counts.total < needed:
        return PersonalRanking(Arena(arena), counts.total, needed, [], None)
    main = {row.model.slug: row for row in Rating.objects.board(arena).select_related("model")}
    names = dict(AIModel.objects.filter(slug__in=counts.models).values_list("slug", "name"))
    rows = [_row(row, names, main.get(row["model"])) for row in _fit(counts)]
    both = [row for row in rows if row["main_rating"] is not None]
    tau = kendall_tau([row["rating"] for row in both], [row["main_rating"] for row in both])
    return PersonalRanking(Arena(arena), counts.total, needed, rows, tau)


def _fit(counts: engine.VoteCounts) -> list[dict[str, Any]]:
    """The engine's rows for these counts, with the main board's bootstrap rounds and seed."""
    rounds, seed = settings.ARENA_BOOTSTRAP_ROUNDS, settings.ARENA_RATINGS_SEED
    digest = hashlib.sha256(
        f"{rounds}:{seed}:{'/'.join(counts.models)}:".encode() + counts.table.tobytes()
    ).hexdigest()
    return cache.get_or_set(
        f"ratings:personal-fit:{digest}",
        lambda: engine.compute_leaderboard(counts, bootstrap=rounds, seed=seed).rows(),
        FIT_CACHE_SECONDS,
    )


def _row(row: dict[str, Any], names: dict[str, str], main: Rating | None) -> dict[str, Any]:
    """A row as the page shows it and a shared copy keeps it: plain numbers, nothing else."""
    return {
        "model": row["model"],
        "name": names.get(row["model"], row["model"]),
        "rank": row["rank"],
        "rating": row["rating"],
        "ci_low": row["ci_low"],
        "ci_high": row["ci_high"],
        "votes": row["votes"],
        "main_rank": main.rank if main else None,
        "main_rating": main.rating if main else None,
        "main_ci_low": main.ci_low if main else None,
        "main_ci_high": main.ci_high if main else None,
        "main_preliminary": main.preliminary if main else None,
    }


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Kendall's tau-b of two scorings of the same items: 1 for the same order, -1 for the
    reverse; ties count as neither. None where it is undefined (fewer than two items, or
    one side ties them all)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size != y.size:
        raise ValueError("both scorings must cover the same items")
    i, j = np.triu_indices(x.size, k=1)
    dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    untied = np.count_nonzero(dx) * np.count_nonzero(dy)
    if not untied:
        return None
    return float((dx * dy).sum() / math.sqrt(untied))


def shown(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a page shows of a ranking, live or shared: the rows with their interval bars, the
    same models in the main board's order (those it has not rated last), how many models
    both rank (what tau is over), and whether the main board ranks some apart."""
    return {
        "rows": interval_bars(rows),
        "everyone": sorted(
            rows, key=lambda row: (row["main_rating"] is None, -(row["main_rating"] or 0))
        ),
        "compared": sum(row["main_rating"] is not None for row in rows),
        "preliminary": any(row["main_preliminary"] for row in rows),
    }


def interval_bars(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows, each with where its intervals and ratings fall on one scale from 0 to 100
    shared by the whole table (yours and the main board's), for the interval figure."""
    ends = [
        value
        for row in rows
        for value in (row["ci_low"], row["ci_high"], row["main_ci_low"], row["main_ci_high"])
        if value is not None
    ]
    if not ends:
        return []
    low, span = min(ends), (max(ends) - min(ends)) or 1.0

    def at(value: float) -> str:
        return f"{100 * (value - low) / span:.1f}"

    def bar(prefix: str, row: dict[str, Any]) -> dict[str, str] | None:
        if row[f"{prefix}rating"] is None:
            return None
        start, end = row[f"{prefix}ci_low"], row[f"{prefix}ci_high"]
        return {
            "x": at(start),
            "width": f"{100 * (end - start) / span:.1f}",
            "at": at(row[f"{prefix}rating"]),
        }

    return [{**row, "yours": bar("", row), "everyone": bar("main_", row)} for row in rows]
