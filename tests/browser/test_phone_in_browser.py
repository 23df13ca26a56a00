"""Every public page on a phone (390 x 844) in Chromium: nothing scrolls sideways, and a battle
shows both images and the vote buttons on the first screen."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# The page's width, and the elements that reach past the right edge (deepest first), so a
# failure names what to fix.
OVERFLOW = """() => {
  const root = document.documentElement;
  const limit = root.clientWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width && box.right > limit + 0.5 && !element.closest(".table-scroll, .scroll-x")) {
      const classes = element.className && typeof element.className === "string"
        ? "." + element.className.trim().split(/\\s+/).join(".") : "";
      wide.push(`${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}${classes}`
        + ` (right edge ${Math.round(box.right)} px)`);
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: limit, wide: wide.reverse().slice(0, 5)};
}"""


def assert_fits(page, name):
    measured = page.evaluate(OVERFLOW)
    assert measured["scrollWidth"] <= measured["clientWidth"], (
        f"{name} ({page.url}) is {measured['scrollWidth']} px wide at "
        f"{measured['clientWidth']} px: {', '.join(measured['wide'])}"
    )


@pytest.fixture
def demo(settings, small_demo):
    settings.ARENA_MIN_VOTES = 1
    small_demo(60)


def visit(page, url, name, screenshot):
    response = page.goto(url)
    assert response is not None, f"{name} ({url}) did not answer"
    assert response.status == 200, f"{name} ({url}) answered {response.status}"
    page.wait_for_load_state("load")
    screenshot(page, f"phone-{name}")
    assert_fits(page, name)


def test_no_public_page_scrolls_sideways_on_a_phone(live_server, browser, demo, screenshot):
    from arena.catalog.models import AIModel, Category
    from arena.catalog.services import catalog_sync

    catalog_sync()  # every model in the gateway's catalog, keys or none
    # The migrations' categories are gone once a transactional test has emptied the tables.
    Category.objects.get_or_create(arena="t2i", slug="counting", defaults={"name": "Counting"})

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    pages = {
        "home": "/",
        "leaderboard-t2i": "/leaderboard/t2i/",
        "leaderboard-edit": "/leaderboard/edit/",
        "leaderboard-category": "/leaderboard/t2i/?category=counting",
        "leaderboard-quality": "/leaderboard/t2i/?quality=adherence",
        "leaderboard-me": "/leaderboard/me/",
        "sampling-record": "/leaderboard/sampling/",
        "data": "/leaderboard/data/",
        "playground": "/playground/",
        "model-index": "/models/",
    }
    for name, path in pages.items():
        visit(page, f"{live_server.url}{path}", name, screenshot)

    for arena in ("t2i", "edit"):
        visit(page, f"{live_server.url}/battle/{arena}/", f"battle-{arena}", screenshot)
        page.get_by_role("button", name="A is better").click()
        page.wait_for_selector(".after-vote")
        screenshot(page, f"phone-battle-{arena}-voted")
        assert_fits(page, f"battle-{arena} after a vote")

    # Each arena's prompts in a competition; the two battles just voted on show their images.
    from arena.battles.models import Battle
    from arena.catalog.models import Competition, Prompt

    for arena in ("t2i", "edit"):
        competition = Competition.objects.create(arena=arena, name=arena, slug=f"all-{arena}")
        competition.prompts.set(Prompt.objects.filter(arena=arena))
    voted = Battle.objects.filter(vote__isnull=False).exclude(session_key__startswith="seed-")
    assert voted.count() == 2
    for battle in voted.select_related("left__model"):
        slug, arena = battle.left.model.slug, battle.arena
        for name, path in {
            f"gallery-{slug}": f"/models/{slug}/images/",
            f"image-{slug}-{arena}": f"/models/{slug}/images/{battle.left_id}/",
            f"competition-{slug}-{arena}": f"/models/{slug}/competitions/all-{arena}/",
        }.items():
            visit(page, f"{live_server.url}{path}", name, screenshot)

    model_ids = list(AIModel.objects.order_by("slug").values_list("slug", flat=True))
    assert any("." in model_id for model_id in model_ids)  # ids with dots are among them
    for model_id in model_ids:
        visit(page, f"{live_server.url}/models/{model_id}/", f"model-{model_id}", screenshot)
    assert errors == []
    context.close()


@pytest.mark.parametrize("arena", ["t2i", "edit"])
def test_a_phone_shows_both_images_and_the_vote_buttons_at_once(
    live_server, browser, demo, screenshot, arena
):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/battle/{arena}/")
    page.wait_for_load_state("load")
    screenshot(page, f"phone-battle-{arena}-first-screen")

    images = [page.locator(".side-image > img").nth(side).bounding_box() for side in (0, 1)]
    assert all(box is not None and box["width"] >= 150 for box in images), images
    for element in (
        page.locator(".side-image > img").first,
        page.locator(".side-image > img").last,
        page.get_by_role("button", name="A is better"),
        page.get_by_role("button", name="B is better"),
        page.get_by_role("button", name="Tie"),
        page.get_by_role("button", name="Both bad"),
    ):
        box = element.bounding_box()
        assert box is not None, f"{element} is not shown"
        assert 0 <= box["y"] <= PHONE["height"] - box["height"], (
            f"{element} is at {box} on a {PHONE['height']} px screen"
        )
    # Touch screens have no keys to press: the key hints are hidden.
    hints = page.locator(".vote kbd").all()
    assert len(hints) == 4
    assert all(hint.is_hidden() for hint in hints)
    assert page.locator(".keys-help").is_hidden()
    context.close()
