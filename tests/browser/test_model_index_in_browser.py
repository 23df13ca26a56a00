"""The models index in Chromium at desktop and phone widths: every catalog model is listed,
a sort link and a filter swap the list in place with htmx and put the query in the address,
and at 390 px the page does not scroll sideways."""

import pytest

from arena.catalog.services import catalog_sync
from tests.arena.helpers import measured_models

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CARDS = "ul.model-cards > li.model-card"
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.parametrize("width", [1366, 390])
def test_the_index_sorts_and_filters_in_place_and_fits(live_server, browser, screenshot, width):
    catalog_sync()
    measured_models()
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/models/")
    page.wait_for_function("() => window.htmx")
    page.evaluate("() => { window.samePage = true; }")
    everyone = page.locator(CARDS).count()
    screenshot(page, f"model-index-{width}")

    assert everyone > 10
    assert page.evaluate(SIDEWAYS) <= 0
    page.click(".index-sorts >> text=Speed")
    page.wait_for_url(f"{live_server.url}/models/?sort=speed")
    page.wait_for_selector('.index-sorts a[aria-current="true"]:has-text("Speed")')
    assert page.locator(f"{CARDS} h2").first.inner_text() == "Fast Model"  # 1,100 ms median
    page.select_option(".index-filters select[name=provider]", "pricey")
    page.wait_for_url(f"{live_server.url}/models/?provider=pricey&sort=speed")
    page.wait_for_function(f"() => document.querySelectorAll('{CARDS}').length === 1")
    screenshot(page, f"model-index-filtered-{width}")

    assert page.evaluate("() => window.samePage") is True  # swapped by htmx, not reloaded
    assert page.locator(f"{CARDS} h2").inner_text() == "Fast Model"
    assert page.evaluate(SIDEWAYS) <= 0
    assert page.locator("header.site-header").count() == 1
    assert errors == []


def test_the_index_filters_without_javascript(live_server, browser):
    catalog_sync()
    measured_models()
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 900}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/models/")

    page.select_option(".index-filters select[name=capability]", "edit")
    page.click(".index-filters button[type=submit]")
    page.wait_for_url(f"{live_server.url}/models/?capability=edit")
    kinds = page.locator(f"{CARDS} .kind").all_inner_texts()

    assert kinds
    assert all("Image Editing" in kind for kind in kinds)
    page.click(".index-sorts >> text=Price")
    page.wait_for_url("**/models/?capability=edit&sort=price")
    assert page.locator(CARDS).count() == len(kinds)
    context.close()


CONTROLS = """() => [...document.querySelectorAll(
    '.index-filters select, .index-filters input:not([type=hidden]), .index-filters button,'
    + ' .index-sorts a'
)].map(element => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return {
        name: element.name || element.textContent.trim(),
        height: Math.round(box.height),
        radius: parseFloat(style.borderTopLeftRadius),
    };
})"""


@pytest.mark.parametrize(("width", "smallest"), [(1366, 36), (390, 44)])
def test_the_filters_look_like_the_sort_pills_and_are_touch_sized_on_a_phone(
    live_server, browser, width, smallest
):
    measured_models()
    page = browser.new_page(viewport={"width": width, "height": 900}, is_mobile=width < 720)
    page.goto(f"{live_server.url}/models/")
    controls = page.evaluate(CONTROLS)
    count = page.locator(".index-sorts .index-count").inner_text()

    assert len(controls) == 9  # three menus, two prices, Show and three sorts
    assert {control["height"] for control in controls} == {min(c["height"] for c in controls)}
    assert all(control["height"] >= smallest for control in controls), controls
    assert all(control["radius"] >= control["height"] / 2 for control in controls), controls
    assert count == "2 models"
    assert "·" not in page.locator(".index-sorts").inner_text()
