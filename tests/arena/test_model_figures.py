"""Model pages: provider speed and success from the recorded calls, and the rating charts."""

import json
import re

import pytest
from django.test import Client

from arena.pages.figures import Speed, speed_table
from tests.arena.helpers import measured_models
from tests.factories import AIModelFactory


def test_speed_counts_failures_in_the_success_rate_and_times_only_successes():
    rows = [(1, 7, True, float(ms), ms / 10) for ms in range(100, 1100, 100)]  # 100..1000 ms
    rows += [(1, 7, False, 60_000.0, None)] * 2  # timeouts: not in the times
    rows += [(1, 8, True, 500.0, None), (2, 7, False, 10.0, None)]

    table = speed_table(rows)

    assert table[(1, 7)].calls == 12
    assert table[(1, 7)].success_rate == pytest.approx(10 / 12)
    assert table[(1, 7)].p50_ms == pytest.approx(550.0)  # between 500 and 600
    assert table[(1, 7)].p95_ms == pytest.approx(955.0)
    assert table[(1, 7)].ttfb_p50_ms == pytest.approx(55.0)
    assert table[(1, 8)] == Speed(
        calls=1, succeeded=1, p50_ms=500.0, p95_ms=500.0, ttfb_p50_ms=None
    )
    assert table[(2, 7)] == Speed(calls=1, succeeded=0, p50_ms=None, p95_ms=None, ttfb_p50_ms=None)
    assert table[(2, 7)].success_rate == 0.0


@pytest.fixture
def measured(db):
    return measured_models()


def test_model_page_shows_each_providers_success_and_speed(measured):
    page = Client().get("/models/fast/").content.decode()
    cheap_row = re.search(r"<tr>\s*<td>Cheap Cloud</td>.*?</tr>", page, re.S)[0]
    pricey_row = re.search(r"<tr>\s*<td>Pricey Cloud</td>.*?</tr>", page, re.S)[0]

    assert ">80%<" in cheap_row  # 4 of 5 calls in the window returned images
    assert ">1.1 s<" in cheap_row  # median of 0.8, 1.0, 1.2, 1.4 s; the old 99 s calls are out
    assert ">1.4 s<" in cheap_row  # p95
    assert ">550 ms<" in cheap_row  # median time to first byte
    assert ">5<" in cheap_row
    assert "no calls in the last 30 days" in pricey_row


def test_model_page_charts_every_rated_model_by_cheapest_price_and_fastest_median(measured):
    page = Client().get("/models/slow/").content.decode()
    points = json.loads(
        re.search(r'<script id="points-t2i" type="application/json">(.*?)</script>', page)[1]
    )

    assert sorted(points, key=lambda p: p["slug"]) == [
        {"model": "Fast Model", "slug": "fast", "rating": 1100.0, "price": 0.01, "seconds": 1.1},
        {"model": "Slow Model", "slug": "slow", "rating": 950.0, "price": 0.02, "seconds": 25.0},
    ]
    assert 'data-chart="price"' in page
    assert 'data-chart="seconds"' in page
    assert 'data-model="slow"' in page
    assert "chart-4.6.1.umd.min.js" in page
    assert "points-edit" not in page  # not rated there: no chart


def test_a_model_without_ratings_has_no_charts_and_loads_no_chart_code(measured):
    AIModelFactory(slug="new", name="New Model")

    page = Client().get("/models/new/").content.decode()

    assert "data-chart" not in page
    assert "chart-4.6.1" not in page
