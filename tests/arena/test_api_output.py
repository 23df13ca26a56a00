"""What the images API answers with: images in the format asked for at signed URLs that
expire, the fields gpt-image echoes, and the tokens as `usage`."""

import base64
import dataclasses
import io
import json
import os
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import openai
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

import arena.urls
import gateway
from arena.api import outputs
from arena.api.models import ImageJob
from arena.api.services import api_key_create, images_save
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
EDITS = "/openai/v1/images/edits"
BODY = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}


def post_json(key, body):
    return Client().post(
        GENERATIONS,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def fetch(url):
    response = Client().get(url)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return response, content


def rgba_png(size=(64, 64)) -> bytes:
    """Half see-through: what gpt-image makes with a transparent background."""
    image = Image.new("RGBA", size, (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def provider_answers(monkeypatch):
    """The gateway's answer, its images and reported tokens replaced; the requests it got."""
    seen = []

    def answer(images=None, tokens=None):
        real = gateway.generate

        def generate(request, **options):
            seen.append(request)
            result = real(request, **options)
            return dataclasses.replace(
                result,
                images=images or result.images,
                attempts=[dataclasses.replace(a, tokens=tokens) for a in result.attempts],
            )

        monkeypatch.setattr(gateway, "generate", generate)
        return seen

    return answer


@pytest.mark.parametrize(
    ("output_format", "mime"), [("webp", "image/webp"), ("jpeg", "image/jpeg")]
)
def test_a_url_serves_the_image_in_the_format_asked_and_the_body_says_so(key, output_format, mime):
    response = post_json(key, {**BODY, "output_format": output_format})

    assert response.status_code == 200, response.content
    body = response.json()
    served, content = fetch(body["data"][0]["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == mime
    assert Image.open(io.BytesIO(content)).format == output_format.upper()
    assert (body["output_format"], body["size"], body["background"]) == (
        output_format,
        "64x64",
        "opaque",
    )


def test_without_output_format_the_images_are_as_made_and_the_body_names_their_format(key):
    response = post_json(key, {**BODY, "quality": "low", "response_format": "b64_json"})

    body = response.json()
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert image.format == "PNG"
    assert body["output_format"] == "png"
    assert body["quality"] == "low"


def test_output_compression_sets_the_jpeg_quality(key):
    sizes = {}
    for compression in (5, 95):
        body = {**BODY, "size": "256x256", "output_format": "jpeg", "response_format": "b64_json"}
        response = post_json(key, {**body, "seed": 3, "output_compression": compression})
        sizes[compression] = len(base64.b64decode(response.json()["data"][0]["b64_json"]))

    assert sizes[5] < sizes[95]


@pytest.mark.parametrize(
    ("fields", "param", "words"),
    [
        ({"background": "transparent", "output_format": "jpeg"}, "background", "jpeg"),
        ({"output_format": "gif"}, "output_format", "png, jpeg, webp"),
        ({"output_format": 3}, "output_format", "png, jpeg, webp"),
        ({"background": "clear"}, "background", "transparent, opaque, auto"),
        ({"output_compression": 101}, "output_compression", "0 to 100"),
        ({"output_compression": "high"}, "output_compression", "0 to 100"),
        ({"output_compression": True}, "output_compression", "0 to 100"),
        ({"output_compression": 50}, "output_compression", "PNG"),
        ({"output_compression": 50, "output_format": "png"}, "output_compression", "PNG"),
    ],
)
def test_output_options_openai_refuses_are_refused_naming_them(key, fields, param, words):
    response = post_json(key, {**BODY, **fields})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert words in error["message"]
    assert not ImageJob.objects.exists()


def test_an_edit_takes_the_output_options_as_form_fields(key):
    source = io.BytesIO(png_bytes(size=(100, 100)))
    source.name = "source.png"
    fields = {"model": "lumen-xl", "prompt": "Make it sepia", "image": source}
    options = {"output_format": "webp", "output_compression": "60", "response_format": "b64_json"}

    response = Client().post(
        EDITS, {**fields, **options}, headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 200, response.content
    image = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert Image.open(io.BytesIO(image)).format == "WEBP"


def test_an_opaque_background_is_flattened_onto_white(key, provider_answers):
    provider_answers(images=[rgba_png()])

    response = post_json(key, {**BODY, "background": "opaque", "response_format": "b64_json"})

    body = response.json()
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert image.mode == "RGB"
    assert image.getpixel((60, 10)) == (255, 255, 255)  # was see-through
    assert body["background"] == "opaque"


def test_a_transparent_background_is_asked_of_the_provider_and_kept_in_webp(key, provider_answers):
    seen = provider_answers(images=[rgba_png()])
    fields = {"background": "transparent", "output_format": "webp", "output_compression": 80}

    response = post_json(key, {**BODY, **fields, "response_format": "b64_json"})

    body = response.json()
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert (image.format, image.mode) == ("WEBP", "RGBA")
    assert image.getpixel((60, 10))[3] == 0
    assert body["background"] == "transparent"
    # Only the background goes to the providers: the encoding is done here.
    assert seen[0].extra == {"background": "transparent"}
    assert "does not take the option 'background'" in response["X-Arena-Warnings"]


def test_an_image_that_cannot_be_converted_is_a_500_and_its_calls_are_kept(
    key, provider_answers, caplog
):
    provider_answers(images=[png_bytes(size=(256, 256))[:-200]])  # cut short

    response = post_json(key, {**BODY, "output_format": "webp"})

    assert response.status_code == 500
    assert "could not be converted" in response.json()["error"]["message"]
    assert ProviderCall.objects.filter(source="api", ok=True).exists()


def test_usage_reports_the_tokens_the_provider_counted(key, provider_answers):
    tokens = {"input_text": 10, "input_image": 5, "output_text": 2, "output_image": 1056}
    provider_answers(tokens=tokens)

    response = post_json(key, BODY)

    assert response.json()["usage"] == {
        "input_tokens": 15,
        "input_tokens_details": {"text_tokens": 10, "image_tokens": 5},
        "output_tokens": 1058,
        "output_tokens_details": {"text_tokens": 2, "image_tokens": 1056},
        "total_tokens": 1073,
    }
    assert ImageJob.objects.get().tokens == tokens


def test_models_that_report_no_tokens_answer_without_usage(key):
    assert "usage" not in post_json(key, BODY).json()


OUTPUT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["png", "jpeg", "webp", "transparent", "opaque", "auto", "100", "0"]),
    st.lists(st.integers(), max_size=2),
)


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    output_format=OUTPUT_VALUES,
    output_compression=OUTPUT_VALUES,
    background=OUTPUT_VALUES,
)
def test_arbitrary_output_options_are_never_a_server_error(
    key, settings, output_format, output_compression, background
):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 0
    options = {
        "output_format": output_format,
        "output_compression": output_compression,
        "background": background,
    }

    response = post_json(key, {**BODY, **options, "response_format": "b64_json"})

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["error"]["param"] in options


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.from_regex(r"[0-9a-f]{32}\.(png|jpg|webp)", fullmatch=True),
    # What WSGI can carry: a query string's bytes, read as latin-1.
    query=st.text(st.characters(max_codepoint=255)),
)
def test_arbitrary_image_urls_are_never_a_server_error(name, query):
    response = Client().get(f"/openai/v1/files/images/{name}", QUERY_STRING=query)

    assert response.status_code in (403, 410), response.content
    assert "error" in response.json()


# --- Signed URLs ----------------------------------------------------------------------------


def url_of(key, **fields):
    response = post_json(key, {**BODY, **fields})
    assert response.status_code == 200, response.content
    return response.json()["data"][0]["url"]


def with_query(url, **changes):
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


@pytest.mark.parametrize(
    "alter",
    [
        lambda url: with_query(url, signature="0" * 64),
        lambda url: with_query(url, expires=int(time.time()) + 10**6),
        lambda url: url.partition("?")[0],
        lambda url: with_query(url, expires="-5"),
        lambda url: with_query(url, expires="1e9"),
    ],
)
def test_an_altered_image_url_is_a_403_in_openais_shape(key, alter):
    response, _ = fetch(alter(url_of(key)))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"


def test_an_expired_image_url_is_a_410_and_its_file_is_gone(key, settings):
    settings.ARENA_API_URL_MINUTES = 0
    url = url_of(key)
    (name,) = ImageJob.objects.get().images

    response, _ = fetch(url)

    assert response.status_code == 410
    assert response.json()["error"]["code"] == "url_expired"
    assert not default_storage.exists(name)


def test_an_image_url_expires_its_lifetime_after_the_image_was_made(key, settings):
    settings.ARENA_API_URL_MINUTES = 30
    expires = int(parse_qs(urlsplit(url_of(key)).query)["expires"][0])

    made = ImageJob.objects.get().finished_at
    assert expires == int((made + timedelta(minutes=30)).timestamp())


def test_behind_nginx_the_file_is_handed_over_with_x_accel_redirect(key, settings):
    settings.ARENA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    url = url_of(key, output_format="webp")
    (name,) = ImageJob.objects.get().images

    response, content = fetch(url)

    assert response["X-Accel-Redirect"] == f"/protected-media/{name}"
    assert response["Content-Type"] == "image/webp"
    assert content == b""


def test_no_image_but_the_apis_is_served_even_with_a_valid_signature(key, settings):
    """A battle image has a name of the same shape as an API image: were the file view to
    look anywhere but `api/`, a signature (or a leaked SECRET_KEY) would name its model."""
    battle_image = images_save(images=[png_bytes()], folder="generations")[0]
    file_name = battle_image.rpartition("/")[2]
    signed = outputs.image_url(f"api/{file_name}", made_at=timezone.now())
    expires, signature = parse_qs(urlsplit(signed).query)["expires"][0], "x"
    attempts = [
        signed,
        f"/openai/v1/files/images/..%2Fgenerations%2F{file_name}?expires={expires}",
        f"/openai/v1/files/images/../generations/{file_name}?expires={expires}",
        f"/openai/v1/files/images/%2E%2E/generations/{file_name}?signature={signature}",
        f"/openai/v1/files/images/generations/{file_name}",
        f"/openai/v1/files/{battle_image}",
    ]

    for url in attempts:
        response, content = fetch(url)
        assert response.status_code in (403, 404), url
        assert response["Content-Type"] == "application/json", url
        assert content != default_storage.open(battle_image).read(), url


def test_debug_media_serving_refuses_api_images_and_job_inputs(settings):
    api_image = images_save(images=[png_bytes()], folder="api")[0]
    job_input = images_save(images=[png_bytes()], folder="job-inputs")[0]
    public = images_save(images=[png_bytes()], folder="generations")[0]
    settings.DEBUG = True

    class DebugUrls:
        urlpatterns = [*arena.urls.urlpatterns, *arena.urls.media_urlpatterns()]

    settings.ROOT_URLCONF = DebugUrls
    statuses = [Client().get(f"/media/{name}").status_code for name in (api_image, job_input)]
    shown = Client().get(f"/media/{public}").status_code

    assert statuses == [404, 404]
    assert shown == 200


def test_nginx_denies_api_images_and_job_inputs_under_media(settings):
    conf = (settings.BASE_DIR / "deploy" / "nginx.conf").read_text()

    for folder in ("api", "job-inputs"):
        block = conf.split(f"location ^~ /media/{folder}/ {{", 1)[1].split("}", 1)[0]
        assert "return 404;" in block


# --- Pruning --------------------------------------------------------------------------------


def aged(folder, minutes):
    (name,) = images_save(images=[png_bytes()], folder=folder)
    stamp = time.time() - minutes * 60
    os.utime(default_storage.path(name), (stamp, stamp))
    return name


def test_without_a_beat_api_requests_delete_expired_images(key, settings, monkeypatch):
    settings.ARENA_PRUNE_ON_REQUEST, settings.ARENA_API_URL_MINUTES = True, 60
    settings.ARENA_PRUNE_EVERY_SECONDS = 3600
    monkeypatch.setattr(outputs, "_next_prune", 0.0)
    expired, playground, fresh = aged("api", 62), aged("playground", 62), aged("api", 30)

    Client().get("/openai/v1/models", headers={"Authorization": f"Bearer {key}"})
    later = aged("api", 62)
    Client().get("/openai/v1/models", headers={"Authorization": f"Bearer {key}"})

    assert not default_storage.exists(expired)
    assert not default_storage.exists(playground)
    assert default_storage.exists(fresh)
    assert default_storage.exists(later)  # at most one prune per ARENA_PRUNE_EVERY_SECONDS


def test_with_a_beat_requests_leave_pruning_to_it(key, settings, monkeypatch):
    settings.ARENA_PRUNE_ON_REQUEST = False
    monkeypatch.setattr(outputs, "_next_prune", 0.0)
    expired = aged("api", 24 * 60)

    Client().get("/openai/v1/models", headers={"Authorization": f"Bearer {key}"})

    assert default_storage.exists(expired)


# --- The official client --------------------------------------------------------------------


def test_the_openai_client_reads_formats_echoes_usage_and_expiry(
    live_server, provider_answers, settings
):
    catalog_sync()
    client = openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1", api_key=api_key_create(name="sdk")[1]
    )
    tokens = {"input_text": 7, "input_image": 0, "output_text": 0, "output_image": 272}
    provider_answers(images=[rgba_png()], tokens=tokens)

    made = client.images.generate(
        model="blockworld",
        prompt="a cat",
        size="256x256",
        output_format="webp",
        background="transparent",
        quality="low",
    )
    fetched = httpx.get(made.data[0].url)
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(
            model="blockworld", prompt="a cat", output_format="jpeg", background="transparent"
        )
    settings.ARENA_API_URL_MINUTES = 0
    expired = client.images.generate(model="blockworld", prompt="a cat", size="64x64")
    gone = httpx.get(expired.data[0].url)

    assert (made.output_format, made.background, made.quality) == ("webp", "transparent", "low")
    assert made.size == "64x64"  # what the provider drew, not what was asked
    assert made.usage.output_tokens == 272
    assert made.usage.input_tokens_details.text_tokens == 7
    assert made.usage.total_tokens == 279
    assert fetched.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(fetched.content)).format == "WEBP"
    assert refused.value.body["param"] == "background"
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "url_expired"
