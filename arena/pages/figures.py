"""The measured figures of the model pages: provider speed and success, rating against cost
and against speed.

Speed comes from the ProviderCall rows of the last SPEED_DAYS days (every attempt the workers,
the API and the playground made): per offering (model x provider) and operation (making images
from text, or editing one: the two take different times) the share of calls that succeeded,
and over the successful ones the median and 95th percentile of the total time and the median
time to first byte. Reading a month of calls is worth doing once per few minutes,
not per page view, so the table is cached for SPEED_CACHE_SECONDS. A provider's figures count
(in a ranking, a fastest median, a chart) once it made ARENA_MIN_PROVIDER_CALLS calls for the
model; fewer are shown as too few rather than as noise.

The landscape (every rated model's rating against its cheapest price and its fastest median
at the arena's operation, with the Pareto front of each) is the same for every model page and
is cached alongside.
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

import gateway
from arena.battles.models import EloRating, Vote
from arena.catalog.models import (
    OPERATION,
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
SPEED_CACHE_KEY = "pages:provider-speed-by-operation"

# How the page names the work of each operation.
OPERATION_NOUN = {gateway.Operation.GENERATE: "generation", gateway.Operation.EDIT: "edit"}

# An offering at one operation: (model id, provider id, operation).
SpeedKey = tuple[int, int, str]


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
    rows: Iterable[tuple[int, int, str, bool, float, float | None]],
) -> dict[SpeedKey, Speed]:
    """Speed per (model id, provider id, operation) from (model, provider, operation, ok,
    total_ms, ttfb_ms) rows."""
    calls: dict[SpeedKey, int] = defaultdict(int)
    totals: dict[SpeedKey, list[float]] = defaultdict(list)
    ttfbs: dict[SpeedKey, list[float]] = defaultdict(list)
    for model, provider, operation, ok, total_ms, ttfb_ms in rows:
        key = (model, provider, operation)
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


def provider_speed() -> dict[SpeedKey, Speed]:
    """Speed per (model id, provider id, operation) over the last SPEED_DAYS days, cached."""
    return cache.get_or_set(SPEED_CACHE_KEY, _measure, SPEED_CACHE_SECONDS)


def _measure() -> dict[SpeedKey, Speed]:
    since = timezone.now() - timedelta(days=SPEED_DAYS)
    return speed_table(ProviderCall.objects.speed_rows(since=since))


def measured(figures: Speed | None) -> bool:
    """Whether a provider made enough calls for its figures to mean something."""
    return figures is not None and figures.calls >= settings.ARENA_MIN_PROVIDER_CALLS


def fastest_providers(
    speed: dict[SpeedKey, Speed], operation: gateway.Operation
) -> dict[int, tuple[float, int]]:
    """Per model id, its fastest provider's median time in ms at this operation and that
    provider's id, among the providers with enough calls of it; a model without one is absent
    (no speed is made up for it)."""
    fastest: dict[int, tuple[float, int]] = {}
    for (model_id, provider_id, done), figures in speed.items():
        if (
            done == operation
            and measured(figures)
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
    providers: Iterable[Provider],
    speed: dict[SpeedKey, Speed],
    model_id: int,
    operation: gateway.Operation,
) -> list[ProviderPerformance]:
    """The model's providers at one operation, those with enough calls of it ranked by median
    time (then success rate; one that never succeeded last), then the others by how many calls
    they made; ties in the providers' order (Provider.sort_key)."""
    rows = [(provider, speed.get((model_id, provider.pk, operation))) for provider in providers]
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


@dataclass(frozen=True, slots=True)
class OperationPerformance:
    """A model's providers at one operation, as its page's performance section shows them."""

    operation: gateway.Operation
    rankings: list[ProviderPerformance]

    @property
    def noun(self) -> str:
        return OPERATION_NOUN[self.operation]

    @property
    def ranked(self) -> list[ProviderPerformance]:
        return [row for row in self.rankings if row.rank is not None]

    @property
    def fastest(self) -> ProviderPerformance | None:
        return next(
            (row for row in self.ranked if row.speed and row.speed.p50_ms is not None), None
        )

    @property
    def any_calls(self) -> bool:
        return any(row.speed for row in self.rankings)


def operations_shown(model: AIModel, speed: dict[SpeedKey, Speed]) -> list[gateway.Operation]:
    """The operations whose speed the model's page shows: those it can do, and any it was
    called for in the speed window (its capabilities may have changed since)."""
    called = {operation for model_id, _, operation in speed if model_id == model.pk}
    shown = [
        operation
        for operation in gateway.Operation
        if operation.value in model.capabilities or operation in called
    ]
    return shown or [gateway.Operation.GENERATE]


def performance_chart(performance: list[OperationPerformance]) -> dict[str, list[Any]]:
    """The ranked providers' figures as the three bar charts draw them (the rankings tables
    hold the same numbers); each bar names its operation where the page shows more than one."""
    named = len(performance) > 1
    ranked = [
        (f"{row.provider.name} · {block.noun}" if named else row.provider.name, row.speed)
        for block in performance
        for row in block.ranked
        if row.speed
    ]
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


LANDSCAPE_CACHE_KEY = "pages:landscape-by-operation"
LANDSCAPE_AXES = ("price", "seconds")


def landscape() -> dict[str, dict[str, Any]]:
    """Per arena with ratings: every rated model as a point (rating, cheapest price per image,
    fastest provider's median time at the arena's operation: generation or edit), the Pareto
    front on each axis, and the models left off each axis. Cached like the speed table it
    draws on: a few minutes behind is fine for a chart, and it is the same for every model's
    page."""
    return cache.get_or_set(LANDSCAPE_CACHE_KEY, _landscape_build, SPEED_CACHE_SECONDS)


def _landscape_build() -> dict[str, dict[str, Any]]:
    prices = dict(
        Offering.objects.values("model")
        .annotate(price=Min("price_per_image"))
        .values_list("model", "price")
    )
    speed = provider_speed()
    boards: dict[str, list[Rating]] = defaultdict(list)
    for row in Rating.objects.main().select_related("model").order_by("rank", "-rating"):
        boards[row.arena].append(row)
    result = {}
    for arena in Arena:
        if not boards[arena.value]:
            continue
        fastest = fastest_providers(speed, OPERATION[arena])
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
class Fastest:
    """A model's fastest provider at one operation: its median time over the speed window."""

    operation: gateway.Operation
    ms: float
    provider: Provider

    @property
    def noun(self) -> str:
        return OPERATION_NOUN[self.operation]


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One model of the models index: its main-board ratings by arena, its cheapest offering
    and, per operation with enough calls, its fastest provider (none: no data yet)."""

    model: AIModel
    ratings: dict[str, Rating]
    offerings: list[Offering]
    fastest: list[Fastest]

    def fastest_ms(self, operation: gateway.Operation | None = None) -> float | None:
        """The median time of its fastest provider at this operation; without one, at the
        first operation its card shows (generation for a model that generates)."""
        return next(
            (
                speed.ms
                for speed in self.fastest
                if operation is None or speed.operation == operation
            ),
            None,
        )

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


def model_index(speed: dict[SpeedKey, Speed], providers: dict[int, Provider]) -> list[IndexRow]:
    """Every catalog model as the index lists it, in a fixed number of queries."""
    ratings: dict[int, dict[str, Rating]] = defaultdict(dict)
    for rating in Rating.objects.main():
        ratings[rating.model_id][rating.arena] = rating
    fastest: dict[int, list[Fastest]] = defaultdict(list)
    for operation in gateway.Operation:
        for model_id, (ms, provider_id) in fastest_providers(speed, operation).items():
            # the speed table is cached: a provider deleted since is left out
            if provider_id in providers:
                fastest[model_id].append(Fastest(operation, ms, providers[provider_id]))
    rows = []
    for model in AIModel.objects.prefetch_related("offerings"):
        offerings = list(model.offerings.all())
        for offering in offerings:
            offering.provider = providers[offering.provider_id]
        rows.append(
            IndexRow(
                model=model,
                ratings=ratings[model.pk],
                offerings=offerings,
                fastest=fastest[model.pk],
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
    performance = [
        OperationPerformance(operation, provider_rankings(providers, speed, model.pk, operation))
        for operation in operations_shown(model, speed)
    ]
    ranked_any = any(block.ranked for block in performance)
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
        "performance": performance,
        "any_calls": any(block.any_calls for block in performance),
        "performance_chart": performance_chart(performance) if ranked_any else None,
        "min_provider_calls": settings.ARENA_MIN_PROVIDER_CALLS,
        "charts": charts,
        "landscape_drawn": bool(drawn),
        "has_charts": bool(drawn or ranked_any),
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
