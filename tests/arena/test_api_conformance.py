"""The images API answers as OpenAI's does: what it refuses, how an edit's mask and size are
taken, and what a failure of the providers tells the official SDK (whether to retry, whose
fault it was). The SDK runs against the live test server; raw requests where it can't."""

import base64
import io
import json
import time

import openai
import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import gateway
from arena.api.models import ImageJob
from arena.api.params import ApiError, image_params
from arena.api.services import api_key_create
from arena.catalog.importing import MAX_PROMPT_CHARS
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from gateway.errors import ProviderError
from gateway.providers.local import LocalProvider
from tests.arena.helpers import local_catalog, use_local_gateway
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
EDITS = "/openai/v1/images/edits"
GOOD = {"model": "lumen-xl", "prompt": "a red ball", "size": "64x64"}


@pytest.fixture
def sdk(live_server):
    catalog_sync()
    return openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1", api_key=api_key_create(name="sdk")[1]
    )


def post_json(key, body):
    return Client().post(
        GENERATIONS,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def post_edit(key, fields):
    return Client().post(EDITS, fields, headers={"Authorization": f"Bearer {key}"})


def upload(data, name="source.png"):
    file = io.BytesIO(data)
    file.name = name
    return file


def mask_png(size, hole=True):
    """A mask as OpenAI's docs draw one: opaque, with a fully transparent square to edit."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    if hole:
        ImageDraw.Draw(mask).rectangle((8, 8, size[0] // 2, size[1] // 2), fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(row):
    return Image.open(io.BytesIO(base64.b64decode(row.b64_json)))


# --- What OpenAI refuses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": "1"}, "n"),
        ({"quality": "bogus"}, "quality"),
        ({"quality": "HD"}, "quality"),
        ({"style": "dramatic"}, "style"),
        ({"response_format": "gif"}, "response_format"),
        ({"size": "1024X1024"}, "size"),
        ({"size": "1024 x 1024"}, "size"),
        ({"size": "square"}, "size"),
    ],
)
def test_what_openai_refuses_the_sdk_gets_as_a_400_naming_it(sdk, fields, param):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(**{**GOOD, **fields})

    assert refused.value.body["param"] == param
    assert refused.value.body["type"] == "invalid_request_error"
    assert not ImageJob.objects.exists()


@pytest.mark.parametrize("quality", ["auto", "standard", "hd", "low", "medium", "high", "xhigh"])
def test_every_quality_openai_names_is_taken(key, quality):
    response = post_json(key, {**GOOD, "quality": quality, "style": "natural"})

    assert response.status_code == 200, response.content


def test_an_edits_n_is_form_text_and_taken_as_a_number(key):
    response = post_edit(
        key,
        {**GOOD, "n": "2", "response_format": "b64_json", "image": upload(png_bytes((9, 9, 9)))},
    )

    assert response.status_code == 200, response.content
    assert len(response.json()["data"]) == 2


VALUE = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()


@hypothesis_settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            name: VALUE | st.sampled_from(["1", "auto", "hd", "vivid", "url", "64x64"])
            for name in ("n", "quality", "style", "response_format", "size")
        },
    ),
    typed=st.booleans(),
)
def test_any_value_of_openais_parameters_is_taken_or_a_400_naming_it(key, fields, typed):
    refusal = None
    try:
        image_params({**GOOD, **fields}, edit=False, typed=typed)
    except ApiError as error:
        refusal = error
    assert refusal is None or (refusal.status, refusal.param in fields) == (400, True)


# --- Prompt length, per model -------------------------------------------------------------


def test_a_prompt_longer_than_the_models_cap_is_refused_naming_the_cap(key):
    response = post_json(key, {**GOOD, "prompt": "a red ball " * 400})  # 4,400 characters

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "prompt"
    assert "4,000" in error["message"]
    assert "lumen-xl" in error["message"]
    assert not ImageJob.objects.exists()


def test_gpt_image_takes_prompts_up_to_32000_characters(key):
    long = post_json(key, {"model": "gpt-image-1", "prompt": "a red ball " * 2_000})
    too_long = post_json(key, {"model": "gpt-image-1-mini", "prompt": "x" * 32_001})

    # No OpenAI key here: the long prompt gets past the checks to the (unconfigured) providers.
    assert long.json()["error"]["code"] == "model_not_available"
    assert too_long.status_code == 400
    assert too_long.json()["error"]["param"] == "prompt"
    assert "32,000" in too_long.json()["error"]["message"]


def test_the_catalog_says_each_models_prompt_cap_and_all_take_a_competition_prompt():
    catalog = gateway.default_catalog()

    assert catalog.model("gpt-image-1").max_prompt_chars == 32_000
    assert catalog.model("gpt-image-1-mini").max_prompt_chars == 32_000
    assert catalog.model("lumen-xl").max_prompt_chars == 4_000
    assert min(spec.max_prompt_chars for spec in catalog) >= MAX_PROMPT_CHARS


# --- An edit's mask and size --------------------------------------------------------------


def test_a_mask_of_another_size_than_the_image_is_refused_in_openais_words(sdk):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.edit(
            model="lumen-xl",
            image=("cube.png", png_bytes(size=(128, 128))),
            mask=("mask.png", mask_png((96, 96))),
            prompt="Add a moon",
        )

    error = refused.value.body
    assert error["param"] == "mask"
    assert error["code"] == "invalid_mask_image_format"
    assert error["message"].startswith("Invalid mask image format - mask size does not match")
    assert "96x96" in error["message"]
    assert "128x128" in error["message"]
    assert not ImageJob.objects.exists()


@pytest.mark.parametrize(
    "mask",
    [png_bytes(size=(128, 128)), mask_png((128, 128), hole=False)],
    ids=["no alpha channel", "nothing transparent"],
)
def test_a_mask_without_transparent_pixels_is_refused(key, mask):
    response = post_edit(
        key,
        {
            **GOOD,
            "image": upload(png_bytes(size=(128, 128))),
            "mask": upload(mask, "mask.png"),
        },
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "mask"
    assert "alpha" in error["message"]
    assert not ProviderCall.objects.exists()


def test_a_mask_of_the_images_size_with_a_transparent_area_is_taken(sdk):
    edited = sdk.images.edit(
        model="lumen-xl",
        image=("cube.png", png_bytes(size=(128, 128))),
        mask=("mask.png", mask_png((128, 128))),
        prompt="Add a moon",
        response_format="b64_json",
    )

    assert decoded(edited.data[0]).size == (128, 128)


def test_an_edit_is_made_at_the_size_asked_for(sdk):
    edited = sdk.images.edit(
        model="lumen-xl",
        image=("cube.png", png_bytes(size=(128, 96))),
        prompt="Make it black and white",
        size="256x192",
        response_format="b64_json",
    )

    assert decoded(edited.data[0]).size == (256, 192)


# --- What the providers' failures tell the caller ------------------------------------------


def test_a_model_with_no_provider_key_is_asked_once_the_sdk_told_not_to_retry(sdk):
    with pytest.raises(openai.InternalServerError) as failed:
        sdk.images.generate(model="flux-1.1-pro", prompt="A blue cube")

    assert failed.value.status_code == 503
    assert failed.value.response.headers["x-should-retry"] == "false"
    assert failed.value.body["code"] == "model_not_available"
    assert ImageJob.objects.count() == 1  # one request reached the server: no retries


def rest_every_offering(model_id, seconds):
    local = use_local_gateway()
    for offering in local.catalog.model(model_id).offerings:
        local.router.window.cool_down(offering.key, time.time() + seconds)


def test_when_every_provider_rests_the_answer_is_a_503_saying_when_to_retry(key):
    rest_every_offering("lumen-xl", 30)

    response = post_json(key, GOOD)

    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error["type"]) == ("providers_unavailable", "server_error")
    assert 25 <= int(response["Retry-After"]) <= 30
    assert "x-should-retry" not in response


def test_the_sdk_does_not_take_every_provider_resting_for_its_own_rate_limit(sdk):
    rest_every_offering("lumen-xl", 30)

    with pytest.raises(openai.APIStatusError) as failed:
        sdk.with_options(max_retries=0).images.generate(**GOOD)

    assert not isinstance(failed.value, openai.RateLimitError)
    assert isinstance(failed.value, openai.InternalServerError)


class Moderated(LocalProvider):
    """The built-in models, except that every prompt about a storm is refused by policy."""

    def call(self, offering, request, operation, *, deadline=None):
        if "storm" in request.prompt:
            raise ProviderError(
                gateway.ErrorKind.CONTENT_POLICY, "Refused by the safety system: violence."
            )
        return super().call(offering, request, operation, deadline=deadline)


def test_a_providers_safety_refusal_is_openais_moderation_blocked(sdk):
    gateway.set_default_gateway(
        gateway.Gateway(
            catalog=local_catalog(),
            providers={"local": Moderated(latency_scale=0)},
            router=gateway.Router(gateway.MemoryWindow()),
        )
    )

    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(model="lumen-xl", prompt="A violent storm", size="64x64")

    error = refused.value.body
    assert (error["code"], error["type"]) == ("moderation_blocked", "image_generation_user_error")
    assert "Refused by the safety system: violence." in error["message"]
    assert "did not bill" in error["message"]
