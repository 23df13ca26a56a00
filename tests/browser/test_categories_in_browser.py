"""The leaderboard's category filter in Chromium, at desktop and phone widths: htmx swaps the
board in place and puts the category in the address; without JavaScript the links navigate."""

import pytest

from arena.ratings.services import ratings_refresh
from tests.arena.test_categories import voted  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("voted"),
]

CURRENT = 'nav.categories a[aria-current="page"]'
ROWS = "table.leaderboard tbody tr"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_category_filter_swaps_the_board_in_place(live_server, browser, screenshot, width):
    ratings_refresh()
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/leaderboard/t2i/")
    page.wait_for_function("() => window.htmx")
    page.evaluate("() => { window.samePage = true; }")

    page.click("nav.categories >> text=Counting")
    page.wait_for_url(f"{live_server.url}/leaderboard/t2i/?category=counting")
    page.wait_for_selector(f'{CURRENT}:has-text("Counting")')
    screenshot(page, f"leaderboard-category-{width}")

    assert page.evaluate("() => window.samePage") is True  # swapped by htmx, not reloaded
    assert page.locator(ROWS).count() == 4
    assert page.locator(".category-note").inner_text().startswith("Counting")
    assert "from 260 votes" in page.locator(".method").inner_text()  # its prompts' alone
    overflow = page.evaluate(
        "() => { const nav = document.querySelector('nav.categories');"
        " return nav.scrollWidth - nav.clientWidth; }"
    )
    assert overflow <= 0  # the filter wraps at phone width instead of running off the side
    page_overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert page_overflow <= 0  # and the table fits: no sideways scrolling of the page
    page.click("nav.categories >> text=All prompts")
    page.wait_for_url(f"{live_server.url}/leaderboard/t2i/")
    page.wait_for_selector(f'{CURRENT}:has-text("All prompts")')
    assert "from 520 votes" in page.locator(".method").inner_text()  # the whole arena's
    page.go_back()
    page.wait_for_url(f"{live_server.url}/leaderboard/t2i/?category=counting")
    page.wait_for_selector(f'{CURRENT}:has-text("Counting")')
    assert page.locator("header.site-header").count() == 1
    assert errors == []


def test_the_category_filter_works_without_javascript(live_server, browser):
    ratings_refresh()
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 900}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/leaderboard/t2i/")

    page.click("nav.categories >> text=Portrait")
    page.wait_for_url(f"{live_server.url}/leaderboard/t2i/?category=portrait")

    assert page.locator(CURRENT).inner_text() == "Portrait"
    assert page.locator(ROWS).count() == 4
    missing = page.goto(f"{live_server.url}/leaderboard/t2i/?category=nope")
    assert missing.status == 404
    assert "has no category" in page.locator(".notice").inner_text()
    context.close()
