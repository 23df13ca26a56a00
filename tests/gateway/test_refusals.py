"""A provider's refusal is one error kind, with its reason and what it billed, and is never
routed around to another provider; what a provider tells about its images is kept."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway import ErrorKind, Gateway, GatewayError, ImageRequest
from tests.gateway.conftest import MakeGateway, catalog
from tests.gateway.fakes import (
    FakeFal,
    FakeGemini,
    FakeOpenAI,
    FakeReplicate,
    fails,
    fixture,
    reply,
)

FLUX = "fal-ai/flux-pro/v1.1"
GEMINI = "gemini-3.1-flash-lite-image"
# A model sold by every remote provider, so a refusal has somewhere it could wrongly go.
EVERYWHERE = catalog(
    "m",
    {"provider": "openai", "provider_model": "gpt-image-1", "price": "0.04"},
    {"provider": "gemini", "provider_model": GEMINI, "price": "0.03"},
    {"provider": "fal", "provider_model": FLUX, "price": "0.05"},
    {"provider": "replicate", "provider_model": "black-forest-labs/flux-1.1-pro", "price": "0.06"},
)


@pytest.fixture
def everywhere(
    openai: FakeOpenAI,
    gemini: FakeGemini,
    fal: FakeFal,
    replicate: FakeReplicate,
    make_gateway: MakeGateway,
) -> Gateway:
    openai.on("/v1/images/generations", openai.images())
    gemini.on(gemini.path(GEMINI), gemini.image(GEMINI))
    fal.model(FLUX)
    replicate.model("black-forest-labs/flux-1.1-pro")
    env = {**openai.env(), **gemini.env(), **fal.env(), **replicate.env()}
    env.pop("VERTEX_API_KEY")
    return make_gateway(env, catalog=EVERYWHERE)


def called(openai: FakeOpenAI, gemini: FakeGemini, fal: FakeFal, replicate: FakeReplicate) -> int:
    return sum(
        len(seen)
        for seen in (
            openai.seen("/v1/images/generations"),
            gemini.seen(gemini.path(GEMINI)),
            fal.seen(f"/{FLUX}", "POST"),
            replicate.seen("/v1/models/black-forest-labs/flux-1.1-pro/predictions"),
        )
    )


def test_openai_refusal_is_content_policy_unbilled_and_not_routed_around(
    everywhere: Gateway,
    openai: FakeOpenAI,
    gemini: FakeGemini,
    fal: FakeFal,
    replicate: FakeReplicate,
) -> None:
    openai.once("/v1/images/generations", fails("openai/error_content_policy", 400))

    with pytest.raises(GatewayError) as caught:
        everywhere.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.CONTENT_POLICY
    assert "rejected as a result of our safety system" in caught.value.message
    assert caught.value.message.endswith("The provider did not bill for it.")
    assert caught.value.cost == 0
    assert called(openai, gemini, fal, replicate) == 1


def test_gemini_withholding_the_image_is_billed_its_tokens_and_not_routed_around(
    gemini: FakeGemini, fal: FakeFal, replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(GEMINI), lambda request: reply(fixture("gemini/image_safety")))
    fal.model(f"fal-ai/{GEMINI}")
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}

    with pytest.raises(GatewayError) as caught:
        make_gateway({**env, **fal.env(), **replicate.env()}).generate(
            ImageRequest(model=GEMINI, prompt="x")
        )

    assert caught.value.kind is ErrorKind.CONTENT_POLICY
    assert "finishReason IMAGE_SAFETY" in caught.value.message
    assert caught.value.cost == 12 * Decimal("0.30") / 1_000_000
    assert "The provider billed $" in caught.value.message
    assert fal.submitted(f"fal-ai/{GEMINI}") == []


def test_fal_withholding_every_image_is_billed_and_not_routed_around(
    fal: FakeFal, replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    fal.model(FLUX, nsfw=(True, True))
    replicate.model("black-forest-labs/flux-1.1-pro")
    gateway = make_gateway({**fal.env(), **replicate.env()})

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x", n=2))

    assert caught.value.kind is ErrorKind.CONTENT_POLICY
    assert "has_nsfw_concepts" in caught.value.message
    # flux-1.1-pro on fal: $0.04 per megapixel, two 1024x1024 images
    assert caught.value.cost == Decimal("0.08")
    assert replicate.created("black-forest-labs/flux-1.1-pro") == []


def test_fal_withholding_some_images_returns_the_rest_with_its_flags_and_pays_for_all(
    fal: FakeFal, replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    fal.model(FLUX, nsfw=(True,))
    replicate.model("black-forest-labs/flux-1.1-pro")
    gateway = make_gateway({**fal.env(), **replicate.env()})

    result = gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x", n=2))

    assert len(result.images) == 1
    assert result.safety == (
        "fal's safety checker found NSFW concepts in image 1 of 2 and withheld it.",
    )
    assert result.cost == Decimal("0.08")
    assert replicate.created("black-forest-labs/flux-1.1-pro") == []


def test_a_refusal_in_one_of_parallel_calls_returns_the_images_that_passed_and_pays_for_both(
    gemini: FakeGemini, fal: FakeFal, make_gateway: MakeGateway
) -> None:
    # Gemini makes one image a call: n=2 is two calls, of which one is refused.
    gemini.once(gemini.path(GEMINI), lambda request: reply(fixture("gemini/image_safety")))
    gemini.on(gemini.path(GEMINI), gemini.image(GEMINI))
    fal.model(f"fal-ai/{GEMINI}")
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}
    gateway = make_gateway({**env, **fal.env()})

    result = gateway.generate(ImageRequest(model=GEMINI, prompt="x", n=2))

    assert len(result.images) == 1
    made, refused = sorted(result.attempts, key=lambda attempt: not attempt.ok)
    assert (made.ok, refused.error_kind) == (True, ErrorKind.CONTENT_POLICY)
    assert refused.cost == 12 * Decimal("0.30") / 1_000_000  # the refused prompt's tokens
    assert result.cost == made.cost + refused.cost
    (flag,) = result.safety
    assert "finishReason IMAGE_SAFETY" in flag
    assert "Only 1 of the 2 images asked for passed the provider's safety checks." in (
        result.warnings
    )
    assert fal.submitted(f"fal-ai/{GEMINI}") == []


def test_replicate_refusal_is_content_policy_and_unbilled(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model("google/imagen-4", statuses=("starting", "failed_nsfw"))

    with pytest.raises(GatewayError) as caught:
        make_gateway(replicate.env()).generate(ImageRequest(model="imagen-4", prompt="x"))

    assert caught.value.kind is ErrorKind.CONTENT_POLICY
    assert "NSFW content detected" in caught.value.message
    assert caught.value.message.endswith("The provider did not bill for it.")
    assert caught.value.cost == 0


def test_the_seed_fal_used_and_the_prompt_openai_drew_are_kept(
    fal: FakeFal, openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    fal.model(FLUX)
    openai.on("/v1/images/generations", openai.images())
    gateway = make_gateway({**fal.env(), **openai.env()})

    flux = gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="a cube"))
    gpt = gateway.generate(ImageRequest(model="gpt-image-1", prompt="a red cube", n=2))

    assert flux.seeds == (42,)  # the fixture's
    assert gpt.revised_prompts == ("a red cube", "a red cube")
