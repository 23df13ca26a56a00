"""A visitor votes in Chromium: by clicking, by keyboard, and with JavaScript turned off."""

import pytest

from arena.battles.models import Vote
from arena.catalog.services import catalog_sync, prompt_generate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def images_loaded(page) -> bool:
    return page.evaluate(
        "() => [...document.querySelectorAll('[data-side] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def test_vote_by_clicking_then_by_keyboard(live_server, browser, screenshot, arena_with_images):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/battle/t2i/")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.locator("[data-side]").count() == 2
    assert page.locator("[data-model]").count() == 0
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-side] img')].every(i => i.naturalWidth > 0)"
    )
    screenshot(page, "battle-before-vote")

    page.get_by_role("button", name="A is better").click()
    page.wait_for_selector("[data-model]")

    assert page.locator("[data-model]").count() == 2
    assert page.url == f"{live_server.url}/battle/t2i/"  # swapped in place by htmx
    assert page.locator(".side.picked").get_attribute("data-side") == "left"
    screenshot(page, "battle-after-click-vote")

    page.keyboard.press("n")
    page.wait_for_selector("form.vote")
    assert page.locator("[data-model]").count() == 0
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("[data-model]")

    assert page.locator(".side.picked").get_attribute("data-side") == "right"
    assert images_loaded(page)
    screenshot(page, "battle-after-keyboard-vote")
    assert list(Vote.objects.order_by("pk").values_list("choice", flat=True)) == ["left", "right"]


def test_vote_without_javascript(live_server, browser, screenshot, arena_with_images):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/battle/t2i/")

    page.get_by_role("button", name="Both bad").click()
    page.wait_for_selector("[data-model]")

    assert "/battle/t2i/" not in page.url  # the form posted and redirected to the battle
    assert Vote.objects.get().choice == "both_bad"
    screenshot(page, "battle-no-javascript")
    page.get_by_role("link", name="Next battle").click()
    page.wait_for_selector("form.vote")
    context.close()


def test_editing_battle_shows_the_source_and_votes_by_keyboard(live_server, browser, screenshot):
    import io

    from arena.catalog.services import edit_prompt_create
    from gateway import local

    catalog_sync()
    source = io.BytesIO()
    local.render(
        "lumen-xl",
        "A glass cube on a wooden table with a small blue sphere inside",
        512,
        512,
        seed=0,
    ).save(source, format="PNG")
    prompt, _ = edit_prompt_create(instruction="Make the sphere red", source=source.getvalue())
    prompt_generate(prompt_ids=[prompt.pk])

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/battle/edit/")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.get_by_role("heading", name="Make the sphere red").is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    screenshot(page, "edit-battle-before-vote")

    page.keyboard.press("3")
    page.wait_for_selector("[data-model]")

    assert Vote.objects.get().choice == "tie"
    assert Vote.objects.get().arena == "edit"
    screenshot(page, "edit-battle-after-vote")
