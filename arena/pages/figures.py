"""The measured figures of the model pages: provider speed and success, rating against cost
and against speed.

Speed comes from the ProviderCall rows of the last SPEED_DAYS days (every attempt the workers,
the API and the playground made): per offering (model x provider) the share of calls that
succeeded, and over the successful ones the median and 95th percentile of the total time and
the median time to first byte. Reading a month of calls is worth doing once per few minutes,
not per page view, so the table is cached for SPEED_CACHE_SECONDS. A provider's figures count
(in a ranking, a fastest median, a chart) once it made ARENA_MIN_PROVIDER_CALLS calls for the
model; fewer are shown as too few rather than as noise.

The landscape (every rated model's rating against its cheapest price and its fastest median,
with the Pareto front of each) is the same for every model page and is cached alongside.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.utils import timezone

from arena.battles.models import EloRating, Vote
from arena.catalog.models import (
    AIModel,
    Arena,
    Generation,
    Offering,
    Provider,
    ProviderCall,
    cheapest_offering,
)
from arena.catalog.services import model_routable
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


def measured(figures: Speed | None) -> bool:
    """Whether a provider made enough calls for its figures to mean something."""
    return figures is not None and figures.calls >= settings.ARENA_MIN_PROVIDER_CALLS


def fastest_providers(speed: dict[tuple[int, int], Speed]) -> dict[int, tuple[float, int]]:
    """Per model id, its fastest provider's median time in ms and that provider's id, among the
    providers with enough calls; a model without one is absent (no speed is made up for it)."""
    fastest: dict[int, tuple[float, int]] = {}
    for (model_id, provider_id), figures in speed.items():
        if (
            measured(figures)
            and figures.p50_ms is not None
            and figures.p50_ms < fastest.get(model_id, (math.inf,))[0]
        ):
            fastest[model_id] = (figures.p50_ms, provider_id)
    return fastest


@dataclass(frozen=True, slots=True)
class ProviderPerformance:
    """One provider of a model on its page: its figures over the speed window, and its place
    among the providers with enough calls (None: no calls, or too few to rank)."""

    provider: Provider
    speed: Speed | None
    rank: int | None


def provider_rankings(
    providers: Iterable[Provider], speed: dict[tuple[int, int], Speed], model_id: int
) -> list[ProviderPerformance]:
    """The model's providers, those with enough calls ranked by median generation time (then
    success rate; one that never succeeded last), then the others by how many calls they made;
    ties in the providers' order (Provider.sort_key)."""
    rows = [(provider, speed.get((model_id, provider.pk))) for provider in providers]
    ranked = sorted(
        ((provider, figures) for provider, figures in rows if measured(figures)),
        key=lambda row: (
            row[1].p50_ms is None,
            row[1].p50_ms or 0.0,
            -row[1].success_rate,
            row[0].sort_key,
        ),
    )
    unranked = sorted(
        ((provider, figures) for provider, figures in rows if not measured(figures)),
        key=lambda row: (-(row[1].calls if row[1] else 0), row[0].sort_key),
    )
    return [
        ProviderPerformance(provider, figures, rank)
        for rank, (provider, figures) in enumerate(ranked, start=1)
    ] + [ProviderPerformance(provider, figures, None) for provider, figures in unranked]


def performance_chart(rankings: list[ProviderPerformance]) -> dict[str, list[Any]]:
    """The ranked providers' figures as the three bar charts draw them (the rankings table
    holds the same numbers)."""
    ranked = [(row.provider.name, row.speed) for row in rankings if row.rank and row.speed]
    return {
        "providers": [name for name, _ in ranked],
        "p50_ms": [_rounded(speed.p50_ms) for _, speed in ranked],
        "success_percent": [round(speed.success_rate * 100, 1) for _, speed in ranked],
        "ttfb_ms": [_rounded(speed.ttfb_p50_ms) for _, speed in ranked],
    }


def _rounded(ms: float | None) -> int | None:
    return round(ms) if ms is not None else None


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """The indices of the points no other point dominates, lowest x first: a point dominates
    another when its x is no higher and its y no lower, and one of them strictly (a cheaper or
    faster model rated at least as well). Twins of a front point are on it too."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    for i in order:
        if not front or points[i][1] > points[front[-1]][1] or points[i] == points[front[-1]]:
            front.append(i)
    return front


LANDSCAPE_CACHE_KEY = "pages:landscape"
LANDSCAPE_AXES = ("price", "seconds")


def landscape() -> dict[str, dict[str, Any]]:
    """Per arena with ratings: every rated model as a point (rating, cheapest price per image,
    fastest provider's median time), the Pareto front on each axis, and the models left off
    each axis. Cached like the speed table it draws on: a few minutes behind is fine for a
    chart, and it is the same for every model's page."""
    return cache.get_or_set(LANDSCAPE_CACHE_KEY, _landscape_build, SPEED_CACHE_SECONDS)


def _landscape_build() -> dict[str, dict[str, Any]]:
    prices = dict(
        Offering.objects.values("model")
        .annotate(price=Min("price_per_image"))
        .values_list("model", "price")
    )
    fastest = fastest_providers(provider_speed())
    boards: dict[str, list[Rating]] = defaultdict(list)
    for row in Rating.objects.main().select_related("model").order_by("rank", "-rating"):
        boards[row.arena].append(row)
    result = {}
    for arena in Arena:
        if not boards[arena.value]:
            continue
        points = []
        for row in boards[arena.value]:
            price = prices.get(row.model_id)
            ms = fastest.get(row.model_id, (None,))[0]
            points.append(
                {
                    "model": row.model.name,
                    "slug": row.model.slug,
                    "rating": round(row.rating, 1),
                    "price": float(price) if price is not None else None,
                    "seconds": round(ms / 1000, 3) if ms is not None else None,
                }
            )
        fronts = {}
        for axis in LANDSCAPE_AXES:
            drawn = [point for point in points if point[axis] is not None]
            fronts[axis] = [
                [drawn[i][axis], drawn[i]["rating"]]
                for i in pareto_front([(point[axis], point["rating"]) for point in drawn])
            ]
        result[arena.value] = {
            "points": points,
            "fronts": fronts,
            "unpriced": [point["model"] for point in points if point["price"] is None],
            # A log scale has no place for $0: these are named beside the chart instead.
            "free": [point["model"] for point in points if point["price"] == 0],
            "unmeasured": [point["model"] for point in points if point["seconds"] is None],
        }
    return result


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
        return cheapest_offering(self.offerings)

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


def vote_counts(model: AIModel) -> dict[str, tuple[int, int]]:
    """Per arena, the counted (unflagged) votes the model was in and over how many distinct
    prompts: one query, cached with the other figures."""
    return cache.get_or_set(
        f"pages:vote-counts:{model.pk}",
        lambda: {
            arena: (votes, prompts)
            for arena, votes, prompts in Vote.objects.filter(flagged=False)
            .filter(Q(left_model=model) | Q(right_model=model))
            .values("arena")
            .annotate(votes=Count("pk"), prompts=Count("prompt", distinct=True))
            .values_list("arena", "votes", "prompts")
            .order_by()
        },
        SPEED_CACHE_SECONDS,
    )


def model_figures(model: AIModel) -> dict[str, Any]:
    """The context of the performance, benchmarks and landscape sections of the model page,
    in a fixed number of queries whatever the number of models, votes and calls."""
    ratings = {row.arena: row for row in Rating.objects.main().filter(model=model)}
    elo = {row.arena: row for row in EloRating.objects.filter(model=model)}
    ranked = dict(
        Rating.objects.main()
        .filter(preliminary=False)
        .values("arena")
        .annotate(models=Count("pk"))
        .values_list("arena", "models")
    )
    counts = vote_counts(model)
    standings = [
        {
            "arena": arena,
            "rating": ratings.get(arena),
            "elo": elo.get(arena),
            "of": ranked.get(arena.value, 0),
            "votes": counts.get(arena.value, (0, 0))[0],
            "prompts": counts.get(arena.value, (0, 0))[1],
        }
        for arena in Arena
        if model.competes_in(arena) or arena.value in elo
    ]
    speed = provider_speed()
    providers = [offering.provider for offering in model.offerings.select_related("provider")]
    rankings = provider_rankings(providers, speed, model.pk)
    ranked_providers = [row for row in rankings if row.rank is not None]
    fastest = next(
        (row for row in ranked_providers if row.speed and row.speed.p50_ms is not None), None
    )
    boards = landscape()
    charts = [
        {"arena": arena, "id": f"landscape-{arena}", "data": boards[arena.value]}
        if arena in ratings and arena.value in boards
        else {"arena": arena, "absent": _off_the_charts(model, arena, rated=arena in ratings)}
        for arena in Arena
        if model.competes_in(arena) or arena in ratings
    ]
    drawn = [chart for chart in charts if "data" in chart]
    return {
        "standings": standings,
        "best_for": Rating.objects.category_ranks(model)[:BEST_FOR_SHOWN],
        "rankings": rankings,
        "fastest": fastest,
        "any_calls": any(row.speed for row in rankings),
        "performance_chart": performance_chart(rankings) if ranked_providers else None,
        "min_provider_calls": settings.ARENA_MIN_PROVIDER_CALLS,
        "charts": charts,
        "landscape_drawn": bool(drawn),
        "has_charts": bool(drawn or ranked_providers),
        "speed_days": SPEED_DAYS,
        "reliability": cache.get_or_set(
            f"pages:reliability:{model.pk}",
            lambda: Generation.objects.filter(model=model).reliability(),
            SPEED_CACHE_SECONDS,
        ),
    }


def _off_the_charts(model: AIModel, arena: Arena, *, rated: bool) -> str:
    """Why the model has no point on the arena's landscape, in a sentence."""
    if rated:
        return (
            f"{model.name}'s rating in {arena.label} came after these charts were last drawn; "
            "they are redrawn every few minutes."
        )
    if not model.active and not model_routable(model.slug):
        return (
            f"{model.name} is not on the charts: no provider key for it is set on this server, "
            f"so it makes no images for battles and has no rating in {arena.label}."
        )
    return (
        f"{model.name} is not on the charts yet: it has no rating in {arena.label}, where "
        "ratings come from blind votes."
    )
