"""Provider options (a request's `extra`) reach the provider they are for, and only it."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gateway import ImageRequest, OfferingSpec
from gateway.normalize import prepare
from gateway.providers import PROVIDER_IDS
from tests.gateway.conftest import MakeGateway
from tests.gateway.fakes import IMAGE, FakeFal, FakeGemini, FakeOpenAI, FakeReplicate

GEMINI = "gemini-3.1-flash-lite-image"
# One request's options for every provider: each takes its own and none of the others'.
SCOPED = {
    "openai": {"moderation": "low"},
    "gemini": {"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT"}]},
    "fal": {"enable_safety_checker": False},
    "replicate": {"safety_filter_level": "block_only_high"},
}


def test_options_under_a_providers_id_go_to_that_provider_only(
    openai: FakeOpenAI, fal: FakeFal, replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())
    fal.model("fal-ai/flux-pro/v1.1")
    replicate.model("black-forest-labs/flux-1.1-pro")
    gateway = make_gateway({**openai.env(), **fal.env(), **replicate.env()})

    gateway.generate(ImageRequest(model="gpt-image-1", prompt="x", extra=SCOPED))
    gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x", extra=SCOPED))
    sent_openai = openai.seen("/v1/images/generations")[0].get_json()
    (sent_fal,) = fal.submitted("fal-ai/flux-pro/v1.1")

    assert sent_openai["moderation"] == "low"
    assert sent_fal["enable_safety_checker"] is False
    for body in (sent_openai, sent_fal):
        assert not {"openai", "gemini", "fal", "replicate"} & body.keys()
        assert "safety_filter_level" not in body
        assert "safetySettings" not in body
    assert "moderation" not in sent_fal
    assert "enable_safety_checker" not in sent_openai


def test_replicate_and_gemini_take_their_own_scoped_options(
    gemini: FakeGemini, replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(GEMINI), gemini.image(GEMINI))
    replicate.model("google/imagen-4")
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}
    gateway = make_gateway({**env, **replicate.env()})

    gateway.generate(ImageRequest(model=GEMINI, prompt="x", extra=SCOPED))
    gateway.generate(ImageRequest(model="imagen-4", prompt="x", extra=SCOPED))

    sent_gemini = gemini.seen(gemini.path(GEMINI))[0].get_json()
    (sent_replicate,) = replicate.created("google/imagen-4")
    assert sent_gemini["safetySettings"] == SCOPED["gemini"]["safetySettings"]
    assert "moderation" not in sent_gemini
    assert "fal" not in sent_gemini
    assert sent_replicate["input"]["safety_filter_level"] == "block_only_high"
    assert "enable_safety_checker" not in sent_replicate["input"]


def test_a_providers_declared_options_may_be_given_at_the_top_level(
    openai: FakeOpenAI, fal: FakeFal, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())
    fal.model("fal-ai/flux-pro/v1.1")
    gateway = make_gateway({**openai.env(), **fal.env()})
    extra = {"moderation": "low", "enable_safety_checker": False}

    openai_result = gateway.generate(ImageRequest(model="gpt-image-1", prompt="x", extra=extra))
    gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x", extra=extra))

    sent_openai = openai.seen("/v1/images/generations")[0].get_json()
    (sent_fal,) = fal.submitted("fal-ai/flux-pro/v1.1")
    assert sent_openai["moderation"] == "low"
    assert "enable_safety_checker" not in sent_openai
    assert sent_fal["enable_safety_checker"] is False
    assert "moderation" not in sent_fal
    assert any("enable_safety_checker" in warning for warning in openai_result.warnings)


def test_an_undeclared_top_level_option_is_not_sent_and_the_caller_is_told(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())
    gateway = make_gateway(openai.env())

    result = gateway.generate(
        ImageRequest(model="gpt-image-1", prompt="x", extra={"num_inference_steps": 4})
    )

    assert "num_inference_steps" not in openai.seen("/v1/images/generations")[0].get_json()
    assert result.warnings == (
        "openai does not take the option 'num_inference_steps' at the top level; it was not "
        'sent (put it under "openai" to send it to openai as given).',
    )


def test_gemini_generation_config_options_add_to_the_gateways_own(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(GEMINI), gemini.image(GEMINI))
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}
    extra = {"gemini": {"generationConfig": {"temperature": 0.5}}}

    make_gateway(env).generate(
        ImageRequest(model=GEMINI, prompt="x", size="1024x1024", extra=extra)
    )

    config = gemini.seen(gemini.path(GEMINI))[0].get_json()["generationConfig"]
    assert config["temperature"] == 0.5
    assert config["imageConfig"]["aspectRatio"] == "1:1"


def test_options_of_an_openai_edit_are_sent_as_json_not_python(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/edits", openai.images())
    gateway = make_gateway(openai.env())
    extra = {"openai": {"background": "transparent", "flags": {"keep": True}, "strict": False}}

    gateway.edit(ImageRequest(model="gpt-image-1", prompt="x", images=(IMAGE,), extra=extra))

    form = openai.seen("/v1/images/edits")[0].form
    assert form["background"] == "transparent"
    assert json.loads(form["flags"]) == {"keep": True}
    assert form["strict"] == "false"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
PROVIDERS = sorted(PROVIDER_IDS)


@given(
    extra=st.dictionaries(st.sampled_from(PROVIDERS) | st.text(max_size=60), JSON, max_size=5),
    provider=st.sampled_from(PROVIDERS),
)
def test_any_options_leave_only_this_providers_own(extra: dict, provider: str) -> None:
    offering = OfferingSpec(model="m", provider=provider, provider_model="m", price=Decimal("0"))
    declared = frozenset({"moderation"})

    request, warnings = prepare(
        {},
        offering,
        ImageRequest(model="m", prompt="x", extra=extra),
        extra_params=declared,
        scopes=PROVIDER_IDS,
    )

    own = extra.get(provider) if isinstance(extra.get(provider), dict) else {}
    top = {k: v for k, v in extra.items() if k in declared}
    assert request.extra == {**top, **own}
    assert all(len(warning) < 300 for warning in warnings)
