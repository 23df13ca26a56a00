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
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Min
from django.utils import timezone

from arena.battles.models import EloRating
from arena.catalog.models import AIModel, Arena, Generation, Offering, Provider, ProviderCall
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


def fastest_providers(speed: dict[tuple[int, int], Speed]) -> dict[int, tuple[float, int]]:
    """Per model id, its fastest provider's median time in ms and that provider's id; a model
    without a successful call in the window is absent (no speed is made up for it)."""
    fastest: dict[int, tuple[float, int]] = {}
    for (model_id, provider_id), figures in speed.items():
        if figures.p50_ms is not None and figures.p50_ms < fastest.get(model_id, (math.inf,))[0]:
            fastest[model_id] = (figures.p50_ms, provider_id)
    return fastest


def arena_points(arena: Arena, speed: dict[tuple[int, int], Speed]) -> list[dict[str, Any]]:
    """One point per rated model of the arena: its rating, its cheapest price per image, and
    its fastest provider's median time (None without successful calls), for the charts."""
    ratings = Rating.objects.board(arena).select_related("model")
    prices = dict(
        Offering.objects.values("model")
        .annotate(price=Min("price_per_image"))
        .values_list("model", "price")
    )
    fastest = fastest_providers(speed)
    points = []
    for row in ratings:
        seconds = fastest[row.model_id][0] if row.model_id in fastest else None
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


KIND = {
    (True, False): "Text-to-Image Model",
    (False, True): "Image Editing Model",
    (True, True): "Text-to-Image and Image Editing Model",
    (False, False): "Image Model",
}


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One model of the models index: its main-board ratings by arena, its cheapest offering
    and its fastest provider's median time over the speed window (None: no data yet)."""

    model: AIModel
    ratings: dict[str, Rating]
    offerings: list[Offering]
    fastest_ms: float | None
    fastest_provider: Provider | None

    @property
    def kind(self) -> str:
        return KIND[self.model.can_generate, self.model.can_edit]

    @property
    def cheapest(self) -> Offering | None:
        return min(self.offerings, key=lambda offering: offering.price_per_image, default=None)

    @property
    def price(self) -> Decimal | None:
        return self.cheapest.price_per_image if self.cheapest else None

    @property
    def provider_slugs(self) -> set[str]:
        return {offering.provider.slug for offering in self.offerings}

    @property
    def standings(self) -> list[tuple[Arena, Rating | None]]:
        """The arenas it competes or was rated in, with its main-board rating there."""
        return [
            (arena, self.ratings.get(arena))
            for arena in Arena
            if self.model.competes_in(arena) or arena in self.ratings
        ]


def model_index(
    speed: dict[tuple[int, int], Speed], providers: dict[int, Provider]
) -> list[IndexRow]:
    """Every catalog model as the index lists it, in a fixed number of queries."""
    ratings: dict[int, dict[str, Rating]] = defaultdict(dict)
    for rating in Rating.objects.main():
        ratings[rating.model_id][rating.arena] = rating
    fastest = fastest_providers(speed)
    rows = []
    for model in AIModel.objects.prefetch_related("offerings"):
        offerings = list(model.offerings.all())
        for offering in offerings:
            offering.provider = providers[offering.provider_id]
        ms, provider_id = fastest.get(model.pk, (None, None))
        rows.append(
            IndexRow(
                model=model,
                ratings=ratings[model.pk],
                offerings=offerings,
                fastest_ms=ms,
                fastest_provider=providers.get(provider_id) if provider_id else None,
            )
        )
    return rows


BEST_FOR_SHOWN = 3


def model_figures(model: AIModel) -> dict[str, Any]:
    """The context of the performance, benchmarks and landscape sections of the model page."""
    ratings = {row.arena: row for row in Rating.objects.main().filter(model=model)}
    elo = {row.arena: row for row in EloRating.objects.filter(model=model)}
    ranked = dict(
        Rating.objects.main()
        .filter(preliminary=False)
        .values("arena")
        .annotate(models=Count("pk"))
        .values_list("arena", "models")
    )
    standings = [
        {
            "arena": arena,
            "rating": ratings.get(arena),
            "elo": elo.get(arena),
            "of": ranked.get(arena.value, 0),
        }
        for arena in Arena
        if model.competes_in(arena) or arena.value in elo
    ]
    speed = provider_speed()
    performance = [
        (offering, speed.get((model.pk, offering.provider_id)))
        for offering in model.offerings.select_related("provider")
    ]
    charts = [
        {"arena": arena, "id": f"points-{arena}", "points": arena_points(arena, speed)}
        for arena in Arena
        if arena in ratings
    ]
    return {
        "standings": standings,
        "best_for": Rating.objects.category_ranks(model)[:BEST_FOR_SHOWN],
        "performance": performance,
        "charts": charts,
        "speed_days": SPEED_DAYS,
        "reliability": Generation.objects.filter(model=model).reliability(),
    }
