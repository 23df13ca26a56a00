"""Provider options through the images API: under a provider's id they go to that provider
only (the OpenAI SDK's `extra_body={"fal": {...}}`), and must be an object."""

import io
import json

import pytest
from django.test import Client

import gateway
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
EDITS = "/openai/v1/images/edits"
BODY = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}


@pytest.fixture
def requests_seen(monkeypatch):
    seen = []
    for name in ("generate", "edit"):
        real = getattr(gateway, name)
        monkeypatch.setattr(
            gateway,
            name,
            lambda request, real=real, **options: seen.append(request) or real(request, **options),
        )
    return seen


def post_json(key, body):
    return Client().post(
        GENERATIONS,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_options_under_a_providers_id_reach_the_gateway_scoped(key, requests_seen):
    options = {"fal": {"enable_safety_checker": False}, "openai": {"moderation": "low"}}

    response = post_json(key, {**BODY, **options})

    assert response.status_code == 200
    assert requests_seen[0].extra == options


def test_an_edit_sends_a_providers_options_as_json_text(key, requests_seen):
    source = io.BytesIO(png_bytes(size=(100, 100)))
    source.name = "source.png"

    response = Client().post(
        EDITS,
        {
            "model": "lumen-xl",
            "prompt": "Make it sepia",
            "image": source,
            "replicate": json.dumps({"safety_filter_level": "block_only_high"}),
        },
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200
    assert requests_seen[0].extra == {"replicate": {"safety_filter_level": "block_only_high"}}


@pytest.mark.parametrize("options", ["low", ["moderation"], 3, "{not json"])
def test_a_providers_options_that_are_not_an_object_are_refused(key, requests_seen, options):
    response = post_json(key, {**BODY, "openai": options})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "openai"
    assert error["message"].startswith("openai must be an object of openai's own options")
    assert requests_seen == []


def test_an_option_no_provider_of_the_model_declares_is_reported_not_sent(key):
    response = post_json(key, {**BODY, "enable_safety_checker": False})

    assert response.status_code == 200
    assert (
        "local does not take the option 'enable_safety_checker'" in (response["X-Arena-Warnings"])
    )
