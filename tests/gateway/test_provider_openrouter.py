"""The OpenRouter adapter against a fake of its chat completions with image output."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from gateway import ErrorKind, GatewayError, ImageRequest, Operation, default_catalog
from gateway.errors import ProviderError
from gateway.http import Deadline
from gateway.providers import OpenRouterProvider
from gateway.providers.base import ProviderResponse
from tests.gateway.conftest import MakeGateway, catalog
from tests.gateway.fakes import IMAGE, FakeOpenRouter, b64, fails, png

MODEL = "google/gemini-3.1-flash-lite-image"
PATH = FakeOpenRouter.PATH
CATALOG = catalog(
    "banana",
    {
        "provider": "openrouter",
        "provider_model": MODEL,
        "price": "0.0336",
        "image_sizes": ["1K", "2K"],
    },
    max_n=4,
)


def test_generation_asks_for_image_output_and_reads_the_data_url(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer())
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="a red cube", size="2048x1152"))

    assert result.images == [IMAGE]
    (sent,) = openrouter.seen(PATH)
    assert sent.headers["Authorization"] == "Bearer sk-or-test"
    assert sent.get_json() == {
        "model": MODEL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "a red cube"}]}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
    }
    (attempt,) = result.attempts
    assert (attempt.provider, attempt.provider_request_id) == ("openrouter", "gen-1")


def test_the_cost_is_what_openrouter_reports_it_charged(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer())
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert result.attempts[0].cost == Decimal("0.0393")  # usage.cost, not the catalog's 0.0336


def test_without_usage_cost_the_catalog_price_applies(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    def no_usage(request: Request) -> Response:
        response = openrouter.answer()(request)
        body = json.loads(response.get_data())
        del body["usage"]["cost"]
        response.set_data(json.dumps(body))
        return response

    openrouter.on(PATH, no_usage)
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert result.attempts[0].cost == Decimal("0.0336")


def test_an_edit_sends_the_sources_as_data_urls_after_the_text(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer())
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)
    source = png((0, 0, 255))

    gateway.edit(ImageRequest(model="banana", prompt="make it red", images=(source,)))

    content = openrouter.seen(PATH)[0].get_json()["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "make it red"}
    assert content[1]["type"] == "image_url"
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.partition(",")[2]) == source


def test_n_images_are_n_parallel_calls(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer())
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x", n=3))

    assert len(result.images) == 3
    assert len(openrouter.seen(PATH)) == 3


@pytest.mark.parametrize(
    ("status", "fixture_name", "kind"),
    [
        (401, "openrouter/error_auth", ErrorKind.AUTH),
        (402, "openrouter/error_credits", ErrorKind.QUOTA_EXHAUSTED),
        (403, "openrouter/error_moderation", ErrorKind.CONTENT_POLICY),
        (429, "openrouter/error_rate_limit", ErrorKind.RATE_LIMITED),
        (502, "openrouter/error_model_down", ErrorKind.SERVER_ERROR),
    ],
)
def test_each_documented_error_status_is_its_kind(
    openrouter: FakeOpenRouter,
    make_gateway: MakeGateway,
    status: int,
    fixture_name: str,
    kind: ErrorKind,
) -> None:
    openrouter.on(PATH, fails(fixture_name, status, model=MODEL))
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert raised.value.kind is kind
    assert raised.value.attempts[0].http_status == status


def test_out_of_credit_rests_the_provider_until_topped_up(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, fails("openrouter/error_credits", 402))
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)
    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert raised.value.kind is ErrorKind.QUOTA_EXHAUSTED
    assert len(openrouter.seen(PATH)) == 1  # the second request called no one
    assert gateway.router.provider_rest("openrouter")


def test_a_moderation_refusal_says_why_and_is_not_routed_around(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, fails("openrouter/error_moderation", 403, model=MODEL))
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x", n=1))

    assert "violence/graphic" in raised.value.message
    assert not raised.value.retryable


def test_an_image_withheld_for_safety_is_a_refusal_with_its_billed_cost(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer("openrouter/no_image_safety"))
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert raised.value.kind is ErrorKind.CONTENT_POLICY
    assert "IMAGE_SAFETY" in raised.value.message
    assert raised.value.cost == Decimal("0.0000036")


def test_text_without_an_image_is_an_empty_answer_worth_a_retry(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer("openrouter/no_image_text"))
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert raised.value.kind is ErrorKind.EMPTY
    assert "describe the scene" in raised.value.message


def test_an_error_after_the_model_started_comes_in_a_200_body(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer("openrouter/error_in_body"))
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert raised.value.kind is ErrorKind.SERVER_ERROR
    assert raised.value.attempts[0].provider_request_id == "gen-1"


def test_provider_options_go_under_its_own_id_or_as_its_routing_preferences(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(PATH, openrouter.answer())
    gateway = make_gateway(openrouter.env(), catalog=CATALOG)
    extra = {"provider": {"order": ["google-vertex"]}, "openrouter": {"user": "u1"}, "x": 1}

    result = gateway.generate(ImageRequest(model="banana", prompt="x", extra=extra))

    sent = openrouter.seen(PATH)[0].get_json()
    assert (sent["provider"], sent["user"], "x" in sent) == (
        {"order": ["google-vertex"]},
        "u1",
        False,
    )
    assert any("'x'" in warning for warning in result.warnings)


def test_the_catalog_offers_the_gemini_image_model_through_openrouter() -> None:
    catalog = default_catalog()
    (offering,) = [
        o
        for o in catalog.model("gemini-3.1-flash-lite-image").offerings
        if o.provider == "openrouter"
    ]
    assert offering.provider_model == MODEL
    assert offering.pricing_note
    assert catalog.provider_name("openrouter") == "OpenRouter"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
IMAGES = st.lists(
    st.fixed_dictionaries(
        {"image_url": st.fixed_dictionaries({"url": JSON | st.just(f"data:,{b64(IMAGE)}")})}
    )
    | JSON,
    max_size=2,
)
ANSWER = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON,
        "error": JSON,
        "usage": st.fixed_dictionaries({}, optional={"cost": JSON}) | JSON,
        "choices": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "finish_reason": JSON,
                    "message": st.fixed_dictionaries(
                        {}, optional={"images": IMAGES, "content": JSON}
                    )
                    | JSON,
                },
            )
            | JSON,
            max_size=2,
        )
        | JSON,
    },
)


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from([200, 400, 402, 403, 429, 502]), answer=ANSWER | JSON)
def test_any_answer_is_images_or_a_provider_error_with_a_kind(status: int, answer: object) -> None:
    """Whatever OpenRouter answers (and a 200 from any image URL it names), the call makes
    images or fails with a kind: never another exception."""
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=answer))
    with httpx.Client(transport=transport) as client:
        provider = OpenRouterProvider(
            name="openrouter", api_key="k", base_url="http://openrouter.test/api/v1", client=client
        )
        offering = CATALOG.model("banana").offerings[0]
        outcome: ProviderResponse | ProviderError
        try:
            outcome = provider.call(
                offering,
                ImageRequest(model="banana", prompt="x"),
                Operation.GENERATE,
                deadline=Deadline(2.0),
            )
        except ProviderError as exc:
            outcome = exc
    if isinstance(outcome, ProviderError):
        assert isinstance(outcome.kind, ErrorKind)
        assert outcome.billed.is_finite()
    else:
        assert outcome.images
        assert outcome.cost is None or outcome.cost.is_finite()
