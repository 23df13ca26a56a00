"""The sampling record in Chromium, at desktop and phone widths, with and without JavaScript:
every table readable, nothing wider than the screen but the tables that scroll on their own."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDEST = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


@pytest.fixture
def demo(settings, small_demo):
    settings.ARENA_MIN_VOTES = 1
    small_demo(60)


@pytest.mark.parametrize(("width", "javascript"), [(1280, True), (390, True), (390, False)])
def test_the_sampling_record_reads_at_desktop_and_phone_widths(
    live_server, browser, demo, screenshot, width, javascript
):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/leaderboard/sampling/")
    page.wait_for_load_state("load")
    screenshot(page, f"sampling-record-{width}{'' if javascript else '-nojs'}")

    assert errors == []
    assert page.evaluate(WIDEST) <= width  # the page itself never scrolls sideways
    heat = page.locator("#record-t2i table.heat")
    assert heat.locator("tbody tr").count() == 6  # the demo's six text-to-image models
    assert heat.locator("td.heat-5").count() >= 2  # the heaviest pair, both ways
    for arena in ("t2i", "edit"):
        section = page.locator(f"#record-{arena}")
        assert section.locator("table.record-models tbody tr").count() >= 4
        assert "rating points" in section.inner_text()
    page.get_by_role("link", name="Image Editing").click()
    assert page.url.endswith("#record-edit")
    context.close()
