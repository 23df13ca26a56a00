"""The OpenAI-compatible images API: keys, generations, edits, errors in OpenAI's shape."""

import base64
import io
import json
import os
import re
import time
from datetime import timedelta

import openai
import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image, ImageDraw

from arena.api.models import ApiKey
from arena.api.services import api_images_prune, api_key_create, images_save
from arena.api.tasks import api_images_prune_run
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync, edit_prompt_create
from tests.arena.helpers import use_local_gateway
from tests.factories import PromptFactory, png_bytes

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
EDITS = "/openai/v1/images/edits"


@pytest.fixture
def key():
    catalog_sync()
    return api_key_create(name="tests")[1]


def post_json(key, body, path=GENERATIONS):
    return Client().post(
        path,
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def post_edit(key, fields, files):
    return Client().post(EDITS, {**fields, **files}, headers={"Authorization": f"Bearer {key}"})


def upload(data, name="source.png"):
    file = io.BytesIO(data)
    file.name = name
    return file


def shapes() -> bytes:
    image = Image.new("RGB", (128, 128), (20, 20, 40))
    ImageDraw.Draw(image).polygon([(0, 128), (64, 10), (128, 128)], fill=(240, 240, 250))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def stored_nothing():
    return not ProviderCall.objects.exists() and not default_storage.exists("api")


def test_models_lists_every_catalog_model_with_what_it_can_do(key):
    response = Client().get("/openai/v1/models", headers={"Authorization": f"Bearer {key}"})

    models = {row["id"]: row for row in response.json()["data"]}
    assert response.json()["object"] == "list"
    assert models["lumen-xl"]["capabilities"] == ["generate", "edit"]
    assert models["blockworld"]["capabilities"] == ["generate"]
    assert models["retouch"]["capabilities"] == ["edit"]
    assert models["lumen-xl"]["object"] == "model"
    assert "flux-1.1-pro" not in models  # no provider key here: it can't be called


def test_generation_returns_n_images_of_the_size_asked_and_records_every_call(key):
    body = {"model": "lumen-xl", "prompt": "A red ball", "n": 2, "size": "512x384"}
    response = post_json(key, {**body, "response_format": "b64_json"})

    assert response.status_code == 200, response.content
    images = [
        Image.open(io.BytesIO(base64.b64decode(row["b64_json"])))
        for row in response.json()["data"]
    ]
    assert [image.size for image in images] == [(512, 384), (512, 384)]
    assert response["X-Arena-Provider"] == "local"
    calls = ProviderCall.objects.filter(source="api", model__slug="lumen-xl", ok=True)
    assert sum(call.images for call in calls) == 2
    assert response["X-Arena-Cost-USD"] == f"{sum(call.cost for call in calls):.4f}"
    assert float(response["X-Arena-Cost-USD"]) > 0


def test_generation_by_url_stores_the_image_under_a_random_name(key):
    response = post_json(key, {"model": "prism-2", "prompt": "Three yellow apples"})

    assert response.status_code == 200, response.content
    (row,) = response.json()["data"]
    assert row["url"].startswith("http://testserver/media/api/")
    assert "prism" not in row["url"]
    name = row["url"].removeprefix("http://testserver/media/")
    with default_storage.open(name) as image:
        assert Image.open(image).size == (1024, 1024)  # the default size


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"model": "lumen-xl"}, 400, "prompt", None),
        ({"model": "lumen-xl", "prompt": "  "}, 400, "prompt", None),
        ({"model": "lumen-xl", "prompt": "x" * 4001}, 400, "prompt", None),
        ({"prompt": "a cat"}, 400, "model", None),
        ({"model": "nope", "prompt": "a cat"}, 404, "model", "model_not_found"),
        ({"model": "retouch", "prompt": "a cat"}, 400, "model", None),  # only edits
        ({"model": "lumen-xl", "prompt": "a cat", "size": "big"}, 400, "size", None),
        ({"model": "lumen-xl", "prompt": "a cat", "size": "10x10"}, 400, "size", None),
        ({"model": "lumen-xl", "prompt": "a cat", "size": "9000x1024"}, 400, "size", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": 0}, 400, "n", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": 11}, 400, "n", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": "two"}, 400, "n", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": True}, 400, "n", None),
        (
            {"model": "lumen-xl", "prompt": "a cat", "response_format": "gif"},
            400,
            "response_format",
            None,
        ),
        ({"model": "lumen-xl", "prompt": "a cat", "quality": 3}, 400, "quality", None),
        ('{"model": "lumen-xl", "prompt": ', 400, None, None),
        ("[1, 2]", 400, None, None),
        ("", 400, None, None),
    ],
)
def test_bad_requests_get_openais_error_shape_and_store_nothing(key, body, status, param, code):
    response = post_json(key, body)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["param"] == param
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"
    assert len(error["message"]) > 10
    assert stored_nothing()


def test_competition_prompts_are_refused_while_they_are_in_battles(key):
    prompt = PromptFactory(text="A red ball on the left and a blue cube on the right")
    source = png_bytes(size=(128, 128))
    edit, _ = edit_prompt_create(instruction="Make the ball green", source=source)
    body = {"model": "lumen-xl", "prompt": "a RED ball on the left   and a blue cube on the right"}

    refused = post_json(key, body)
    refused_edit = post_edit(
        key, {"model": "lumen-xl", "prompt": "Make the ball green"}, {"image": upload(source)}
    )
    with edit.source_image.open("rb") as served:  # what a battle page serves as the source
        refused_served = post_edit(
            key,
            {"model": "lumen-xl", "prompt": "make the ball  green"},
            {"image": upload(served.read())},
        )
    other_source = post_edit(
        key,
        {"model": "lumen-xl", "prompt": "Make the ball green"},
        {"image": upload(shapes())},  # a flat colour would look like any other to a phash
    )
    prompt.active = edit.active = False
    prompt.save()
    edit.save()
    retired = post_json(key, body)

    assert refused.status_code == refused_edit.status_code == 400
    assert refused.json()["error"]["code"] == "competition_prompt"
    assert refused_edit.json()["error"]["code"] == "competition_prompt"
    assert refused_served.json()["error"]["code"] == "competition_prompt"
    assert other_source.status_code == 200  # the same words on another image are fine
    assert retired.status_code == 200


def test_keys_are_required_checked_and_revocable(key):
    body = {"model": "lumen-xl", "prompt": "a cat"}
    missing = Client().post(GENERATIONS, body, content_type="application/json")
    wrong = post_json(key[:-3] + "abc", body)
    ApiKey.objects.update(active=False)
    revoked = post_json(key, body)

    assert missing.status_code == 401
    assert "didn't provide an API key" in missing.json()["error"]["message"]
    assert wrong.status_code == revoked.status_code == 401
    assert wrong.json()["error"]["code"] == revoked.json()["error"]["code"] == "invalid_api_key"
    assert stored_nothing()
    assert key not in str(list(ApiKey.objects.values()))  # only a hash is kept


def test_wrong_method_is_refused_as_json(key):
    response = Client().get(GENERATIONS, headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 405
    assert "POST" in response.json()["error"]["message"]


def test_each_key_has_a_rate_limit(key, settings):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 2
    other = api_key_create(name="other")[1]
    body = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}

    statuses = [post_json(key, body).status_code for _ in range(3)]
    limited = post_json(key, body)

    assert statuses == [200, 200, 429]
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert post_json(other, body).status_code == 200


def test_edit_applies_the_instruction_to_the_uploaded_image(key):
    response = post_edit(
        key,
        {"model": "lumen-xl", "prompt": "Make it black and white", "response_format": "b64_json"},
        {"image": upload(png_bytes((200, 30, 30), (300, 200)))},
    )

    assert response.status_code == 200, response.content
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["data"][0]["b64_json"])))
    red, green, blue = image.convert("RGB").getpixel((150, 100))
    assert max(red, green, blue) - min(red, green, blue) < 10  # red before, grey now
    assert ProviderCall.objects.filter(source="api", ok=True).count() == 1


@pytest.mark.parametrize(
    ("fields", "files", "param", "message"),
    [
        ({"model": "lumen-xl", "prompt": "x"}, {}, "image", "image is required"),
        (
            {"model": "lumen-xl", "prompt": "x"},
            {"image": upload(b"hello", "a.png")},
            "image",
            "not a PNG",
        ),
        (
            {"model": "blockworld", "prompt": "x"},
            {"image": upload(png_bytes(size=(100, 100)))},
            "model",
            "cannot edit",
        ),
        (
            {"model": "lumen-xl", "prompt": "x"},
            {"image": upload(png_bytes(size=(100, 100)), "a.jpg")},
            "image",
            "really a PNG",
        ),
        (
            {"model": "lumen-xl", "prompt": "x"},
            {"image": upload(png_bytes(size=(20, 20)))},
            "image",
            "64+ pixels",
        ),
    ],
)
def test_bad_edits_are_refused_and_store_nothing(key, fields, files, param, message):
    response = post_edit(key, fields, files)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert message in response.json()["error"]["message"]
    assert stored_nothing()


def test_a_broken_multipart_body_is_a_json_400(key):
    response = Client().post(
        EDITS,
        b"--xyz\r\nContent-Disposition: form-data; name=prompt\r\n\r\nhi\r\n--xy",
        content_type="multipart/form-data; boundary=",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 400
    assert "multipart" in response.json()["error"]["message"]
    assert stored_nothing()


def test_a_failing_provider_is_a_502_and_its_attempts_are_kept(key):
    use_local_gateway(fail_rates={"lumen-xl": 1.0})

    response = post_json(key, {"model": "lumen-xl", "prompt": "a cat"})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
    assert response.json()["error"]["type"] == "server_error"
    assert ProviderCall.objects.filter(source="api", ok=False).exists()
    assert not default_storage.exists("api")


def test_a_model_without_configured_providers_is_a_503(key):
    response = post_json(key, {"model": "flux-1.1-pro", "prompt": "a cat"})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_not_available"


def test_staff_create_a_key_in_the_admin_and_see_it_once(db):
    catalog_sync()
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("s", "s@x.org", "pw"))

    page = staff.post("/admin/api/apikey/add/", {"name": "Acme bot", "active": "on"}, follow=True)

    text = page.content.decode()
    shown = re.search(r"\bia-[0-9a-f]{8}-[A-Za-z0-9_-]{43}\b", text)[0]
    assert "copy it now" in text
    assert post_json(shown, {"model": "blockworld", "prompt": "a cat"}).status_code == 200
    assert staff.get("/admin/api/apikey/").content.decode().count(shown) == 0


@pytest.mark.django_db(transaction=True)
def test_the_official_openai_client_works_against_it(live_server):
    catalog_sync()
    client = openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1", api_key=api_key_create(name="sdk")[1]
    )

    listed = {model.id for model in client.models.list()}
    made = client.images.generate(
        model="prism-2", prompt="A blue cube", size="256x256", response_format="b64_json"
    )
    edited = client.images.edit(
        model="lumen-xl", image=("cube.png", png_bytes(size=(128, 128))), prompt="Make it sepia"
    )
    with pytest.raises(openai.NotFoundError) as missing:
        client.images.generate(model="nope", prompt="A blue cube")

    assert {"prism-2", "lumen-xl"} <= listed
    assert Image.open(io.BytesIO(base64.b64decode(made.data[0].b64_json))).size == (256, 256)
    assert edited.data[0].url.startswith(f"{live_server.url}/media/api/")
    assert missing.value.body["code"] == "model_not_found"


def test_api_and_playground_images_are_pruned_after_a_while(settings):
    old = images_save(images=[png_bytes()], folder="api") + images_save(
        images=[png_bytes()], folder="playground"
    )
    fresh = images_save(images=[png_bytes()], folder="api")
    for name in old:
        stamp = time.time() - 3 * 3600
        os.utime(default_storage.path(name), (stamp, stamp))
    kept = images_save(images=[png_bytes()], folder="generations")  # arena images stay

    settings.ARENA_API_IMAGE_HOURS = 2
    api_images_prune_run()

    assert [default_storage.exists(name) for name in old] == [False, False]
    assert default_storage.exists(fresh[0])
    assert default_storage.exists(kept[0])
    assert api_images_prune(older_than=timedelta(hours=2)) == 0


def test_parameters_a_provider_cannot_take_are_reported_not_fatal(key):
    body = {"model": "blockworld", "prompt": "a cat", "size": "64x64", "quality": "hd"}

    response = post_json(key, body)

    assert response.status_code == 200
    assert "does not support quality" in response["X-Arena-Warnings"]
