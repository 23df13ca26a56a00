"""A visitor reaches their own leaderboard in Chromium after 30 votes by keyboard, shares a
frozen copy, and reads both at desktop and phone widths, with JavaScript and without."""

import random
import re

import pytest

from arena.battles.models import Vote
from arena.catalog.models import Generation
from arena.catalog.services import catalog_sync, prompt_generate
from arena.ratings.models import PersonalBoard
from arena.ratings.services import ratings_recompute
from tests.arena.helpers import use_local_gateway, votes_bulk
from tests.factories import PromptFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
FAILURES_FIT = (
    "() => [...document.querySelectorAll('.failures *')]"
    ".every(e => e.getBoundingClientRect().right <= window.innerWidth)"
)
# No htmx request, swap or settle under way: a key pressed now acts on what is shown.
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
TABLES_FIT = (
    "() => [...document.querySelectorAll('.personal-pair .card')]"
    ".every(card => card.scrollWidth <= card.clientWidth)"
)


def crowd_votes(count: int) -> None:
    """Votes by other visitors, who prefer the models in reverse alphabetical order."""
    rng = random.Random(3)
    by_prompt: dict[int, list[Generation]] = {}
    for generation in Generation.objects.ready().select_related("prompt", "model"):
        by_prompt.setdefault(generation.prompt_id, []).append(generation)
    rows = []
    for i in range(count):
        left, right = rng.sample(rng.choice(list(by_prompt.values())), 2)
        left_wins = (left.model.slug > right.model.slug) == (rng.random() < 0.8)
        rows.append((left, right, "left" if left_wins else "right", f"crowd-{i % 40}"))
    votes_bulk(rows)


@pytest.fixture
def arena_with_images(settings):
    settings.ARENA_IMAGE_SIZE = 128
    settings.ARENA_THUMBNAIL_SIZE = 64
    settings.ARENA_VOTES_PER_MINUTE = settings.ARENA_IP_VOTES_PER_MINUTE = 0
    catalog_sync()
    prompts = [
        PromptFactory(text="A red ball on the left and a blue cube on the right"),
        PromptFactory(text="A house under a starry night sky with a crescent moon"),
        PromptFactory(text="Three yellow apples on a wooden table"),
    ]
    prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])


def test_thirty_votes_lead_to_your_own_board_and_a_frozen_copy(
    live_server, browser, screenshot, arena_with_images, settings
):
    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desktop.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/leaderboard/me/")
    assert "30 votes to go" in page.locator("#personal").inner_text()

    page.get_by_role("link", name="Vote in Text-to-Image").click()
    page.wait_for_function("() => window.htmx !== undefined")
    for vote in range(settings.ARENA_PERSONAL_MIN_VOTES):
        page.wait_for_selector("form.vote")
        page.wait_for_function(SETTLED)
        page.keyboard.press("1" if vote % 3 else "2")
        page.wait_for_selector("[data-model]")
        page.wait_for_function(SETTLED)
        page.keyboard.press("n")
    assert Vote.objects.count() == 30
    crowd_votes(300)
    ratings_recompute(arena="t2i")

    page.goto(f"{live_server.url}/leaderboard/t2i/")
    page.get_by_role("link", name="your Text-to-Image leaderboard").click()
    page.wait_for_selector("#yours-title")
    models = page.locator(".personal-table").first.locator("tbody tr").count()
    assert models >= 2
    assert page.locator("svg.interval").count() == models
    assert "Kendall τ" in page.locator(".agreement").inner_text()
    screenshot(page, "personal-board-desktop")

    page.get_by_role("tab", name="Image Editing").click()
    page.wait_for_selector("#personal .to-go")
    assert page.url.endswith("/leaderboard/me/?arena=edit")  # swapped in place, URL pushed
    page.get_by_role("tab", name="Text-to-Image").click()
    page.wait_for_selector("#yours-title")

    page.get_by_role("button", name="Share a frozen copy").click()
    page.wait_for_url(re.compile(r".*/leaderboard/me/[A-Za-z0-9_-]+/$"))
    shared_url = page.url
    assert PersonalBoard.objects.get().get_absolute_url() in shared_url
    assert page.locator(".personal-table").first.locator("tbody tr").count() == models
    screenshot(page, "personal-shared-desktop")
    assert errors == []

    phone = browser.new_context(viewport=PHONE, storage_state=desktop.storage_state())
    small = phone.new_page()
    small.goto(f"{live_server.url}/leaderboard/me/")
    small.wait_for_selector("#yours-title")
    screenshot(small, "personal-board-phone")
    assert small.evaluate(NO_SIDEWAYS_SCROLL)
    assert small.evaluate(TABLES_FIT)
    stranger = browser.new_context(viewport=PHONE).new_page()
    stranger.goto(shared_url)
    assert stranger.evaluate(NO_SIDEWAYS_SCROLL)
    assert stranger.evaluate(TABLES_FIT)
    assert stranger.locator(".personal-table").first.locator("tbody tr").count() == models
    screenshot(stranger, "personal-shared-phone")
    stranger.goto(f"{live_server.url}/leaderboard/me/")
    assert "30 votes to go" in stranger.locator("#personal").inner_text()
    screenshot(stranger, "personal-board-to-go-phone")
    phone.close()
    desktop.close()


def test_the_board_and_its_share_button_work_without_javascript(
    live_server, browser, arena_with_images, settings
):
    settings.ARENA_PERSONAL_MIN_VOTES = 3
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for _ in range(3):
        page.goto(f"{live_server.url}/battle/t2i/")
        page.get_by_role("button", name="Both bad").click()
        page.wait_for_selector("[data-model]")

    page.goto(f"{live_server.url}/leaderboard/me/?arena=edit")
    assert "3 votes to go" in page.locator("#personal").inner_text()
    page.get_by_role("tab", name="Text-to-Image").click()
    page.wait_for_selector("#yours-title")
    page.get_by_role("button", name="Share a frozen copy").click()
    page.wait_for_url(re.compile(r".*/leaderboard/me/[A-Za-z0-9_-]+/$"))

    assert "from 3 votes" in page.locator("main").inner_text()
    context.close()


def test_failure_and_refusal_rates_read_at_phone_width(live_server, browser, screenshot, settings):
    settings.ARENA_IMAGE_SIZE = 64
    settings.ARENA_THUMBNAIL_SIZE = 32
    use_local_gateway(fail_rates={"palette": 0.5})
    catalog_sync()
    prompts = [PromptFactory(text=f"A red house number {i}") for i in range(8)]
    prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])
    page = browser.new_page(viewport=PHONE)

    page.goto(f"{live_server.url}/leaderboard/t2i/")
    table = page.locator("#failures-t2i + p + .table-scroll table")
    assert table.locator("tbody tr").count() >= 6
    table.scroll_into_view_if_needed()
    screenshot(page, "failures-leaderboard-phone")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.evaluate(FAILURES_FIT)

    page.goto(f"{live_server.url}/models/palette/")
    screenshot(page, "failures-model-page-phone")
    assert "Text-to-Image: of 8 images asked" in page.locator(".failure-list").inner_text()
    # The providers' table above is wider than a phone; the failures part fits.
    assert page.evaluate(FAILURES_FIT)
