"""Each attempt keeps the provider's own id of the call, which its support asks for."""

from __future__ import annotations

import pytest

from gateway import GatewayError, ImageRequest
from tests.gateway.conftest import MakeGateway, catalog
from tests.gateway.fakes import FakeGemini, FakeOpenAI, fails

MODEL = "gemini-3.1-flash-lite-image"


def test_openais_x_request_id_is_kept(openai: FakeOpenAI, make_gateway: MakeGateway) -> None:
    openai.on("/v1/images/generations", openai.images())
    gateway = make_gateway(
        openai.env(), catalog=catalog("m", {"provider": "openai", "price": "0.04"})
    )

    (attempt,) = gateway.generate(ImageRequest(model="m", prompt="x")).attempts

    assert attempt.provider_request_id.startswith("req_")


def test_a_failed_call_keeps_the_id_its_error_answer_gave(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(
        "/v1/images/generations",
        fails("openai/error_invalid_request", 400, {"x-request-id": "req_bad"}),
    )
    gateway = make_gateway(
        openai.env(), catalog=catalog("m", {"provider": "openai", "price": "0.04"})
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.attempts[0].provider_request_id == "req_bad"


def test_geminis_response_id_is_kept(gemini: FakeGemini, make_gateway: MakeGateway) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(
        {"GEMINI_API_KEY": "g", "GEMINI_BASE_URL": gemini.url},
        catalog=catalog("m", {"provider": "gemini", "provider_model": MODEL, "price": "0.04"}),
    )

    (attempt,) = gateway.generate(ImageRequest(model="m", prompt="x")).attempts

    assert attempt.provider_request_id == "resp-1"
