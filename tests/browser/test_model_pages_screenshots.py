"""The models index and two model pages (a built-in model with votes and measured providers, a
real model without a provider key) in Chromium at desktop and phone widths: every section
there, charts drawn, nothing wider than the screen, no script errors. The screenshots land in
test-artifacts/ to be looked at."""

import pytest

from tests.browser.test_phone_in_browser import assert_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
EVERY_MODEL_SECTION = [
    "Capabilities and details",
    "Ready to integrate",
    "Provider performance",
    "Providers and pricing",
    "API",
    "Parameter normalization",
    "Benchmarks",
    "Frequently asked questions",
]
CHARTS_DRAWN = (
    "() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
    ".every(canvas => Chart.getChart(canvas))"
)


@pytest.fixture
def demo(settings, small_demo):
    from arena.catalog.services import catalog_sync

    settings.ARENA_MIN_VOTES = 1
    settings.ARENA_MIN_PROVIDER_CALLS = 1
    small_demo(60)
    catalog_sync()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_index_and_two_model_pages_at_desktop_and_phone_width(
    live_server, browser, demo, screenshot, width
):
    context = browser.new_context(viewport=WIDTHS[width], is_mobile=width == "phone")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/models/")
    screenshot(page, f"models-index-{width}")
    assert_fits(page, "the models index")

    for model_id, extra in (
        ("lumen-xl", ["Rating against cost and speed", "Competition results", "Gallery"]),
        ("gpt-image-1", []),
    ):
        page.goto(f"{live_server.url}/models/{model_id}/")
        if page.locator("canvas[data-chart]").count():
            page.wait_for_function(CHARTS_DRAWN)
        screenshot(page, f"model-{model_id}-{width}")
        headings = page.locator("main h2").all_inner_texts()

        for section in EVERY_MODEL_SECTION + extra:
            assert section in headings, f"{model_id} has no {section} section at {width}"
        assert_fits(page, f"{model_id}'s page")
    keyless = page.locator("#integrate").inner_text()
    assert "No provider key is set" in keyless
    assert "No calls yet" in page.locator("main").inner_text() or "no calls" in (
        page.locator("main").inner_text().lower()
    )
    assert errors == []
    context.close()
