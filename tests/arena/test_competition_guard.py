"""The API and the playground refuse a competition prompt however it is disguised: text that
an image model reads the same, a source image that looks the same."""

import io
import json

import pytest
from django.test import Client
from PIL import Image, ImageDraw, ImageOps

from arena.catalog.models import Arena, Prompt, ProviderCall
from arena.catalog.services import catalog_sync, edit_prompt_create
from tests.factories import PromptFactory

pytestmark = pytest.mark.django_db

TEXT = "A red ball on the left and a blue cube on the right"
INSTRUCTION = "Make the ball green"


def scene(shift: int = 0, size=(256, 192)) -> Image.Image:
    """A picture with shapes in it (a flat colour has no shape for a perceptual hash)."""
    image = Image.new("RGB", size, (235, 230, 220))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 8 + shift, h // 4, w // 2 + shift, h * 3 // 4), fill=(200, 30, 30))
    draw.rectangle((w * 5 // 8, h // 5, w * 7 // 8, h // 2), fill=(30, 60, 200))
    draw.line((0, h - 10, w, h - 30), fill=(20, 20, 20), width=4)
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def one_pixel_changed() -> bytes:
    image = scene()
    image.putpixel((100, 100), (0, 255, 0))
    return encoded(image)


def other_picture() -> bytes:
    image = Image.new("RGB", (256, 192), (20, 20, 40))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 192), (128, 20), (256, 192)], fill=(240, 240, 250))
    draw.rectangle((10, 10, 60, 60), fill=(250, 200, 0))
    return encoded(image)


SOURCE_VARIANTS = {
    "one pixel changed": one_pixel_changed,
    "re-encoded as JPEG": lambda: encoded(scene(), "JPEG", quality=80),
    "resized": lambda: encoded(scene(size=(512, 384))),
}
TEXT_VARIANTS = {
    "exclamation mark": TEXT + "!",
    "full stop": TEXT + ".",
    "quotes": f'"{TEXT}"',
    "zero-width space": TEXT.replace("ball", "ba\u200bll"),
    "full-width letter": TEXT.replace("A red", "\uff21 red"),
    "spaces and case": "  a RED ball on the left   and a blue cube ON the right ",
}


@pytest.fixture(autouse=True)
def no_playground_limit(settings):
    settings.ARENA_PLAYGROUND_PER_HOUR = 0


@pytest.fixture
def in_battles():
    catalog_sync()
    text = PromptFactory(text=TEXT)
    edit, _ = edit_prompt_create(instruction=INSTRUCTION, source=encoded(scene()))
    return text, edit


def generate_by_api(key, prompt):
    return Client().post(
        "/openai/v1/images/generations",
        json.dumps({"model": "lumen-xl", "prompt": prompt, "size": "256x256"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def edit_by_api(key, prompt, source):
    image = io.BytesIO(source)
    image.name = "source.png" if source.startswith(b"\x89PNG") else "source.jpg"
    return Client().post(
        "/openai/v1/images/edits",
        {"model": "lumen-xl", "prompt": prompt, "size": "256x256", "image": image},
        headers={"Authorization": f"Bearer {key}"},
    )


def play(prompt, source=None):
    fields = {"operation": "generate", "model": "lumen-xl", "prompt": prompt, "size": "512x512"}
    if source is not None:
        image = io.BytesIO(source)
        image.name = "source.png" if source.startswith(b"\x89PNG") else "source.jpg"
        fields |= {"operation": "edit", "image": image}
    return Client().post("/playground/", fields, headers={"HX-Request": "true"})


def refused_by_api(response) -> bool:
    return response.status_code == 400 and response.json()["error"]["code"] == "competition_prompt"


def refused_by_playground(response) -> bool:
    return response.status_code == 400 and "competition prompts" in response.content.decode()


@pytest.mark.parametrize("variant", TEXT_VARIANTS)
def test_a_competition_text_written_differently_is_refused(key, in_battles, variant):
    assert refused_by_api(generate_by_api(key, TEXT_VARIANTS[variant]))
    assert refused_by_playground(play(TEXT_VARIANTS[variant]))
    assert not ProviderCall.objects.exists()


@pytest.mark.parametrize("variant", SOURCE_VARIANTS)
def test_a_competition_edit_on_a_touched_source_is_refused(key, in_battles, variant):
    source = SOURCE_VARIANTS[variant]()

    assert refused_by_api(edit_by_api(key, INSTRUCTION + "!", source))
    assert refused_by_playground(play(INSTRUCTION + "!", source))
    assert not ProviderCall.objects.exists()


def test_the_battles_own_source_with_an_equivalent_instruction_is_refused(key, in_battles):
    _, edit = in_battles
    with edit.source_image.open("rb") as served:  # what a battle page serves as the source
        source = served.read()

    assert refused_by_api(edit_by_api(key, "make the ball, green.", source))


def test_any_edit_of_a_battle_source_is_refused_in_any_orientation(key, in_battles):
    """An edit keeps its source's layout, so reworded instructions on a battle's source (or on
    a mirrored or turned copy) would come out close to the battle's own images."""
    picture = Image.open(io.BytesIO(encoded(scene())))
    for turned in (picture, ImageOps.mirror(picture), picture.rotate(90, expand=True)):
        buffer = io.BytesIO()
        turned.save(buffer, format="PNG")
        response = edit_by_api(key, "Please make the ball yellow", buffer.getvalue())
        assert refused_by_api(response)
        assert response.json()["error"]["param"] == "image"
    assert not ProviderCall.objects.exists()


def test_a_different_picture_or_text_is_another_prompt(key, in_battles):
    assert edit_by_api(key, INSTRUCTION, other_picture()).status_code == 200
    assert generate_by_api(key, TEXT.replace("red", "green")).status_code == 200


def test_a_retired_prompt_may_be_run(key, in_battles):
    Prompt.objects.update(active=False)

    assert generate_by_api(key, TEXT + "!").status_code == 200
    assert edit_by_api(key, INSTRUCTION, one_pixel_changed()).status_code == 200


def test_the_query_finds_only_active_prompts_of_the_same_arena(in_battles):
    text, edit = in_battles

    t2i, edits = Prompt.objects.competition(Arena.T2I), Prompt.objects.competition(Arena.EDIT)
    assert t2i.reproduced_by(TEXT + "?") == [text.pk]
    assert t2i.reproduced_by(INSTRUCTION) == []
    assert edits.reproduced_by(INSTRUCTION, [edit.source_phash]) == [edit.pk]
    assert edits.reproduced_by(INSTRUCTION, []) == []
    assert edits.reproduced_by(TEXT, [edit.source_phash]) == [edit.pk]  # whatever the words
