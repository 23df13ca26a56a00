"""An editing battle in Chromium: the wipe and the flicker lay the source over both edits, by
keyboard, mouse and touch, at desktop and phone widths; the vote keys still vote, and only the
slider's own keys move it. Screenshots go to the test's folder and to /tmp/slider-shots/."""

import io
import shutil
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from arena.battles.models import Vote
from arena.catalog.services import edit_prompt_create
from tests.factories import AIModelFactory, GenerationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/slider-shots")
BACKGROUND = (40, 70, 160)
WHITE, RED, ORANGE = (245, 245, 245), (210, 40, 40), (230, 150, 30)
IMAGES_LOADED = (
    "() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)"
)

FLICKERS = "document.getAnimations().filter(a => a.animationName === 'compare-flicker')"


def square(color: tuple[int, int, int]) -> bytes:
    """A picture whose middle half is a square of the colour: the source's is white, each
    edit's is its own, so a pixel in the square says which picture shows there."""
    image = Image.new("RGB", (256, 256), BACKGROUND)
    image.paste(color, (64, 64, 192, 192))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def edit_battle_ready():
    prompt, _ = edit_prompt_create(instruction="Make the white square red", source=square(WHITE))
    for slug, color in (("painter", RED), ("dyer", ORANGE)):
        GenerationFactory(
            prompt=prompt,
            model=AIModelFactory(slug=slug, can_edit=True),
            image=ContentFile(square(color), name="edit.png"),
        )


@pytest.fixture
def shoot(tmp_path):
    folder = tmp_path / "slider-shots"
    folder.mkdir()
    SHOTS.mkdir(exist_ok=True)

    def save(page, name: str) -> None:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, SHOTS / path.name)

    return save


def seen(page, side: str, x: float) -> tuple[int, int, int]:
    """The colour on screen at a fraction x across one side's picture, in the square but above
    the wipe's grip, rounded to the nearest of the pictures' colours."""
    png = page.locator(f"[data-side={side}] [data-compare-frame]").screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixel = image.getpixel((round(x * (image.width - 1)), round(0.35 * image.height)))
    return min(
        (WHITE, RED, ORANGE, BACKGROUND),
        key=lambda color: sum((a - b) ** 2 for a, b in zip(color, pixel, strict=True)),
    )


def edits(page) -> dict[str, tuple[int, int, int]]:
    """Each side's own colour while the source covers none of it."""
    return {side: seen(page, side, 0.6) for side in ("left", "right")}


def open_edit_battle(browser, live_server, viewport, **context_options):
    context = browser.new_context(viewport=viewport, **context_options)
    page = context.new_page()
    errors = []  # script errors and anything the Content-Security-Policy blocked
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.expose_function("cspViolation", lambda line: errors.append(line))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', "
        "(event) => window.cspViolation(`${event.violatedDirective} blocked at "
        "${event.sourceFile}:${event.lineNumber}`))"
    )
    page.goto(f"{live_server.url}/battle/edit/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.wait_for_function(IMAGES_LOADED)
    return context, page, errors


def flicker_shows(page, at_ms: int) -> dict[str, tuple[int, int, int]]:
    """What the flicker shows at a moment of its cycle, held still there to be read."""
    page.evaluate(f"(ms) => {FLICKERS}.forEach(a => {{ a.pause(); a.currentTime = ms; }})", at_ms)
    return edits(page)


def test_the_wipe_and_flicker_by_keyboard_and_mouse_at_desktop_width(
    live_server, browser, shoot, edit_battle_ready
):
    context, page, errors = open_edit_battle(browser, live_server, {"width": 1280, "height": 800})
    slider = page.get_by_role("slider", name="Wipe to the source")
    flicker = page.get_by_role("button", name="Flicker")
    own = edits(page)
    assert sorted(own.values()) == sorted([RED, ORANGE])  # the edits, whole, as without JS
    assert slider.input_value() == "0"
    shoot(page, "desktop-1-edit-battle")

    slider.focus()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowLeft")

    assert slider.input_value() == "39"
    assert slider.get_attribute("aria-valuetext") == "Source over the left 39% of both edits"
    for side, color in own.items():
        assert seen(page, side, 0.3) == WHITE  # the source, left of the line
        assert seen(page, side, 0.6) == color  # the edit, right of it
    assert page.locator("form.vote").is_visible()  # the arrows moved the wipe, not a vote
    assert not Vote.objects.exists()
    shoot(page, "desktop-2-wipe-by-keyboard")

    page.keyboard.press("End")  # the slider's own keys work as on any range input
    assert slider.input_value() == "100"
    assert edits(page) == {"left": WHITE, "right": WHITE}

    frame = page.locator("[data-side=right] [data-compare-frame]").bounding_box()
    middle = frame["y"] + frame["height"] / 2
    page.mouse.move(frame["x"] + frame["width"] * 0.9, middle)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.5, middle, steps=5)
    page.mouse.move(frame["x"] + frame["width"] * 0.7, middle, steps=5)
    page.mouse.up()

    assert 68 <= int(slider.input_value()) <= 72
    for side, color in own.items():  # one line for both edits, dragged on either
        assert seen(page, side, 0.65) == WHITE
        assert seen(page, side, 0.73) == color
    shoot(page, "desktop-3-wipe-by-mouse")

    page.locator("h1").click()  # focus leaves the slider: F and the vote keys are the page's
    page.keyboard.press("f")

    assert flicker.get_attribute("aria-pressed") == "true"
    assert flicker_shows(page, 0) == {"left": WHITE, "right": WHITE}
    assert flicker_shows(page, 900) == own
    shoot(page, "desktop-4-flicker")
    page.keyboard.press("F")
    assert flicker.get_attribute("aria-pressed") == "false"
    assert page.evaluate(f"() => {FLICKERS}.length") == 0

    page.keyboard.press("1")
    page.wait_for_selector("[data-model]")

    assert Vote.objects.get().choice == "left"
    assert page.locator(".side.picked").get_attribute("data-side") == "left"
    page.wait_for_function(IMAGES_LOADED)
    assert page.get_by_role("slider", name="Wipe to the source").input_value() == "0"
    shoot(page, "desktop-5-revealed")
    assert errors == []
    context.close()


def touch(cdp, kind: str, x: float, y: float) -> None:
    points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_the_wipe_by_touch_and_keys_at_phone_width(live_server, browser, shoot, edit_battle_ready):
    context, page, errors = open_edit_battle(
        browser, live_server, {"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    slider = page.get_by_role("slider", name="Wipe to the source")
    own = edits(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    for control in (slider, page.get_by_role("button", name="Flicker")):
        assert control.bounding_box()["height"] >= 44  # a finger's target
    for button in page.locator("form.vote button").all():
        assert button.bounding_box()["height"] >= 44
    shoot(page, "phone-1-edit-battle")

    cdp = context.new_cdp_session(page)
    page.locator("[data-side=left] [data-compare-frame]").scroll_into_view_if_needed()
    frame = page.locator("[data-side=left] [data-compare-frame]").bounding_box()
    middle = frame["y"] + frame["height"] / 2
    touch(cdp, "touchStart", frame["x"] + frame["width"] * 0.1, middle)
    for fraction in (0.2, 0.3, 0.4, 0.5, 0.6):
        touch(cdp, "touchMove", frame["x"] + frame["width"] * fraction, middle)
    touch(cdp, "touchEnd", 0, 0)

    assert 58 <= int(slider.input_value()) <= 62
    for side, color in own.items():
        assert seen(page, side, 0.55) == WHITE
        assert seen(page, side, 0.65) == color
    shoot(page, "phone-2-wipe-by-touch")

    wiped, scrolled = slider.input_value(), page.evaluate("() => scrollY")
    touch(cdp, "touchStart", frame["x"] + frame["width"] * 0.2, middle)
    for rise in range(20, 220, 20):  # a swipe up the page that starts on an edit
        touch(cdp, "touchMove", frame["x"] + frame["width"] * 0.2, middle - rise)
    touch(cdp, "touchEnd", 0, 0)

    assert page.evaluate("() => scrollY") > scrolled  # it scrolled the page
    assert slider.input_value() == wiped  # and left the wipe where it was

    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")
    assert int(slider.input_value()) in range(48, 53)
    assert not Vote.objects.exists()
    page.keyboard.press("f")  # F and the vote keys work while the slider has focus
    assert page.get_by_role("button", name="Flicker").get_attribute("aria-pressed") == "true"
    shoot(page, "phone-3-flicker")
    page.emulate_media(reduced_motion="reduce")  # no flashing: the toggle holds the source
    assert page.evaluate(f"() => {FLICKERS}.length") == 0
    assert edits(page) == {"left": WHITE, "right": WHITE}

    page.keyboard.press("2")
    page.wait_for_selector("[data-model]")

    assert Vote.objects.get().choice == "right"
    page.wait_for_function(IMAGES_LOADED)
    shoot(page, "phone-4-revealed")
    assert errors == []
    context.close()


def test_without_javascript_the_source_and_both_edits_show_and_the_vote_works(
    live_server, browser, shoot, edit_battle_ready
):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/battle/edit/")

    assert page.get_by_role("img", name="The source image to edit").is_visible()
    for label in ("A", "B"):
        side = page.get_by_role("figure", name=label, exact=True)
        assert side.get_by_role(
            "img", name="One of the two edits of the source image"
        ).is_visible()
    assert not page.get_by_role("slider").is_visible()
    assert not page.get_by_role("button", name="Flicker").is_visible()
    assert sorted(edits(page).values()) == [RED, ORANGE]  # no source laid over the edits
    shoot(page, "phone-no-javascript")

    page.get_by_role("button", name="Tie").click()
    page.wait_for_selector("[data-model]")
    assert Vote.objects.get().choice == "tie"
    context.close()
