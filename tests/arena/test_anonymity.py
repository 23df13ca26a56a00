"""Before the vote nothing names the models: not the page, the URLs, the image bytes or headers."""

import dataclasses
import io
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image, PngImagePlugin

import gateway
from arena.api.outputs import image_url
from arena.catalog.images import UnreadableImage, arena_renditions, padded_length, png_padded
from arena.catalog.models import AIModel, Generation, ProviderCall
from arena.catalog.services import catalog_sync, prompt_generate
from gateway.providers.local import LocalProvider
from tests.arena.helpers import local_catalog, open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def arena_ready(settings, django_capture_on_commit_callbacks):
    settings.ARENA_IMAGE_SIZE = 256
    catalog_sync()
    prompts = [
        PromptFactory(text="A red book on a glass table"),
        PromptFactory(text="A blue moon"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])
    return list(AIModel.objects.filter(generations__isnull=False).distinct())


def identities(models: list[AIModel]) -> list[str]:
    return [text for model in models for text in (model.name, model.slug)]


def test_battle_page_names_no_model_before_the_vote(arena_ready):
    client = Client()
    for _ in range(10):
        response = client.get("/battle/t2i/")
        page = response.content.decode()
        for identity in identities(arena_ready):
            assert identity not in page
            assert identity.lower() not in page.lower()
        assert "data-model" not in page
        for header, value in response.items():
            assert not any(identity in value for identity in identities(arena_ready)), header


def test_battle_urls_carry_only_the_token_and_the_side(arena_ready):
    client = Client()
    battle = open_battle(client)
    page = client.get(battle.get_absolute_url()).content.decode()

    urls = set(re.findall(r'(?:src|href|action|hx-post|hx-get)="([^"]+)"', page))
    battle_urls = {url for url in urls if url.startswith("/battle/") and battle.token in url}
    assert battle_urls == {
        f"/battle/{battle.token}/",
        f"/battle/{battle.token}/left.png",
        f"/battle/{battle.token}/right.png",
    }
    generation_ids = {str(battle.left.pk), str(battle.right.pk)}
    assert not any("media" in url or url.rsplit("/", 1)[-1] in generation_ids for url in urls)


def test_battle_images_are_clean_same_sized_pngs(arena_ready):
    client = Client()
    battle = open_battle(client)
    sizes = set()
    for side in ("left", "right"):
        response = client.get(f"/battle/{battle.token}/{side}.png")
        assert response.status_code == 200
        data = response.content
        for identity in identities(arena_ready):
            assert identity.encode() not in data
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        assert set(image.info) <= {"dpi"}  # no text chunks, no EXIF, no ICC profile
        sizes.add(image.size)
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == f'inline; filename="{side}.png"'
        assert "Last-Modified" not in response
        assert "ETag" not in response
    assert sizes == {(256, 256)}


def test_battle_images_are_only_served_to_the_visitor_of_the_battle(arena_ready):
    battle = open_battle(Client())

    assert Client().get(f"/battle/{battle.token}/left.png").status_code == 404
    assert Client().get("/battle/forged-token/left.png").status_code == 404


@pytest.mark.parametrize("accel_prefix", ["", "/protected-media/"])
def test_a_text_to_image_battle_has_no_source_image(arena_ready, settings, accel_prefix):
    settings.ARENA_ACCEL_REDIRECT_PREFIX = accel_prefix
    client = Client()
    battle = open_battle(client)

    response = client.get(f"/battle/{battle.token}/source.png")

    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response


def test_renditions_drop_metadata_and_equalise_size():
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "ZebraPainter v3")
    info.add_text("parameters", "model=zebra-painter seed=42")
    source = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 200, 30)).save(source, format="PNG", pnginfo=info)
    exif = Image.Exif()
    exif[0x0131] = "ZebraPainter"  # Software
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 500), (200, 10, 30)).save(jpeg, format="JPEG", exif=exif)

    for data in (source.getvalue(), jpeg.getvalue()):
        renditions = arena_renditions(data, size=512, thumbnail_size=128)
        assert b"Zebra" not in renditions.image
        assert b"zebra" not in renditions.image
        image = Image.open(io.BytesIO(renditions.image))
        assert image.size == (512, 512)
        assert set(image.info) <= {"dpi"}
        assert Image.open(io.BytesIO(renditions.thumbnail)).size == (128, 128)


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40]
)
def test_unreadable_provider_output_is_refused(data):
    with pytest.raises(UnreadableImage):
        arena_renditions(data, size=64, thumbnail_size=32)


def test_revealed_battle_names_both_models(arena_ready):
    client = Client()
    battle = open_battle(client)
    client.post(battle.get_absolute_url(), {"choice": "both_bad"})

    page = client.get(battle.get_absolute_url()).content.decode()

    for generation in (battle.left, battle.right):
        assert f'data-model="{generation.model.slug}"' in page
        assert generation.model.name in page
    assert Generation.objects.count() >= 12


def test_behind_nginx_the_file_is_handed_over_with_x_accel_redirect(arena_ready, settings):
    settings.ARENA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    client = Client()
    battle = open_battle(client)
    assert battle.left.image.size == battle.right.image.size  # both stored padded to one band

    response = client.get(f"/battle/{battle.token}/right.png")

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{battle.right.image.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/png"


def battle_sides(client: Client, battle) -> list:
    return [client.get(f"/battle/{battle.token}/{side}.png") for side in ("left", "right")]


@pytest.mark.parametrize("accel", ["", "/protected-media/"])
def test_both_images_of_every_battle_are_equally_long(settings, accel):
    """Models' PNGs fall in their own size bands (a blocky model's weigh a few KB): stored
    unpadded, as images made before padding are, every battle still serves equal lengths,
    the same way and with the same headers for both sides."""
    settings.ARENA_ACCEL_REDIRECT_PREFIX = accel
    settings.ARENA_IMAGE_PAD_BYTES = 0
    prompts = [PromptFactory() for _ in range(3)]
    sizes = {"blocky": (8, 8), "plain": (64, 64), "busy": (160, 160)}
    for slug, side in sizes.items():
        model = AIModelFactory(slug=slug)
        for prompt in prompts:
            noise = Image.effect_noise(side, 90).convert("RGB").resize((256, 256))
            buffer = io.BytesIO()
            noise.save(buffer, format="PNG")
            GenerationFactory(
                prompt=prompt, model=model, image=ContentFile(buffer.getvalue(), "x.png")
            )
    stored = {len(g.image.read()) for g in Generation.objects.all()}
    assert len(stored) > 3  # the models' images really differ in length

    client = Client()
    for _ in range(20):
        battle = open_battle(client)
        left, right = battle_sides(client, battle)
        assert left.status_code == right.status_code == 200
        assert len(left.content) == len(right.content) > 0
        assert left["Content-Length"] == right["Content-Length"]
        assert set(left.headers) == set(right.headers)
        assert "X-Accel-Redirect" not in left  # unequal files are padded here, both sides
        for response in (left, right):
            image = Image.open(io.BytesIO(response.content))
            image.load()  # the padding chunk is skipped by decoders
            assert image.size == (256, 256)


def test_padding_keeps_the_picture_and_hits_the_length_exactly():
    plain = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(plain, format="PNG")
    data = plain.getvalue()
    for extra in (0, 1, 5, 11, 12, 13, 4000):
        length = padded_length(len(data), len(data) + extra)
        padded = png_padded(data, length)
        assert len(padded) == length >= len(data) + extra
        image = Image.open(io.BytesIO(padded))
        assert image.getpixel((10, 10)) == (1, 2, 3)
    assert padded_length(100, 5000, step=4096) == 8192
    assert padded_length(5000, step=4096) == 8192


def test_no_battle_image_is_served_by_the_api_file_view_even_signed(arena_ready):
    """The API's signed file URLs serve only its own folder: a battle image's name, signed as
    if SECRET_KEY had leaked, or reached for through the path, gets no image bytes."""
    client = Client()
    battle = open_battle(client)
    for generation in (battle.left, battle.right):
        name = generation.image.name
        for url in (
            image_url(name.rpartition("/")[2], made_at=timezone.now()),
            f"/openai/v1/files/images/../../{name}",
            f"/openai/v1/files/images/..%2F{name.replace('/', '%2F')}",
            f"/openai/v1/files/{name}",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response["Content-Type"] == "application/json", url


class TellingProvider(LocalProvider):
    """The built-in models, telling of each image what remote providers tell: a seed they
    chose, the prompt as they rewrote it, a safety flag; each of them naming the model."""

    def call(self, offering, request, operation, **options):
        made = super().call(offering, request, operation, **options)
        return dataclasses.replace(
            made,
            seeds=(told_seed(offering.model),),
            revised_prompts=(f"{request.prompt}, in the house style of {offering.model}",),
            safety=(f"{offering.model}-checker: MEDIUM",),
        )


def told_seed(model_id: str) -> int:
    return 900_000_000 + int.from_bytes(model_id.encode()[:3], "big")


def test_nothing_a_provider_told_of_a_battle_image_shows_before_the_vote(
    settings, django_capture_on_commit_callbacks
):
    settings.ARENA_IMAGE_SIZE = 128
    gateway.set_default_gateway(
        gateway.Gateway(
            catalog=local_catalog(),
            providers={"local": TellingProvider(latency_scale=0)},
            router=gateway.Router(gateway.MemoryWindow()),
        )
    )
    catalog_sync()
    prompt = PromptFactory(text="A red book on a glass table")
    with django_capture_on_commit_callbacks(execute=True):
        prompt_generate(prompt_ids=[prompt.pk])
    client = Client()
    battle = open_battle(client)
    models = [battle.left.model.slug, battle.right.model.slug]
    told = [
        text
        for slug in models
        for text in (str(told_seed(slug)), f"house style of {slug}", f"{slug}-checker")
    ]
    # kept for the admin, so there is something that could leak
    calls = ProviderCall.objects.filter(generation__in=[battle.left, battle.right])
    assert {call.seed for call in calls} == {told_seed(slug) for slug in models}

    answers = [client.get(battle.get_absolute_url())] + [
        client.get(f"/battle/{battle.token}/{side}.png") for side in ("left", "right")
    ]

    for answer in answers:
        assert answer.status_code == 200
        for text in told:
            assert text.encode() not in answer.content
            assert text not in str(answer.headers)
