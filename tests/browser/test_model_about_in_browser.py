"""The model page's sections about the model in Chromium: the copy buttons copy, nothing breaks
the Content-Security-Policy, and at 390 px no model's page scrolls sideways."""

import pytest

from arena.catalog.services import catalog_sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
MODELS = ("lumen-xl", "gpt-image-1", "flux-1.1-pro", "retouch")


def test_the_copy_button_copies_the_model_id(live_server, browser):
    catalog_sync()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and problems.append(message.text)
        ),
    )

    page.goto(f"{live_server.url}/models/flux-1.1-pro/")
    page.locator('button[data-copy="model-id"]').click()

    assert page.evaluate("() => navigator.clipboard.readText()") == "flux-1.1-pro"
    assert page.locator('button[data-copy="model-id"]').inner_text() == "Copied"
    assert problems == []  # no script error, no CSP violation (the JSON-LD included)
    context.close()


def test_without_javascript_the_id_is_text_and_no_dead_button_shows(live_server, browser):
    catalog_sync()
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()

    page.goto(f"{live_server.url}/models/retouch/")

    assert page.locator("#model-id").inner_text() == "retouch"
    assert not page.locator('button[data-copy="model-id"]').is_visible()
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_no_model_page_scrolls_sideways(live_server, browser, screenshot, width):
    catalog_sync()
    page = browser.new_page(viewport={"width": width, "height": 900})

    for model_id in MODELS:
        page.goto(f"{live_server.url}/models/{model_id}/")
        screenshot(page, f"model-about-{model_id}-{width}")

        assert page.evaluate(SIDEWAYS) <= 0, model_id
    page.close()
