"""A model page in Chromium: the rating charts draw every rated model, this one named beside its
point, and the Pareto front, and link to the models' pages; the provider bars replace nothing
(the rankings table stays) and appear only once drawn."""

import pytest

from tests.arena.helpers import measured_models

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS_DRAWN = (
    "() => window.Chart && [...document.querySelectorAll('canvas[data-chart], canvas[data-bars]')]"
    ".every(canvas => Chart.getChart(canvas))"
)


def test_charts_show_the_model_among_the_others_and_lead_to_them(live_server, browser, screenshot):
    measured_models()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/models/slow/")
    page.wait_for_function(CHARTS_DRAWN)
    points = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => "
        "Chart.getChart(canvas).data.datasets.slice(0, 2).map(set => set.data.map(p => p.slug)))"
    )
    fronts = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => "
        "Chart.getChart(canvas).data.datasets[2].data.map(p => p.y))"
    )
    bars = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-bars]')].map(canvas => "
        "Chart.getChart(canvas).data.labels)"
    )
    screenshot(page, "model-page-charts")

    assert errors == []
    assert points == [[["fast"], ["slow"]], [["fast"], ["slow"]]]  # others, then this model
    # The fast model beats the slow one on both counts: the front is its rating, to the edge.
    assert fronts == [[1100, 1100], [1100, 1100]]
    assert bars == [["Cheap Cloud"]] * 3
    assert page.locator(".chart-trio").is_visible()
    assert page.locator("table.rankings").is_visible()
    # Clicking the other model's point opens its page.
    where = page.evaluate(
        "() => { const canvas = document.querySelector('canvas[data-chart=price]');"
        " canvas.scrollIntoView({block: 'center'});"
        " const point = Chart.getChart(canvas).getDatasetMeta(0).data[0];"
        " const box = canvas.getBoundingClientRect();"
        " return {x: box.left + point.x, y: box.top + point.y}; }"
    )
    page.mouse.click(where["x"], where["y"])
    page.wait_for_url(f"{live_server.url}/models/fast/")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.locator("h1").inner_text() == "Fast Model"
