"""Out of credit is not a rate limit: its own kind, a fallback, and a long rest of every
offering of the provider until an operator says the account was topped up."""

from __future__ import annotations

import random

import pytest

from gateway import (
    Catalog,
    ErrorKind,
    Gateway,
    GatewayError,
    ImageRequest,
    MemoryWindow,
    Router,
)
from gateway.errors import ProviderError
from gateway.routing import RoutingPolicy
from tests.gateway.conftest import Clock, MakeGateway, Scripted, catalog, error
from tests.gateway.fakes import FakeFal, FakeGemini, FakeOpenAI, FakeReplicate, fails

GEMINI = "gemini-3.1-flash-lite-image"
MODEL = {"name": "M", "organization": "Tests", "operations": ["generate"]}
TWO_MODELS = Catalog.from_dict(
    {
        "models": {
            "m": MODEL
            | {
                "offerings": [
                    {"provider": "a", "price": "0.01"},
                    {"provider": "b", "price": "0.02"},
                ]
            },
            "other": MODEL | {"offerings": [{"provider": "a", "price": "0.01"}]},
        }
    }
)


def out_of_credit() -> ProviderError:
    return error(ErrorKind.QUOTA_EXHAUSTED, 429)


def test_openais_insufficient_quota_is_out_of_credit_not_a_rate_limit(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", fails("openai/error_insufficient_quota", 429))
    gateway = make_gateway(
        openai.env(), catalog=catalog("m", {"provider": "openai", "price": "0.04"})
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.QUOTA_EXHAUSTED
    assert "exceeded your current quota" in caught.value.message


def test_fals_exhausted_balance_is_out_of_credit(fal: FakeFal, make_gateway: MakeGateway) -> None:
    fal.on("/fal-ai/flux-pro/v1.1", fails("fal/error_exhausted_balance", 403))
    gateway = make_gateway(
        fal.env(),
        catalog=catalog(
            "m", {"provider": "fal", "provider_model": "fal-ai/flux-pro/v1.1", "price": "0.04"}
        ),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.QUOTA_EXHAUSTED


def test_replicates_payment_required_is_out_of_credit(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    model = "black-forest-labs/flux-1.1-pro"
    replicate.on(
        f"/v1/models/{model}/predictions", fails("replicate/error_insufficient_credit", 402)
    )
    gateway = make_gateway(
        replicate.env(),
        catalog=catalog("m", {"provider": "replicate", "provider_model": model, "price": "0.04"}),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.QUOTA_EXHAUSTED
    assert "insufficient credit" in caught.value.message


def build(clock: Clock, a: Scripted, b: Scripted | None = None) -> Gateway:
    router = Router(
        MemoryWindow(),
        policy=RoutingPolicy(exploration=0, quota_rest_seconds=3600),
        rng=random.Random(0),
        clock=clock,
    )
    providers = {p.name: p for p in (a, b or Scripted("b"))}
    return Gateway(catalog=TWO_MODELS, providers=providers, router=router)


def test_a_provider_out_of_credit_falls_back_and_rests_all_its_offerings_for_long() -> None:
    clock = Clock()
    a = Scripted("a", out_of_credit())
    gateway = build(clock, a)

    result = gateway.generate(ImageRequest(model="m", prompt="x"))
    assert result.provider == "b"

    # Well past a rate limit's rest, and for another model of the same account, "a" is not
    # called again: one call more would only fail again.
    clock.advance(600)
    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="other", prompt="x"))
    assert caught.value.kind is ErrorKind.QUOTA_EXHAUSTED
    assert caught.value.http_status == 503
    assert "out of credit" in caught.value.message
    assert caught.value.retry_after == pytest.approx(3000)
    assert len(a.calls) == 1

    clock.advance(3000)
    assert gateway.generate(ImageRequest(model="other", prompt="x")).provider == "a"


def test_an_operator_ends_the_rest_once_the_account_is_topped_up() -> None:
    clock = Clock()
    a = Scripted("a", out_of_credit())
    gateway = build(clock, a)
    gateway.generate(ImageRequest(model="m", prompt="x"))
    assert gateway.router.provider_rest("a") == pytest.approx(3600)

    gateway.router.release("a")

    assert gateway.router.provider_rest("a") is None
    assert gateway.generate(ImageRequest(model="other", prompt="x")).provider == "a"


def test_a_rate_limit_still_rests_only_briefly() -> None:
    clock = Clock()
    a = Scripted("a", error(ErrorKind.RATE_LIMITED, 429))
    gateway = build(clock, a)
    gateway.generate(ImageRequest(model="m", prompt="x"))

    clock.advance(31)

    assert gateway.generate(ImageRequest(model="m", prompt="x")).provider == "a"
    assert gateway.router.provider_rest("a") is None


def test_geminis_depleted_prepayment_is_out_of_credit_not_a_rate_limit(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(GEMINI), fails("gemini/error_prepay_depleted", 429))
    gateway = make_gateway(
        {"GEMINI_API_KEY": "gemini-test", "GEMINI_BASE_URL": gemini.url},
        catalog=catalog("m", {"provider": "gemini", "provider_model": GEMINI, "price": "0.03"}),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.QUOTA_EXHAUSTED
    assert "prepayment credits are depleted" in caught.value.message


def test_a_vertex_project_whose_billing_is_disabled_is_out_of_credit(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(GEMINI, "vertex"), fails("gemini/error_billing_disabled", 403))
    gateway = make_gateway(
        {"VERTEX_API_KEY": "vertex-test", "VERTEX_BASE_URL": gemini.url},
        catalog=catalog("m", {"provider": "vertex", "provider_model": GEMINI, "price": "0.03"}),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.QUOTA_EXHAUSTED


def test_geminis_resource_exhausted_quota_is_still_a_rate_limit(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    # Its words mention billing too ("check your plan and billing details"): a per-minute quota.
    gemini.on(gemini.path(GEMINI), fails("gemini/error_resource_exhausted", 429))
    gateway = make_gateway(
        {"GEMINI_API_KEY": "gemini-test", "GEMINI_BASE_URL": gemini.url},
        catalog=catalog("m", {"provider": "gemini", "provider_model": GEMINI, "price": "0.03"}),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert caught.value.kind is ErrorKind.RATE_LIMITED
