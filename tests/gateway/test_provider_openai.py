"""The OpenAI-compatible adapter against a fake that speaks the OpenAI Images API."""

from __future__ import annotations

import time

import pytest

from gateway import ErrorKind, GatewayError, ImageRequest
from tests.gateway.conftest import SHORT_TIMEOUT, MakeGateway, catalog
from tests.gateway.fakes import GARBAGE, IMAGE, FakeOpenAI, b64, fails, fixture, png, reply

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
CATALOG = catalog(
    "paint",
    {
        "provider": "openai",
        "provider_model": "gpt-image-1",
        "price": "0.042",
        "quality_prices": {"high": "0.167"},
        "max_n_per_call": 2,
        "sizes": ["1024x1024", "1536x1024", "1024x1536"],
        "params": {"style": "unsupported"},
    },
    max_n=8,
)


def test_generation_posts_json_with_the_bearer_key_and_returns_the_image_bytes(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images())
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    result = gateway.generate(
        ImageRequest(model="paint", prompt="a red cube", size="1536x1024", quality="high")
    )

    assert result.images == [IMAGE]
    (sent,) = openai.seen(GENERATIONS)
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.get_json() == {
        "model": "gpt-image-1",
        "prompt": "a red cube",
        "n": 1,
        "size": "1536x1024",
        "quality": "high",
    }
    (attempt,) = result.attempts
    assert (attempt.provider, attempt.provider_model, attempt.ok) == (
        "openai",
        "gpt-image-1",
        True,
    )
    assert attempt.http_status == 200
    assert attempt.ttfb_ms is not None
    assert 0 < attempt.ttfb_ms <= attempt.total_ms


def test_response_format_is_never_sent_and_url_answers_are_downloaded(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images(as_url=True))
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    result = gateway.generate(
        ImageRequest(model="paint", prompt="a red cube", response_format="b64_json")
    )

    assert result.images == [IMAGE]
    assert "response_format" not in openai.seen(GENERATIONS)[0].get_json()
    assert len(openai.seen("/files/.*", "GET")) == 1


def test_size_goes_to_the_nearest_size_the_model_takes_with_a_warning(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images())
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="paint", prompt="a dune", size="1344x768"))

    assert openai.seen(GENERATIONS)[0].get_json()["size"] == "1536x1024"
    assert "Size 1344x768 was sent as the nearest size the model takes, 1536x1024." in (
        result.warnings
    )


def test_style_the_model_lacks_is_dropped_with_a_warning(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images())
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="paint", prompt="a cube", style="vivid"))

    assert "style" not in openai.seen(GENERATIONS)[0].get_json()
    assert result.warnings == ("paint@openai does not support style; it was ignored.",)
    assert result.attempts[0].warnings == result.warnings


def test_edit_sends_multipart_image_array_and_mask(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(EDITS, openai.images())
    gateway = make_gateway(openai.env(), catalog=CATALOG)
    sources = (png((0, 0, 255)), png((0, 255, 0)))
    mask = png((0, 0, 0))

    result = gateway.edit(
        ImageRequest(model="paint", prompt="make it red", images=sources, mask=mask)
    )

    assert result.images == [IMAGE]
    (sent,) = openai.seen(EDITS)
    assert sent.headers["Authorization"] == "Bearer sk-test"
    (uploads,) = openai.uploads
    assert uploads == {
        "image[]": [(sources[0], "image/png"), (sources[1], "image/png")],
        "mask": [(mask, "image/png")],
    }
    assert (sent.form["model"], sent.form["prompt"], sent.form["n"]) == (
        "gpt-image-1",
        "make it red",
        "1",
    )


def test_more_images_than_one_request_makes_are_asked_for_in_parallel(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images())
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="paint", prompt="cubes", n=5))

    assert len(result.images) == 5
    assert sorted(r.get_json()["n"] for r in openai.seen(GENERATIONS)) == [1, 2, 2]
    assert sorted(a.images for a in result.attempts) == [1, 2, 2]


@pytest.mark.parametrize(
    ("status", "name", "kind"),
    [
        (400, "openai/error_content_policy", ErrorKind.CONTENT_POLICY),
        (400, "openai/error_invalid_request", ErrorKind.INVALID_REQUEST),
        (401, "openai/error_auth", ErrorKind.AUTH),
        (500, "openai/error_server", ErrorKind.SERVER_ERROR),
    ],
)
def test_error_answers_keep_the_provider_message_and_kind(
    openai: FakeOpenAI, make_gateway: MakeGateway, status: int, name: str, kind: ErrorKind
) -> None:
    openai.on(GENERATIONS, fails(name, status))
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="paint", prompt="a cube"))

    error = caught.value
    assert (error.kind, error.http_status) == (kind, status)
    assert error.message.startswith(f"OpenAI HTTP {status}: {fixture(name)['error']['message']}")
    (attempt,) = error.attempts
    assert (attempt.ok, attempt.error_kind, attempt.cost) == (False, kind, 0)


def test_rate_limit_carries_retry_after(openai: FakeOpenAI, make_gateway: MakeGateway) -> None:
    openai.on(GENERATIONS, fails("openai/error_rate_limit", 429, {"Retry-After": "7"}))
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="paint", prompt="a cube"))

    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RATE_LIMITED, 7.0)


def test_a_slow_answer_times_out_at_the_configured_budget(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.hang)
    gateway = make_gateway(openai.env(), catalog=CATALOG, timeout=SHORT_TIMEOUT)

    started = time.perf_counter()
    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="paint", prompt="a cube"))
    waited_ms = (time.perf_counter() - started) * 1000

    assert caught.value.kind is ErrorKind.TIMEOUT
    (attempt,) = caught.value.attempts
    # The request waited its whole budget; the attempt's own budget is what was left of it
    # once routing had chosen the offering, so it may start a few milliseconds later.
    assert waited_ms >= SHORT_TIMEOUT * 1000
    assert attempt.total_ms <= waited_ms < SHORT_TIMEOUT * 1000 + 500


def test_base64_that_is_not_an_image_is_a_bad_response(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, lambda request: reply({"data": [{"b64_json": b64(GARBAGE)}]}))
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="paint", prompt="a cube"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert "not an image" in caught.value.message


def test_a_body_that_is_not_json_is_a_bad_response(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.garbage)
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="paint", prompt="a cube"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE


def test_an_answer_without_images_is_empty(openai: FakeOpenAI, make_gateway: MakeGateway) -> None:
    openai.on(GENERATIONS, lambda request: reply({"created": 1, "data": []}))
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="paint", prompt="a cube"))

    assert caught.value.kind is ErrorKind.EMPTY


def test_a_seed_is_not_sent_and_the_attempt_says_so(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images())
    gateway = make_gateway(openai.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="paint", prompt="x", seed=7))

    assert "seed" not in openai.seen(GENERATIONS)[0].get_json()
    assert result.attempts[0].warnings == ("paint@openai does not support seed; it was ignored.",)
