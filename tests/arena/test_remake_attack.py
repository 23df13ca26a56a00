"""The remake attack: run a battle's prompt through the playground or the API, model by model,
and see which output matches a battle image, to learn who made it before voting.

Two defences: the guard refuses competition prompts (and their trivial variants) while they
are in battles, and battle images are drawn from secret seeds, so even with the guard out of
the way no remake redraws a battle image.
"""

import base64
import io
import json
import random
import secrets

import pytest
from django.test import Client
from PIL import Image, ImageDraw

from arena.api import params
from arena.api.models import ImageJob
from arena.api.services import api_key_create, image_job_images
from arena.catalog.guard import image_phash, phash_distance
from arena.catalog.models import Arena, Generation
from arena.catalog.services import catalog_sync, edit_prompt_create, prompt_generate
from tests.factories import PromptFactory

# Committed for real: the attacker's requests reach the (eager) queue on commit.
pytestmark = pytest.mark.django_db(transaction=True)

SIDE = 256  # the battle images' size here, and the size both images are compared at
# A copy of a picture (resized, re-encoded, a pixel changed) is a few bits from it. Two
# renditions of one simple scene by one model can come within ten bits of each other (lumen's
# nearest of 30 seeds was 10, blockworld's 4): that is the model's style, which no seed hides.
COPY_BITS = 3


@pytest.fixture(autouse=True)
def secret_seeds(monkeypatch):
    """The arena's and the attacker's fresh seeds come from secrets.randbits; here from a
    fixed sample, so that the test's verdict does not depend on the draw."""
    draw = random.Random(2026)
    monkeypatch.setattr(secrets, "randbits", draw.getrandbits)


T2I_PROMPTS = (
    "A red ball on the left and a blue cube on the right",
    "Three yellow stars above a green hill at night",
)
EDIT_INSTRUCTION = "Make the sphere red and add a moon"


def zero_width(text: str) -> str:
    first, _, rest = text.partition(" ")
    return f"{first}\u200b {rest}"


def full_width(text: str) -> str:
    return chr(ord(text[0]) - ord("A") + ord("Ａ")) + text[1:] if text[0].isupper() else text


VARIANTS = {
    "exact": lambda text: text,
    "exclamation mark": lambda text: text + "!",
    "full stop": lambda text: text + ".",
    "quotes": lambda text: f'"{text}"',
    "zero-width space": zero_width,
    "full-width letter": full_width,
}


def source_picture() -> bytes:
    image = Image.new("RGB", (SIDE, SIDE), (230, 230, 220))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 60, 140, 160), fill=(40, 90, 200))
    draw.rectangle((160, 120, 230, 220), fill=(60, 160, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def battles(settings, django_capture_on_commit_callbacks):
    """Battle images made by the arena's own pipeline: every active model, every prompt."""
    settings.ARENA_IMAGE_SIZE = SIDE
    settings.ARENA_PLAYGROUND_PER_HOUR = 0
    settings.ARENA_API_REQUESTS_PER_MINUTE = 0
    catalog_sync()
    prompts = [PromptFactory(text=text) for text in T2I_PROMPTS]
    prompts.append(edit_prompt_create(instruction=EDIT_INSTRUCTION, source=source_picture())[0])
    with django_capture_on_commit_callbacks(execute=True):
        prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])
    generations = list(Generation.objects.select_related("prompt", "model"))
    assert generations
    assert all(generation.status == "ready" for generation in generations)
    return generations


@pytest.fixture
def attacker():
    return api_key_create(name="attacker")[1]


def api_remake(key: str, prompt, model: str, text: str):
    """What the API answers to the prompt (its source image too, for an edit): the status
    code and the images."""
    auth = {"Authorization": f"Bearer {key}"}
    if prompt.arena == Arena.EDIT:
        with prompt.source_image.open("rb") as served:  # as a battle page serves it
            source = io.BytesIO(served.read())
        source.name = "source.png"
        response = Client().post(
            "/openai/v1/images/edits",
            {"model": model, "prompt": text, "response_format": "b64_json", "image": source},
            headers=auth,
        )
    else:
        body = {"model": model, "prompt": text, "size": f"{SIDE}x{SIDE}"}
        response = Client().post(
            "/openai/v1/images/generations",
            json.dumps({**body, "response_format": "b64_json"}),
            content_type="application/json",
            headers=auth,
        )
    if response.status_code != 200:
        return response.status_code, response.json()["error"].get("code"), []
    images = [base64.b64decode(row["b64_json"]) for row in response.json()["data"]]
    return 200, None, images


def playground_remake(prompt, model: str, text: str):
    """What the playground answers: the status code, the page, and the images."""
    fields = {"model": model, "prompt": text, "size": "512x512", "n": "1"}
    if prompt.arena == Arena.EDIT:
        with prompt.source_image.open("rb") as served:
            source = io.BytesIO(served.read())
        source.name = "source.png"
        fields |= {"operation": "edit", "image": source}
    response = Client().post("/playground/", fields, headers={"HX-Request": "true"})
    if response.status_code != 200:
        return response.status_code, response.content.decode(), []
    job = ImageJob.objects.filter(source=ImageJob.Source.PLAYGROUND).latest("created_at")
    return 200, response.content.decode(), image_job_images(job=job)


def reduced(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.LANCZOS)


def matches(battle: Generation, remake: bytes) -> str | None:
    """How a remake gives a battle image away, if it does."""
    with battle.image.open("rb") as file:
        original = reduced(file.read())
    copy = reduced(remake)
    if original.tobytes() == copy.tobytes():
        return "pixel-identical"
    if phash_distance(image_phash(original), image_phash(copy)) <= COPY_BITS:
        return "perceptual copy"
    return None


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_guard_refuses_battle_prompts_and_their_variants(battles, attacker, variant):
    reword = VARIANTS[variant]
    for prompt in {generation.prompt for generation in battles}:
        text = reword(prompt.text)
        assert text != prompt.text or variant == "exact"

        api = api_remake(attacker, prompt, "lumen-xl", text)
        playground = playground_remake(prompt, "lumen-xl", text)

        assert api[:2] == (400, "competition_prompt"), (variant, prompt.text)
        assert playground[0] == 400, (variant, prompt.text)
        assert "competition prompts: to keep the votes blind" in playground[1]


def test_with_the_guard_bypassed_no_remake_redraws_a_battle_image(battles, attacker, monkeypatch):
    monkeypatch.setattr(params, "_not_in_competition", lambda *args, **kwargs: None)
    given_away = []
    for battle in battles:
        if battle.prompt.arena != Arena.T2I:
            continue
        for channel, (status, _, images) in (
            ("api", api_remake(attacker, battle.prompt, battle.model.slug, battle.prompt.text)),
            (
                "playground",
                playground_remake(battle.prompt, battle.model.slug, battle.prompt.text),
            ),
        ):
            if status != 200 or not images:
                pytest.fail(f"the {channel} made nothing for {battle.model.slug}: {status}")
            given_away += [
                (battle.model.slug, battle.prompt.text, channel, how)
                for image in images
                if (how := matches(battle, image))
            ]

    assert given_away == []
