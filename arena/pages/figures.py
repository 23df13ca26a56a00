"""The measured figures of the model pages: provider speed and success, rating against cost
and against speed.

Speed comes from the ProviderCall rows of the last SPEED_DAYS days (every attempt the workers,
the API and the playground made): per offering (model x provider) the share of calls that
succeeded, and over the successful ones the median and 95th percentile of the total time and
the median time to first byte. Reading a month of calls is worth doing once per few minutes,
not per page view, so the table is cached for SPEED_CACHE_SECONDS.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from arena.catalog.models import Arena, Offering, ProviderCall
from arena.ratings.models import Rating

SPEED_DAYS = 30
SPEED_CACHE_SECONDS = 300
SPEED_CACHE_KEY = "pages:provider-speed"


@dataclass(frozen=True, slots=True)
class Speed:
    """How one offering (model x provider) performed over its recent calls."""

    calls: int
    succeeded: int
    p50_ms: float | None  # total time of the successful calls
    p95_ms: float | None
    ttfb_p50_ms: float | None  # time to first byte, where the provider reports one

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.calls if self.calls else 0.0


def speed_table(
    rows: Iterable[tuple[int, int, bool, float, float | None]],
) -> dict[tuple[int, int], Speed]:
    """Speed per (model id, provider id) from (model, provider, ok, total_ms, ttfb_ms) rows."""
    calls: dict[tuple[int, int], int] = defaultdict(int)
    totals: dict[tuple[int, int], list[float]] = defaultdict(list)
    ttfbs: dict[tuple[int, int], list[float]] = defaultdict(list)
    for model, provider, ok, total_ms, ttfb_ms in rows:
        key = (model, provider)
        calls[key] += 1
        if ok:
            totals[key].append(total_ms)
            if ttfb_ms is not None:
                ttfbs[key].append(ttfb_ms)
    table = {}
    for key, count in calls.items():
        p50, p95 = _percentiles(totals[key], 50, 95)
        (ttfb_p50,) = _percentiles(ttfbs[key], 50)
        table[key] = Speed(count, len(totals[key]), p50, p95, ttfb_p50)
    return table


def _percentiles(values: list[float], *which: float) -> list[float | None]:
    if not values:
        return [None] * len(which)
    return [float(value) for value in np.percentile(values, which)]


def provider_speed() -> dict[tuple[int, int], Speed]:
    """Speed per (model id, provider id) over the last SPEED_DAYS days, cached."""
    return cache.get_or_set(SPEED_CACHE_KEY, _measure, SPEED_CACHE_SECONDS)


def _measure() -> dict[tuple[int, int], Speed]:
    since = timezone.now() - timedelta(days=SPEED_DAYS)
    return speed_table(ProviderCall.objects.speed_rows(since=since))


def arena_points(arena: Arena, speed: dict[tuple[int, int], Speed]) -> list[dict[str, Any]]:
    """One point per rated model of the arena: its rating, its cheapest price per image, and
    its fastest provider's median time (None without successful calls), for the charts."""
    ratings = Rating.objects.board(arena).select_related("model")
    prices = dict(
        Offering.objects.values("model")
        .annotate(price=Min("price_per_image"))
        .values_list("model", "price")
    )
    fastest: dict[int, float] = {}
    for (model_id, _), figures in speed.items():
        if figures.p50_ms is not None:
            fastest[model_id] = min(figures.p50_ms, fastest.get(model_id, math.inf))
    points = []
    for row in ratings:
        seconds = fastest.get(row.model_id)
        points.append(
            {
                "model": row.model.name,
                "slug": row.model.slug,
                "rating": round(row.rating, 1),
                "price": float(prices[row.model_id]) if row.model_id in prices else None,
                "seconds": round(seconds / 1000, 3) if seconds is not None else None,
            }
        )
    return points
