"""Votes as the engine's count table, aggregated by the database."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db.models import Count, QuerySet

from arena.battles.models import Vote
from arena.battles.outcomes import OUTCOMES, Choice
from arena.ratings import engine


def count_table(votes: QuerySet[Vote]) -> engine.VoteCounts:
    """These votes as a count table: one query, whatever their number."""
    return pairs_count_table(votes.values_list("left_model__slug", "right_model__slug", "choice"))


def pairs_count_table(rows: QuerySet[Any, tuple[str, str, str]]) -> engine.VoteCounts:
    """(left model, right model, choice) rows, of votes or of answers to a quality question,
    as a count table."""
    counted = rows.annotate(n=Count("pk")).order_by()
    left, right, choice, n = zip(*counted, strict=True) if counted else ((), (), (), ())
    models = sorted(set(left) | set(right))
    index = {slug: i for i, slug in enumerate(models)}
    repeats = np.asarray(n, dtype=np.int64)
    return engine.count_votes(
        models,
        np.repeat([index[slug] for slug in left], repeats),
        np.repeat([index[slug] for slug in right], repeats),
        np.repeat([OUTCOMES[Choice(c)].code for c in choice], repeats),
    )
