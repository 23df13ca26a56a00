"""The playground in Chromium: a run swaps the images in place; an edit uploads a file."""

import pytest

from arena.catalog.services import catalog_sync
from tests.factories import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMAGES_LOADED = (
    "() => document.querySelectorAll('#result img').length > 0 && "
    "[...document.querySelectorAll('#result img')].every(i => i.complete && i.naturalWidth > 0)"
)


def test_make_then_edit_an_image(live_server, browser, screenshot, tmp_path):
    catalog_sync()
    source = tmp_path / "source.png"
    source.write_bytes(png_bytes(size=(256, 256)))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/playground/")
    page.wait_for_function("() => window.htmx !== undefined")

    page.select_option("#play-model", "prism-2")
    page.fill("#play-prompt", "Three yellow apples on a wooden table")
    page.select_option("#play-n", "2")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function(IMAGES_LOADED)

    assert page.url == f"{live_server.url}/playground/"  # swapped in place by htmx
    assert page.locator("#result img").count() == 2
    assert "2 images from prism-2 via local" in page.locator(".play-meta").inner_text()
    screenshot(page, "playground-made")

    page.check("input[value=edit]")
    page.select_option("#play-model", "lumen-xl")
    page.fill("#play-prompt", "Make it black and white")
    page.select_option("#play-n", "1")
    page.set_input_files("#play-image", str(source))
    page.get_by_role("button", name="Run").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#result img').length === 1 && "
        "document.querySelector('#result img').naturalWidth > 0"
    )

    assert "1 image from lumen-xl" in page.locator(".play-meta").inner_text()
    screenshot(page, "playground-edited")
