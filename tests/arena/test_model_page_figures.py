"""Model pages, measured figures: provider speed and success from the recorded calls (ranked
once a provider has made enough of them), the benchmark sentences, and the landscape charts
with their Pareto fronts; all in a number of queries that does not grow with the data."""

import html
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from arena.battles.models import EloRating
from arena.catalog.models import Category, Offering, Provider, ProviderCall
from arena.catalog.services import catalog_sync
from arena.pages.figures import Speed, pareto_front, speed_table
from arena.ratings.models import Rating
from tests.arena.helpers import measured_models, reset_shared_state, votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


def page_of(slug: str) -> str:
    response = Client().get(f"/models/{slug}/")
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    """The words of some HTML, as a reader sees them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def section(page: str, name: str) -> str:
    return re.search(rf'<section class="{name}".*?</section>', page, re.S)[0]


def json_of(page: str, element_id: str):
    return json.loads(
        re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page)[1]
    )


def ranking_rows(page: str) -> list[str]:
    table = re.search(r'<table class="rankings">.*?</table>', page, re.S)[0]
    return [text(row) for row in re.findall(r"<tr>.*?</tr>", table.split("<tbody>")[1], re.S)]


def ranking_tables(page: str) -> dict[str, list[str]]:
    """The rows of each rankings table, by the heading above it."""
    tables = re.findall(r"<h3>(Provider rankings[^<]*)</h3>(.*?</table>)", page, re.S)
    return {heading: ranking_rows(table) for heading, table in tables}


def calls(model, provider, times_ms, *, ok=True, ttfb_ms=None, operation="generate"):
    now = timezone.now()
    ProviderCall.objects.bulk_create(
        ProviderCall(
            model=model, provider=provider, provider_model="x", ok=ok, total_ms=ms,
            ttfb_ms=(ttfb_ms if ttfb_ms is not None else ms / 4) if ok else None,
            started_at=now - timedelta(hours=1), operation=operation,
        )
        for ms in times_ms
    )  # fmt: skip


def offered(model, *names: str) -> list[Provider]:
    providers = []
    for name in names:
        provider, _ = Provider.objects.get_or_create(slug=name.lower(), defaults={"name": name})
        Offering.objects.create(
            model=model, provider=provider, provider_model=name, price_per_image=Decimal("0.02")
        )
        providers.append(provider)
    return providers


def rate(model, rating: float, *, arena="t2i", rank=1, preliminary=False, votes=100):
    return Rating.objects.create(
        arena=arena, model=model, rating=rating, ci_low=rating - 10, ci_high=rating + 12,
        rank=rank, votes=votes, preliminary=preliminary, computed_at=timezone.now(),
    )  # fmt: skip


def test_speed_counts_failures_in_the_success_rate_and_times_only_successes():
    gen = "generate"
    rows = [(1, 7, gen, True, float(ms), ms / 10) for ms in range(100, 1100, 100)]  # 0.1..1 s
    rows += [(1, 7, gen, False, 60_000.0, None)] * 2  # timeouts: not in the times
    rows += [(1, 8, gen, True, 500.0, None), (2, 7, gen, False, 10.0, None)]

    table = speed_table(rows)

    assert table[(1, 7, gen)].calls == 12
    assert table[(1, 7, gen)].success_rate == pytest.approx(10 / 12)
    assert table[(1, 7, gen)].p50_ms == pytest.approx(550.0)  # between 500 and 600
    assert table[(1, 7, gen)].p95_ms == pytest.approx(955.0)
    assert table[(1, 7, gen)].ttfb_p50_ms == pytest.approx(55.0)
    assert table[(1, 8, gen)] == Speed(
        calls=1, succeeded=1, p50_ms=500.0, p95_ms=500.0, ttfb_p50_ms=None
    )
    assert table[(2, 7, gen)] == Speed(
        calls=1, succeeded=0, p50_ms=None, p95_ms=None, ttfb_p50_ms=None
    )
    assert table[(2, 7, gen)].success_rate == 0.0


def test_speed_keeps_generations_and_edits_of_an_offering_apart():
    rows = [(1, 7, "generate", True, 1_000.0, None), (1, 7, "edit", True, 9_000.0, None)]

    table = speed_table(rows)

    assert table[(1, 7, "generate")].p50_ms == 1_000.0
    assert table[(1, 7, "edit")].p50_ms == 9_000.0


def test_the_rankings_table_shows_each_providers_times_success_and_calls():
    measured_models()

    rows = ranking_rows(page_of("fast"))

    # 4 of 5 calls in the window returned images; median of 0.8, 1.0, 1.2, 1.4 s (the old
    # 99 s calls are out), p95, median first byte, and the calls.
    assert rows == [
        "1 Cheap Cloud 1,100 ms 1,370 ms 80.0% 550 ms 5",
        "– Pricey Cloud no calls yet 0",
    ]


def test_the_sentence_names_the_fastest_provider_with_enough_calls(settings):
    settings.ARENA_MIN_PROVIDER_CALLS = 20
    model = AIModelFactory(slug="m", name="M")
    steady, quick = offered(model, "Steady", "Quick")
    calls(model, steady, [5_545.0] * 15)
    calls(model, steady, [90_000.0] * 12, ok=False)  # 15 of 27: 55.6%
    calls(model, quick, [800.0] * 19)  # faster, but one call short of being measured

    performance = section(page_of("m"), "performance")

    assert (
        "Fastest generation through Steady at 5,545 ms median latency with 55.6% success rate"
        in text(performance)
    )
    assert ranking_rows(performance) == [
        "1 Steady 5,545 ms 5,545 ms 55.6% 1,386 ms 27",
        "– Quick not enough calls yet (fewer than 20) 19",
    ]
    assert json_of(performance, "performance-chart") == {
        "providers": ["Steady"],
        "p50_ms": [5545],
        "success_percent": [55.6],
        "ttfb_ms": [1386],
    }


def test_generations_and_edits_are_timed_apart_on_the_page_and_in_each_arenas_landscape(
    settings,
):
    settings.ARENA_MIN_PROVIDER_CALLS = 4
    model = AIModelFactory(slug="both", name="Both", can_edit=True)
    quick, steady = offered(model, "Quick", "Steady")
    calls(model, quick, [1_000.0] * 5)  # fast generations
    calls(model, steady, [20_000.0] * 5, operation="edit")  # slow edits
    calls(model, quick, [500.0] * 3, operation="edit")  # one call short of being measured
    for arena in ("t2i", "edit"):
        rate(model, 1100.0, arena=arena)

    page = page_of("both")
    performance = section(page, "performance")

    assert json_of(page, "landscape-t2i")["points"][0]["seconds"] == 1.0
    assert json_of(page, "landscape-edit")["points"][0]["seconds"] == 20.0
    assert (
        "Fastest generation through Quick at 1,000 ms median latency with 100.0% success rate; "
        "fastest edit through Steady at 20,000 ms median latency with 100.0% success rate, "
        "over the last 30 days." in text(performance)
    )
    assert ranking_tables(performance) == {
        "Provider rankings: generation": [
            "1 Quick 1,000 ms 1,000 ms 100.0% 250 ms 5",
            "– Steady no calls yet 0",
        ],
        "Provider rankings: edit": [
            "1 Steady 20,000 ms 20,000 ms 100.0% 5,000 ms 5",
            "– Quick not enough calls yet (fewer than 4) 3",
        ],
    }
    assert json_of(performance, "performance-chart")["providers"] == [
        "Quick · generation",
        "Steady · edit",
    ]


def test_an_operation_with_too_few_calls_says_so_beside_the_other(settings):
    settings.ARENA_MIN_PROVIDER_CALLS = 4
    model = AIModelFactory(slug="both", name="Both", can_edit=True)
    (only,) = offered(model, "Only")
    calls(model, only, [2_000.0] * 4, operation="edit")
    calls(model, only, [1_000.0] * 2)

    performance = text(section(page_of("both"), "performance"))

    assert (
        "No provider has made the 4 generation calls for this model that its speed needs: not "
        "enough calls yet; fastest edit through Only at 2,000 ms median latency" in performance
    )


def test_a_model_that_only_edits_names_its_edits_and_shows_one_table(settings):
    settings.ARENA_MIN_PROVIDER_CALLS = 4
    model = AIModelFactory(slug="editor", name="Editor", can_generate=False, can_edit=True)
    (only,) = offered(model, "Only")
    calls(model, only, [3_000.0] * 4, operation="edit")

    performance = section(page_of("editor"), "performance")

    assert "Fastest edit through Only at 3,000 ms median latency" in text(performance)
    assert list(ranking_tables(performance)) == ["Provider rankings"]
    assert json_of(performance, "performance-chart")["providers"] == ["Only"]


def test_too_few_calls_everywhere_says_so_and_draws_no_bars(settings):
    settings.ARENA_MIN_PROVIDER_CALLS = 20
    model = AIModelFactory(slug="m", name="M")
    (only,) = offered(model, "Only")
    calls(model, only, [1_000.0] * 3)

    page = page_of("m")

    assert "not enough calls yet" in text(section(page, "performance"))
    assert "Fastest generation" not in page
    assert "performance-chart" not in page
    assert "data-bars" not in page


def test_providers_rank_by_median_time_then_success_and_one_that_never_succeeds_last(settings):
    settings.ARENA_MIN_PROVIDER_CALLS = 4
    model = AIModelFactory(slug="m", name="M")
    broken, slow, fast, flaky_fast = offered(model, "Broken", "Slow", "Fast", "Flaky")
    calls(model, broken, [100.0] * 4, ok=False)
    calls(model, slow, [9_000.0] * 4)
    calls(model, fast, [2_000.0] * 4)
    calls(model, flaky_fast, [2_000.0] * 4)
    calls(model, flaky_fast, [2_000.0] * 4, ok=False)

    rows = ranking_rows(page_of("m"))

    assert [row.split()[:2] for row in rows] == [
        ["1", "Fast"],
        ["2", "Flaky"],
        ["3", "Slow"],
        ["4", "Broken"],
    ]
    assert rows[3] == "4 Broken – – 0.0% – 4"


def test_a_real_model_without_a_key_shows_no_speed():
    catalog_sync()  # the real models are in the catalog whatever keys are set; none is here

    page = page_of("flux-1.1-pro")
    performance = text(section(page, "performance"))

    assert "No calls yet" in performance
    assert all(row.endswith("no calls yet 0") for row in ranking_rows(page))
    assert " ms" not in performance.split("Measured over")[0]
    assert "performance-chart" not in page


def test_the_benchmark_sentence_counts_the_votes_and_the_distinct_prompts_behind_it():
    model, rival, other = (AIModelFactory(slug=s, name=s.title()) for s in ("m", "rival", "other"))
    prompts = [PromptFactory() for _ in range(3)]
    images = {
        (prompt.pk, ai.pk): GenerationFactory(prompt=prompt, model=ai)
        for prompt in prompts
        for ai in (model, rival, other)
    }
    rows = [
        (images[prompts[i % 2].pk, model.pk], images[prompts[i % 2].pk, rival.pk], "left", f"s{i}")
        for i in range(5)
    ]
    rows += [(images[prompts[2].pk, rival.pk], images[prompts[2].pk, model.pk], "tie", "s9")]
    rows += [
        (images[prompts[2].pk, rival.pk], images[prompts[2].pk, other.pk], "left", "s8")
    ]  # not its vote
    votes = votes_bulk(rows)
    votes[0].flagged = True  # left out of the ratings, so out of the count too
    votes[0].save()
    rate(model, 1223.4, rank=27)
    for i, ai in enumerate((rival, other)):
        rate(ai, 1000.0 - i, rank=28 + i)

    benchmarks = text(section(page_of("m"), "benchmarks"))

    assert (
        "Ranked #27 of 3 in Text-to-Image with a rating of 1223 (+12/−10), "
        "based on 5 blind votes over 3 prompts." in benchmarks
    )


def test_the_benchmarks_name_the_category_where_the_model_ranks_best():
    model, rival = AIModelFactory(slug="m", name="M"), AIModelFactory(slug="rival")
    AIModelFactory(slug="unrated")
    pets = Category.objects.create(arena="t2i", slug="pets", name="Pets")
    maps = Category.objects.create(arena="t2i", slug="maps", name="Maps", order=1)
    for category, ours, theirs in ((pets, 2, 1), (maps, 1, 2)):
        for ai, rank in ((model, ours), (rival, theirs)):
            Rating.objects.create(
                arena="t2i", category=category.slug, model=ai, rating=1100.0 - 50 * rank,
                ci_low=1000, ci_high=1100, rank=rank, votes=40, preliminary=False,
                computed_at=timezone.now(),
            )  # fmt: skip

    benchmarks = section(page_of("m"), "benchmarks")

    assert (
        'Ranks best in <a href="/leaderboard/t2i/?category=maps">Maps</a>: '
        "#1 of 2 with a rating of 1050." in benchmarks
    )
    assert 'Ranks best in <a href="/leaderboard/t2i/?category=pets">Pets</a>: #1 of 2' in (
        section(page_of("rival"), "benchmarks")
    )
    assert "Ranks best in" not in section(page_of("unrated"), "benchmarks")


def test_preliminary_elo_only_and_unvoted_models_say_so():
    preliminary, elo_only = AIModelFactory(slug="pre"), AIModelFactory(slug="elo")
    AIModelFactory(slug="none")
    rate(preliminary, 1010.0, rank=2, preliminary=True, votes=4)
    EloRating.objects.create(arena="t2i", model=elo_only, rating=1040.0, votes=6, wins=4)

    assert "Preliminary #2 in Text-to-Image with a rating of 1010" in text(page_of("pre"))
    elo_page = text(section(page_of("elo"), "benchmarks"))
    assert "Not ranked yet in Text-to-Image: live Elo 1040" in elo_page
    assert "No votes yet in Text-to-Image." in text(section(page_of("none"), "benchmarks"))


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(900, 1100)), max_size=40))
def test_the_pareto_front_holds_exactly_the_points_nothing_dominates(raw):
    points = [(float(x) / 100, float(y)) for x, y in raw]  # small grids: ties and twins happen

    def dominates(a, b):
        return a[0] <= b[0] and a[1] >= b[1] and a != b

    front = pareto_front(points)

    assert len(set(front)) == len(front)
    assert [points[i][0] for i in front] == sorted(points[i][0] for i in front)
    for i in front:
        assert not any(dominates(other, points[i]) for other in points)
    for i in set(range(len(points))) - set(front):
        assert any(dominates(other, points[i]) for other in points)


def test_the_landscape_charts_every_rated_model_with_its_fronts():
    measured_models()
    cheap_but_poor = AIModelFactory(slug="poor", name="Poor Model")
    offered(cheap_but_poor, "Bargain")
    Offering.objects.filter(model=cheap_but_poor).update(price_per_image=Decimal("0.005"))
    rate(cheap_but_poor, 900.0, rank=3)

    page = page_of("slow")
    board = json_of(page, "landscape-t2i")

    assert sorted(board["points"], key=lambda p: p["slug"]) == [
        {"model": "Fast Model", "slug": "fast", "rating": 1100.0, "price": 0.01, "seconds": 1.1},
        {"model": "Poor Model", "slug": "poor", "rating": 900.0, "price": 0.005, "seconds": None},
        {"model": "Slow Model", "slug": "slow", "rating": 950.0, "price": 0.02, "seconds": 25.0},
    ]
    # The poor model is cheapest, the fast one the best: both on the price front; the slow
    # model is beaten on both counts by the fast one.
    assert board["fronts"] == {
        "price": [[0.005, 900.0], [0.01, 1100.0]],
        "seconds": [[1.1, 1100.0]],
    }
    assert 'data-chart="price"' in page
    assert 'data-chart="seconds"' in page
    assert 'data-model="slow"' in page
    assert 'data-name="Slow Model"' in page
    assert "chart-4.6.1.umd.min.js" in page
    assert "landscape-edit" not in page  # not rated there: no chart


def test_the_landscape_notes_name_the_models_it_cannot_place():
    measured_models()
    for slug, rating in (("unpriced-a", 990.0), ("unpriced-b", 980.0)):
        rate(AIModelFactory(slug=slug, name=slug.replace("-", " ").title()), rating, rank=3)

    charts = text(section(page_of("fast"), "charts"))

    assert "2 models without pricing omitted: Unpriced A, Unpriced B" in charts
    assert "2 models waiting for enough speed data: Unpriced A, Unpriced B" in charts


def test_a_free_model_is_priced_at_zero_not_left_out_as_unpriced():
    measured_models()
    free = AIModelFactory(slug="free", name="Free Model")
    offered(free, "Giveaway")
    Offering.objects.filter(model=free).update(price_per_image=Decimal("0"))
    rate(free, 1000.0, rank=2)

    page = page_of("fast")
    board = json_of(page, "landscape-t2i")
    charts = text(section(page, "charts"))

    assert {
        "model": "Free Model",
        "slug": "free",
        "rating": 1000.0,
        "price": 0.0,
        "seconds": None,
    } in board["points"]
    assert board["unpriced"] == []
    assert board["free"] == ["Free Model"]
    assert board["fronts"]["price"][0] == [0.0, 1000.0]  # nothing is cheaper
    assert "without pricing" not in charts
    assert "1 free model, at $0 off the log scale: Free Model" in charts


@pytest.mark.parametrize("key", [True, False])
def test_an_unrated_model_says_why_it_is_not_on_the_charts(key):
    measured_models()  # the charts exist, with other models on them
    AIModelFactory(slug="new", name="New Model", can_edit=True, active=key)
    if not key:
        catalog_sync()  # a real model without a key: listed, not competing

    slug, name = ("new", "New Model") if key else ("gpt-image-1", "GPT Image 1")
    page = page_of(slug)
    charts = text(section(page, "charts"))

    assert charts.startswith("Rating against cost and speed")
    if key:
        for arena in ("Text-to-Image", "Image Editing"):
            assert (
                f"{arena} {name} is not on the charts yet: it has no rating in {arena}, "
                "where ratings come from blind votes." in charts
            )
    else:
        assert (
            f"Text-to-Image {name} is not on the charts: no provider key for it is set on this "
            "server, so it makes no images for battles and has no rating in Text-to-Image."
            in charts
        )
    assert "data-chart" not in page
    assert "chart-4.6.1" not in page


def test_a_rating_newer_than_the_cached_charts_says_so():
    fast, _ = measured_models()
    page_of("fast")  # draws the charts: no edit board yet
    fast.can_edit = True
    fast.save()
    rate(fast, 1050.0, arena="edit")

    charts = html.unescape(text(section(page_of("fast"), "charts")))

    assert (
        "Image Editing Fast Model's rating in Image Editing came after these charts were last "
        "drawn; they are redrawn every few minutes." in charts
    )


def test_a_model_without_ratings_or_calls_has_no_charts_and_loads_no_chart_code():
    measured_models()
    AIModelFactory(slug="new", name="New Model")

    page = page_of("new")

    assert "data-chart" not in page
    assert "data-bars" not in page
    assert "chart-4.6.1" not in page


def test_a_model_with_measured_providers_but_no_rating_still_loads_the_bar_charts():
    model = AIModelFactory(slug="m", name="M")
    (provider,) = offered(model, "Only")
    calls(model, provider, [1_000.0] * 3)

    page = page_of("m")

    assert "data-bars" in page
    assert "chart-4.6.1" in page
    assert "data-chart" not in page


def _catalog_of(size: int, calls_each: int) -> None:
    """Up to `size` rated models, each offered by two providers with `calls_each` calls
    apiece, and votes between the new ones."""
    providers = [
        Provider.objects.get_or_create(slug=s, defaults={"name": s})[0] for s in ("p", "q")
    ]
    prompt = PromptFactory()
    for i in range(Rating.objects.count(), size):
        model = AIModelFactory(slug=f"model-{i}", name=f"Model {i}")
        for provider in providers:
            Offering.objects.create(
                model=model, provider=provider, provider_model="m", price_per_image=Decimal("0.02")
            )
            calls(model, provider, [1_000.0 + i] * calls_each)
        rate(model, 1000.0 + i, rank=i + 1)
        GenerationFactory(prompt=prompt, model=model)
    images = list(prompt.generations.all())
    votes_bulk([(images[0], image, "left", "s") for image in images[1:]])


def test_the_model_page_query_count_does_not_grow_with_models_votes_or_calls():
    _catalog_of(3, calls_each=2)
    reset_shared_state()
    with CaptureQueriesContext(connection) as few:
        page_of("model-0")
    with CaptureQueriesContext(connection) as few_cached:
        page_of("model-0")

    _catalog_of(12, calls_each=9)
    reset_shared_state()
    with CaptureQueriesContext(connection) as many:
        page = page_of("model-0")
    with CaptureQueriesContext(connection) as many_cached:
        page_of("model-0")

    assert len(json_of(page, "landscape-t2i")["points"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(many_cached.captured_queries) == len(few_cached.captured_queries)
    assert len(many_cached.captured_queries) < len(many.captured_queries)  # the cache serves
