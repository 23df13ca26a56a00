"""Partial images for streaming callers: relayed from OpenAI's stream, drawn by the built-in
models from their own render, none from a provider that cannot stream."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

from gateway import (
    ErrorKind,
    GatewayError,
    ImageRequest,
    OfferingSpec,
    Operation,
    PartialImages,
    default_catalog,
)
from gateway.local.stages import chosen_stages
from gateway.providers.local import LocalProvider
from tests.gateway.conftest import MakeGateway, catalog
from tests.gateway.fakes import IMAGE, FakeOpenAI, png

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
OFFERING = {
    "provider": "openai",
    "provider_model": "gpt-image-1",
    "price": "0.042",
    "token_prices": {"input_text": "5.00", "input_image": "10.00", "output_image": "40.00"},
}
STREAMING = catalog("paint", OFFERING | {"streams": True}, max_n=4)
WHOLE = catalog("paint", OFFERING)
PARTIALS = [png((10 * k, 0, 0)) for k in range(1, 4)]


def reliable(model: str) -> OfferingSpec:
    """A built-in model's offering without its simulated failures, which would fail a test
    about its partial images now and then."""
    offering = default_catalog().model(model).offerings[0]
    return replace(offering, options={**offering.options, "fail_rate": 0})


def watch(count: int) -> tuple[PartialImages, list[bytes]]:
    seen: list[bytes] = []
    return PartialImages(count, seen.append), seen


def test_openai_partial_images_are_relayed_in_order_before_the_final_image(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.streamed_images(PARTIALS))
    gateway = make_gateway(openai.env(), catalog=STREAMING)
    partials, seen = watch(2)

    result = gateway.generate(
        ImageRequest(model="paint", prompt="a lighthouse"), partials=partials
    )

    assert seen == PARTIALS[:2]
    assert result.images == [IMAGE]
    (sent,) = openai.seen(GENERATIONS)
    assert sent.get_json()["stream"] is True
    assert sent.get_json()["partial_images"] == 2
    # the completed event's usage prices the call: 10 text tokens in, 1056 image tokens out
    assert result.cost == Decimal("0.00005") + Decimal("0.04224")


def test_a_streamed_openai_call_reports_the_tokens_of_its_completed_event(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.streamed_images(PARTIALS))
    gateway = make_gateway(openai.env(), catalog=STREAMING)
    partials, _ = watch(1)

    result = gateway.generate(
        ImageRequest(model="paint", prompt="a lighthouse"), partials=partials
    )

    expected = {"input_text": 10, "input_image": 0, "output_text": 0, "output_image": 1056}
    assert result.attempts[0].tokens == expected
    assert result.tokens == expected


def test_an_openai_edit_streams_its_partials_over_multipart(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(EDITS, openai.streamed_images(PARTIALS))
    gateway = make_gateway(openai.env(), catalog=STREAMING)
    partials, seen = watch(1)

    result = gateway.edit(
        ImageRequest(model="paint", prompt="make it red", images=(png(),)), partials=partials
    )

    assert (seen, result.images) == (PARTIALS[:1], [IMAGE])
    (sent,) = openai.seen(EDITS)
    assert (sent.form["stream"], sent.form["partial_images"]) == ("true", "1")


def test_an_error_event_in_the_stream_fails_the_call_with_its_kind(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    refusal = {"message": "Your request was rejected.", "code": "moderation_blocked"}
    openai.on(GENERATIONS, openai.streamed_images(PARTIALS, error=refusal))
    gateway = make_gateway(openai.env(), catalog=STREAMING)
    partials, seen = watch(3)

    with pytest.raises(GatewayError) as failed:
        gateway.generate(ImageRequest(model="paint", prompt="a lighthouse"), partials=partials)

    assert failed.value.kind is ErrorKind.CONTENT_POLICY
    assert len(seen) == 3


def test_an_offering_that_does_not_stream_is_called_whole_and_shows_no_partials(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(GENERATIONS, openai.images())
    gateway = make_gateway(openai.env(), catalog=WHOLE)
    partials, seen = watch(2)

    result = gateway.generate(
        ImageRequest(model="paint", prompt="a lighthouse"), partials=partials
    )

    assert (seen, result.images) == ([], [IMAGE])
    assert "stream" not in openai.seen(GENERATIONS)[0].get_json()


@pytest.mark.parametrize("model", ["lumen-xl", "prism-2", "sketchbook", "palette", "daydream"])
def test_a_built_in_model_shows_stages_of_its_own_render_that_approach_the_final_image(
    model: str,
) -> None:
    offering = reliable(model)
    partials, seen = watch(3)
    request = ImageRequest(model=model, prompt="a red cube beside a blue vase", size="256x192")

    response = LocalProvider(latency_scale=0).call(
        offering, request, Operation.GENERATE, partials=partials
    )

    frames = [pixels(image) for image in [*seen, *response.images]]
    assert len(seen) == 3
    assert {frame.shape for frame in frames} == {(192, 256, 3)}
    # the backdrop alone is farther from the final picture than the last stage is
    distances = [np.abs(frame - frames[-1]).mean() for frame in frames[:-1]]
    assert distances[0] > distances[-1]


def test_a_built_in_edit_shows_its_source_then_the_change() -> None:
    offering = reliable("lumen-xl")
    source = png((120, 120, 120), (128, 128))
    partials, seen = watch(3)  # an edit has two stages: it sends what it has
    request = ImageRequest(model="lumen-xl", prompt="make it red", images=(source,), seed=1)

    response = LocalProvider(latency_scale=0).call(
        offering, request, Operation.EDIT, partials=partials
    )

    assert len(seen) == 2
    assert np.array_equal(pixels(seen[0]), pixels(source))
    assert pixels(seen[1])[..., 0].mean() > pixels(source)[..., 0].mean()
    assert len(response.images) == 1


def test_partials_are_spread_over_the_render_and_the_later_stages_come_first() -> None:
    assert chosen_stages(1, 3) == {2}
    assert chosen_stages(2, 3) == {1, 2}
    assert chosen_stages(3, 3) == {0, 1, 2}
    assert chosen_stages(3, 2) == {0, 1}
    assert chosen_stages(0, 3) == frozenset()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)
