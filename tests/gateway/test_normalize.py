"""Normalization: the per-provider parameter tables, size conversion, and the refusals made
before any network call."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import (
    Catalog,
    ErrorKind,
    Gateway,
    GatewayError,
    ImageRequest,
    Operation,
    ParamMode,
    RequestRefused,
    default_catalog,
    normalization_table,
)
from gateway.normalize import ASPECT_RATIOS, nearest_aspect_ratio, nearest_size
from tests.gateway.conftest import MakeGateway, Scripted, catalog
from tests.gateway.fakes import GARBAGE, FakeFal, FakeGemini, png

PARAMETERS = {
    "prompt",
    "size",
    "n",
    "quality",
    "style",
    "response_format",
    "images",
    "mask",
    "seed",
    "extra",
}


def test_every_catalog_offering_declares_a_mode_for_every_parameter() -> None:
    for spec in default_catalog():
        for offering in spec.offerings:
            table = normalization_table(offering)
            assert set(table) == PARAMETERS, offering.key
            assert all(isinstance(rule.mode, ParamMode) for rule in table.values())


def test_every_provider_an_offering_names_has_a_name_in_the_catalog() -> None:
    catalog = default_catalog()
    providers = {offering.provider for spec in catalog for offering in spec.offerings}

    assert providers <= set(catalog.provider_names)
    assert catalog.provider_name("gemini") == "Google Gemini API"
    assert catalog.provider_name("elsewhere") == "elsewhere"  # unnamed: its id


@pytest.mark.parametrize(
    ("model", "provider", "param", "mode", "wire"),
    [
        ("gemini-3.1-flash-lite-image", "gemini", "size", "converted", "generationConfig."),
        ("gemini-3.1-flash-lite-image", "gemini", "n", "emulated", ""),
        ("gemini-3.1-flash-lite-image", "vertex", "quality", "unsupported", ""),
        ("gemini-3.1-flash-lite-image", "fal", "n", "renamed", "num_images"),
        ("gemini-3.1-flash-lite-image", "replicate", "size", "converted", "input.aspect_ratio"),
        ("gpt-image-1", "openai", "quality", "converted", "quality"),
        ("gpt-image-1", "openai", "style", "unsupported", "style"),  # the catalog's override
        ("gpt-image-1", "openai", "response_format", "emulated", ""),
        ("recraft-v3", "fal", "style", "passthrough", "style"),  # the catalog's override
        ("lumen-xl", "local", "size", "passthrough", "width, height"),
        ("lumen-xl", "local", "seed", "passthrough", "seed"),
        ("gemini-3.1-flash-lite-image", "gemini", "seed", "renamed", "generationConfig.seed"),
        ("gemini-3.1-flash-lite-image", "vertex", "seed", "renamed", "generationConfig.seed"),
        ("gemini-3.1-flash-lite-image", "fal", "seed", "unsupported", "seed"),
        ("gpt-image-1", "openai", "seed", "unsupported", ""),
        ("flux-1.1-pro", "fal", "seed", "passthrough", "seed"),  # the catalog's override
        ("flux-1.1-pro", "replicate", "seed", "passthrough", "input.seed"),
        ("flux-kontext-pro", "fal", "seed", "passthrough", "seed"),
        ("seedream-4", "fal", "seed", "passthrough", "seed"),
        ("seedream-4", "replicate", "seed", "unsupported", "input.seed"),
        ("imagen-4", "fal", "seed", "passthrough", "seed"),
        ("recraft-v3", "fal", "seed", "unsupported", "seed"),
    ],
)
def test_the_table_says_what_each_provider_does_with_a_parameter(
    model: str, provider: str, param: str, mode: str, wire: str
) -> None:
    (offering,) = [o for o in default_catalog().model(model).offerings if o.provider == provider]

    rule = normalization_table(offering)[param]

    assert rule.mode == mode
    assert rule.wire.startswith(wire)


@pytest.mark.parametrize(
    ("size", "ratio", "warned"),
    [
        ("1024x1024", "1:1", False),
        ("1344x768", "16:9", False),
        ("768x1344", "9:16", False),
        ("1536x1024", "3:2", False),
        ("1024x1536", "2:3", False),
        ("1152x896", "5:4", False),  # Gemini's own 5:4 size, 3% off the exact ratio
        ("1000x775", "5:4", True),  # 1.29: 3% from both 5:4 and 4:3, a hair nearer 5:4
        ("1200x900", "4:3", False),
        ("896x1120", "4:5", False),
        ("1536x672", "21:9", False),  # Gemini's own 21:9 size
        ("2400x800", "21:9", True),  # 3:1 is wider than any ratio: the widest
        ("100x900", "9:16", True),
    ],
)
def test_sizes_become_the_nearest_gemini_aspect_ratio(size: str, ratio: str, warned: bool) -> None:
    chosen, warnings = nearest_aspect_ratio(size, ASPECT_RATIOS)

    assert chosen == ratio
    assert bool(warnings) is warned


def test_no_size_means_no_aspect_ratio() -> None:
    assert nearest_aspect_ratio(None) == (None, ())
    assert nearest_aspect_ratio("auto") == (None, ())


def test_openai_sizes_snap_by_shape_then_area() -> None:
    allowed = ["1024x1024", "1536x1024", "1024x1536"]

    assert nearest_size("1024x1024", allowed) == ("1024x1024", ())
    assert nearest_size("512x512", allowed)[0] == "1024x1024"
    assert nearest_size("1920x1080", allowed)[0] == "1536x1024"
    assert nearest_size("720x1280", allowed)[0] == "1024x1536"
    assert nearest_size("auto", allowed) == ("auto", ())


IMPOSSIBLE = catalog(
    "small",
    {"provider": "a", "price": "0.01"},
    operations=["generate"],
    max_width=1024,
    max_height=1024,
    max_n=4,
)
EDITOR = catalog("editor", {"provider": "a", "price": "0.01"}, max_input_images=1)


@pytest.mark.parametrize(
    ("request_", "operation", "kind", "words"),
    [
        (
            ImageRequest(model="small", prompt="x", images=(png(),)),
            "edit",
            "unsupported",
            "cannot edit",
        ),
        (
            ImageRequest(model="small", prompt="x", size="2048x1024"),
            "generate",
            "unsupported",
            "up to 1024x1024",
        ),
        (
            ImageRequest(model="small", prompt="x", size="big"),
            "generate",
            "invalid_request",
            "1024x1024",
        ),
        (
            ImageRequest(model="small", prompt="x", n=5),
            "generate",
            "invalid_request",
            "between 1 and 4",
        ),
        (
            ImageRequest(model="small", prompt="x", n=0),
            "generate",
            "invalid_request",
            "between 1 and 4",
        ),
        (ImageRequest(model="nope", prompt="x"), "generate", "unknown_model", "Unknown model"),
    ],
)
def test_impossible_requests_are_refused_before_any_call(
    request_: ImageRequest, operation: str, kind: str, words: str
) -> None:
    provider = Scripted("a")
    gateway = Gateway(catalog=IMPOSSIBLE, providers={"a": provider})

    with pytest.raises(GatewayError) as caught:
        getattr(gateway, operation)(request_)

    assert caught.value.kind == kind
    assert words in caught.value.message
    assert caught.value.http_status in (400, 404)
    assert caught.value.attempts == []
    assert provider.calls == []


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (ImageRequest(model="editor", prompt="x"), "needs a source image"),
        (ImageRequest(model="editor", prompt="x", images=(png(), png())), "at most 1"),
        (ImageRequest(model="editor", prompt="x", images=(GARBAGE,)), "not a readable image"),
        (ImageRequest(model="editor", prompt="x", images=(png(),), mask=GARBAGE), "mask"),
    ],
)
def test_edits_with_unusable_sources_are_refused_before_any_call(
    request_: ImageRequest, words: str
) -> None:
    provider = Scripted("a")
    gateway = Gateway(catalog=EDITOR, providers={"a": provider})

    with pytest.raises(GatewayError) as caught:
        gateway.edit(request_)

    assert words in caught.value.message
    assert provider.calls == []


SMALL = ImageRequest(model="small", prompt="x")


@pytest.mark.parametrize(
    ("catalog_", "request_", "operation", "param"),
    [
        (IMPOSSIBLE, replace(SMALL, images=(png(),)), Operation.EDIT, "model"),
        (IMPOSSIBLE, replace(SMALL, n=5), Operation.GENERATE, "n"),
        (IMPOSSIBLE, replace(SMALL, size="2048x1024"), Operation.GENERATE, "size"),
        (IMPOSSIBLE, replace(SMALL, size="63x512"), Operation.GENERATE, "size"),
        (IMPOSSIBLE, replace(SMALL, size="１０２４x１０２４"), Operation.GENERATE, "size"),
        (IMPOSSIBLE, replace(SMALL, size="0512x512"), Operation.GENERATE, "size"),
        (IMPOSSIBLE, replace(SMALL, size="512x512\n"), Operation.GENERATE, "size"),
        (IMPOSSIBLE, replace(SMALL, model="nope"), Operation.GENERATE, "model"),
        (IMPOSSIBLE, replace(SMALL, prompt="x" * 4001), Operation.GENERATE, "prompt"),
        (EDITOR, ImageRequest(model="editor", prompt="x"), Operation.EDIT, "images"),
        (
            EDITOR,
            ImageRequest(model="editor", prompt="x", images=(png(),), mask=GARBAGE),
            Operation.EDIT,
            "mask",
        ),
    ],
)
def test_a_refusal_names_the_request_field_at_fault(
    catalog_: Catalog, request_: ImageRequest, operation: Operation, param: str
) -> None:
    gateway = Gateway(catalog=catalog_, providers={"a": Scripted("a")})

    with pytest.raises(RequestRefused) as caught:
        gateway.check(request_, operation)

    assert caught.value.param == param


def fits_small(size: str) -> bool:
    """Whether "small" (up to 1024x1024) takes this size: ASCII WxH, no leading zero, 64+."""
    if size == "auto":
        return True
    width, x, height = size.partition("x")
    sides = (width, height)
    return (
        x == "x"
        and all(side.isascii() and side.isdigit() and not side.startswith("0") for side in sides)
        and all(64 <= int(side) <= 1024 for side in sides)
    )


@given(size=st.text(max_size=12) | st.from_regex(r"0?[0-9]{1,5}x[0-9]{1,5}", fullmatch=True))
def test_any_size_is_either_taken_or_refused_as_the_size(size: str) -> None:
    gateway = Gateway(catalog=IMPOSSIBLE, providers={"a": Scripted("a")})
    request = replace(SMALL, size=size)

    if fits_small(size):
        gateway.check(request, Operation.GENERATE)
    else:
        with pytest.raises(RequestRefused) as caught:
            gateway.check(request, Operation.GENERATE)
        assert caught.value.param == "size"


def test_a_model_without_a_configured_provider_is_not_routable_and_says_so(
    make_gateway: MakeGateway,
) -> None:
    gateway = make_gateway({}, catalog=default_catalog())

    assert not gateway.is_routable("gemini-3.1-flash-lite-image")
    assert gateway.is_routable("lumen-xl")
    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="gemini-3.1-flash-lite-image", prompt="x"))
    assert caught.value.kind is ErrorKind.NOT_CONFIGURED


def test_a_style_the_catalog_enables_reaches_the_provider(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/recraft/v3/text-to-image")
    gateway = make_gateway(fal.env(), catalog=default_catalog())

    result = gateway.generate(
        ImageRequest(model="recraft-v3", prompt="x", style="digital_illustration")
    )

    assert fal.submitted("fal-ai/recraft/v3/text-to-image")[0]["style"] == ("digital_illustration")
    assert result.warnings == ()


def test_a_seed_reaches_a_model_that_takes_one_and_is_dropped_with_a_warning_where_not(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/flux-pro/v1.1")
    fal.model("fal-ai/recraft/v3/text-to-image")
    gateway = make_gateway(fal.env(), catalog=default_catalog())

    flux = gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x", seed=2**40 + 5))
    recraft = gateway.generate(ImageRequest(model="recraft-v3", prompt="x", seed=5))

    # 63-bit arena seeds go out modulo 2^31: every provider takes a 32-bit seed.
    assert fal.submitted("fal-ai/flux-pro/v1.1")[0]["seed"] == 5
    assert flux.warnings == ()
    assert "seed" not in fal.submitted("fal-ai/recraft/v3/text-to-image")[0]
    assert recraft.warnings == ("recraft-v3@fal does not support seed; it was ignored.",)
    assert recraft.attempts[0].warnings == recraft.warnings


def test_the_parallel_calls_of_one_request_get_different_seeds(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    model = "gemini-3.1-flash-lite-image"
    gemini.on(gemini.path(model), gemini.image(model))
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}
    gateway = make_gateway(env, catalog=default_catalog())

    gateway.generate(ImageRequest(model=model, prompt="x", n=3, seed=42))

    seeds = [r.get_json()["generationConfig"]["seed"] for r in gemini.seen(gemini.path(model))]
    assert 42 in seeds
    assert len(set(seeds)) == 3


def test_the_model_page_table_words_the_seed_rule() -> None:
    (flux,) = [o for o in default_catalog().model("flux-1.1-pro").offerings if o.provider == "fal"]
    (gpt,) = default_catalog().model("gpt-image-1").offerings

    assert normalization_table(flux)["seed"].note.startswith("modulo 2^31")
    assert normalization_table(gpt)["seed"].note == "the Images API takes no seed"
