"""Input the images API and the playground cannot use is a clear 400, never a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
EDITS = "/openai/v1/images/edits"
GOOD = {"model": "lumen-xl", "prompt": "a cat"}


def post_json(key, body: str | dict):
    return Client().post(
        GENERATIONS,
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def assert_openai_400(response, param):
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert len(error["message"]) > 10
    assert not ProviderCall.objects.exists()


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": "²"}, "n"),  # str.isdigit() says yes, int() says no
        ({"n": "١"}, "n"),  # an Arabic-Indic one
        ({"n": "9" * 5000}, "n"),  # more digits than int() converts
        ({"n": 10**400}, "n"),
        ({"n": 1e308 * 10}, "n"),  # json writes Infinity
        ({"size": "１０２４x１０２４"}, "size"),  # full-width digits
        ({"size": "1024x1024\n"}, "size"),
        ({"size": "9" * 5000 + "x1"}, "size"),
        ({"prompt": "a \ud800 cat"}, "prompt"),
        ({"model": "lumen-\udfff"}, "model"),
        ({"prompt": "a\x00cat"}, "prompt"),
        ({"model": "lumen-xl\x00"}, "model"),
        ({"style": "\ud800"}, "style"),
        ({"extra": {"deep": ["\ud800"]}}, "extra"),
        ({"extra": json.loads("[" * 20 + "]" * 20)}, "extra"),
        ({"\ud800": 1}, None),
    ],
)
def test_unusable_json_parameters_are_a_400_naming_them(key, fields, param):
    assert_openai_400(post_json(key, {**GOOD, **fields}), param)


@pytest.mark.parametrize("depth", [1_000, 200_000])
def test_json_nested_very_deep_is_a_400(key, depth):
    assert_openai_400(post_json(key, "[" * depth + "]" * depth), None)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": "²"}, "n"),
        ({"size": "１０２４x１０２４"}, "size"),
        ({"prompt": "make it\x00red"}, "prompt"),
        ({"model": "lumen-xl\x00"}, "model"),
    ],
)
def test_unusable_multipart_fields_are_a_400_naming_them(key, fields, param):
    image = SimpleUploadedFile("cube.png", png_bytes(size=(96, 96)), content_type="image/png")

    response = Client().post(
        EDITS, {**GOOD, **fields, "image": image}, headers={"Authorization": f"Bearer {key}"}
    )

    assert_openai_400(response, param)


@pytest.mark.parametrize("fields", [{"n": "²"}, {"prompt": "a\x00cat"}, {"size": "１x１"}])
def test_the_playground_shows_the_reason_for_unusable_fields(settings, fields):
    settings.ARENA_PLAYGROUND_PER_HOUR = 0
    catalog_sync()

    response = Client().post("/playground/", {**GOOD, **fields}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert not ProviderCall.objects.exists()


@pytest.mark.parametrize(
    "presented", ["ia-\x00-secret", "ia-ab\x00cd-secret", "ia-" + "a" * 5000 + "-x", "ia--x"]
)
def test_a_key_that_is_not_a_keys_shape_is_a_401(key, presented):
    response = Client().get("/openai/v1/models", headers={"Authorization": f"Bearer {presented}"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
