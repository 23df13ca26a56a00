"""The questions after the vote in Chromium: answered by keyboard and by clicking, skipped with
N, at desktop and phone widths, without JavaScript; and the quality boards' tabs."""

import pytest

from arena.battles.models import QualityVote, Vote
from arena.ratings.services import ratings_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Where the Next battle button sits on the page (not in the viewport, which scrolls).
NEXT_BUTTON_BOX = """() => {
  const box = document.querySelector("a.next").getBoundingClientRect();
  return [box.left + window.scrollX, box.top + window.scrollY, box.width, box.height];
}"""


def vote(page, key: str = "1") -> None:
    page.wait_for_selector("form.vote")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-side] img')].every(i => i.naturalWidth > 0)"
    )
    page.keyboard.press(key)
    page.wait_for_selector("[data-model]")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_answer_the_questions_by_keyboard_and_click_then_go_on(
    live_server, browser, screenshot, arena_with_images, width, height
):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{live_server.url}/battle/t2i/")
    page.wait_for_function("() => window.htmx !== undefined")
    vote(page, "ArrowLeft")
    url = page.url
    step = page.locator("#quality-step")
    assert step.is_visible()
    screenshot(page, f"quality-step-{width}")
    next_box = page.evaluate(NEXT_BUTTON_BOX)

    page.keyboard.press("b")  # B follows the prompt better: the first open question
    page.wait_for_selector(".quality-answered[data-quality='adherence']")
    step.get_by_role("button", name="About the same").click()
    page.wait_for_selector("#quality-step >> text=Thank you")

    assert page.url == url  # swapped in place
    assert page.evaluate(NEXT_BUTTON_BOX) == next_box  # the Next battle button never moved
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    screenshot(page, f"quality-step-answered-{width}")
    assert sorted(QualityVote.objects.values_list("quality", "choice")) == [
        ("adherence", "right"),
        ("aesthetics", "tie"),
    ]
    page.keyboard.press("n")
    page.wait_for_selector("form.vote")
    assert page.locator("#quality-step").count() == 0


def test_n_skips_the_questions_at_once(live_server, browser, arena_with_images):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/battle/t2i/")
    page.wait_for_function("() => window.htmx !== undefined")
    vote(page, "2")

    page.keyboard.press("n")
    page.wait_for_selector("form.vote")
    vote(page, "3")  # the vote keys still work on the next battle

    assert list(Vote.objects.order_by("pk").values_list("choice", flat=True)) == ["right", "tie"]
    assert not QualityVote.objects.exists()


def test_enter_on_a_focused_answer_presses_it_not_next_battle(
    live_server, browser, arena_with_images
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/battle/t2i/")
    page.wait_for_function("() => window.htmx !== undefined")
    vote(page)

    page.locator("form[data-quality='aesthetics'] button[value='left']").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".quality-answered[data-quality='aesthetics']")

    assert page.locator("[data-model]").count() == 2  # still the same battle
    assert QualityVote.objects.get().quality == "aesthetics"


def test_answer_without_javascript(live_server, browser, screenshot, arena_with_images):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/battle/t2i/")
    page.get_by_role("button", name="A is better").click()
    page.wait_for_selector("[data-model]")

    page.locator("form[data-quality='adherence'] button[value='left']").click()
    page.wait_for_selector(".quality-answered[data-quality='adherence']")

    assert page.url.endswith("/#quality-step")
    assert QualityVote.objects.get().choice == "left"
    screenshot(page, "quality-step-no-javascript")
    page.get_by_role("link", name="Next battle").click()
    page.wait_for_selector("form.vote")
    context.close()


def test_the_quality_boards_switch_in_place(live_server, browser, screenshot, arena_with_images):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/battle/t2i/")
    page.wait_for_function("() => window.htmx !== undefined")
    for _ in range(3):
        vote(page)
        page.keyboard.press("a")
        page.wait_for_selector(".quality-answered[data-quality='adherence']")
        page.keyboard.press("n")
    ratings_refresh()

    page.goto(f"{live_server.url}/leaderboard/t2i/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_role("tab", name="Follows the prompt").click()
    page.wait_for_url("**/leaderboard/t2i/?quality=adherence")

    assert page.get_by_role("tab", name="Follows the prompt").get_attribute("aria-selected") == (
        "true"
    )
    assert page.locator(".board-note").is_visible()
    screenshot(page, "quality-board")
