"""Each offering gets only the values its catalog entry says the model accepts: the nearest
accepted one, with a warning, in place of one it would refuse."""

from __future__ import annotations

import pytest

from gateway import ImageRequest, default_catalog
from gateway.normalize import fit_sides, nearest_aspect_ratio, nearest_image_size
from tests.gateway.conftest import MakeGateway
from tests.gateway.fakes import FakeFal, FakeGemini, FakeOpenAI, FakeReplicate

GEMINI = "gemini-3.1-flash-lite-image"
SEEDREAM_RATIOS = ("match_input_image", "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9")


@pytest.mark.parametrize(
    ("asked", "sent"), [("hd", "high"), ("standard", "medium"), ("low", "low"), ("auto", "auto")]
)
def test_gpt_image_gets_the_nearest_quality_it_takes(
    openai: FakeOpenAI, make_gateway: MakeGateway, asked: str, sent: str
) -> None:
    openai.on("/v1/images/generations", openai.images())

    result = make_gateway(openai.env()).generate(
        ImageRequest(model="gpt-image-1", prompt="x", quality=asked)
    )

    assert openai.seen("/v1/images/generations")[0].get_json()["quality"] == sent
    changed = [w for w in result.warnings if "quality" in w]
    assert changed == (
        []
        if asked == sent
        else [
            f"gpt-image-1@openai takes quality low, medium, high, auto, not '{asked}'; it was "
            f"sent as {sent}."
        ]
    )


def test_a_quality_with_no_near_value_is_not_sent(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())

    result = make_gateway(openai.env()).generate(
        ImageRequest(model="gpt-image-1-mini", prompt="x", quality="vivid")
    )

    assert "quality" not in openai.seen("/v1/images/generations")[0].get_json()
    assert any("not 'vivid'; it was ignored" in warning for warning in result.warnings)


def test_replicate_seedream_gets_its_own_width_and_height_not_a_ratio_it_refuses(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model("bytedance/seedream-4")

    result = make_gateway(replicate.env()).generate(
        ImageRequest(model="seedream-4", prompt="x", size="1024x1280")
    )

    (sent,) = replicate.created("bytedance/seedream-4")
    assert (sent["input"]["size"], sent["input"]["width"], sent["input"]["height"]) == (
        "custom",
        1024,
        1280,
    )
    assert "aspect_ratio" not in sent["input"]
    assert result.warnings == ()


def test_seedream_sizes_below_its_smallest_side_are_scaled_up_in_proportion(
    replicate: FakeReplicate, fal: FakeFal, make_gateway: MakeGateway
) -> None:
    replicate.model("bytedance/seedream-4")
    fal.model("fal-ai/bytedance/seedream/v4/text-to-image")
    gateway = make_gateway({**replicate.env(), **fal.env()})

    result = gateway.generate(ImageRequest(model="seedream-4", prompt="x", size="512x640"))

    (fal_sent,) = fal.submitted("fal-ai/bytedance/seedream/v4/text-to-image")
    assert fal_sent["image_size"] == {"width": 1024, "height": 1280}
    assert result.warnings == (
        "Size 512x640 was sent as 1024x1280: the model makes sides from 1024 to 4096 pixels.",
    )


def test_the_seedream_catalog_declares_only_the_ratios_replicate_accepts() -> None:
    (replicate,) = [
        o for o in default_catalog().model("seedream-4").offerings if o.provider == "replicate"
    ]

    assert tuple(replicate.options["aspect_ratios"]) == SEEDREAM_RATIOS
    for size in ("1024x1280", "1280x1024", "1000x1000", "2000x857"):
        ratio, _ = nearest_aspect_ratio(size, SEEDREAM_RATIOS)
        assert ratio in SEEDREAM_RATIOS[1:]
    assert nearest_aspect_ratio("1024x1280", SEEDREAM_RATIOS)[0] == "3:4"


def test_gemini_gets_an_image_size_that_holds_the_size_asked_for(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(GEMINI), gemini.image(GEMINI))
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}
    gateway = make_gateway(env)

    large = gateway.generate(ImageRequest(model=GEMINI, prompt="x", size="1536x1536"))
    small = gateway.generate(ImageRequest(model=GEMINI, prompt="x", size="1024x1024"))

    first, second = (r.get_json()["generationConfig"] for r in gemini.seen(gemini.path(GEMINI)))
    assert first["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert second["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "1K"}
    assert large.warnings == (
        "Size 1536x1536 was sent as the model's image size 2K (about 4.2 megapixels).",
    )
    assert small.warnings == ()


@pytest.mark.parametrize(
    ("size", "tiers", "tier"),
    [
        ("1344x768", ("1K", "2K", "4K"), "1K"),  # Gemini's own 16:9 at 1K
        ("1536x1024", ("1K", "2K", "4K"), "2K"),
        ("3000x3000", ("1K", "2K", "4K"), "4K"),
        ("3000x3000", ("1K", "2K"), "2K"),  # the largest when none holds it
        (None, ("1K", "2K"), None),
    ],
)
def test_image_size_tiers(size: str | None, tiers: tuple[str, ...], tier: str | None) -> None:
    assert nearest_image_size(size, tiers)[0] == tier


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ("1024x1024", (1024, 1024)),
        ("512x512", (1024, 1024)),
        ("8000x2000", (4096, 1024)),  # cannot keep the shape: clamped into the range
        ("2048x4096", (2048, 4096)),
    ],
)
def test_sides_are_scaled_into_the_range(size: str, fitted: tuple[int, int]) -> None:
    assert fit_sides(size, (1024, 4096))[0] == fitted


def test_recraft_on_replicate_gets_a_ratio_it_takes_not_21_9(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model("recraft-ai/recraft-v3")

    make_gateway(replicate.env()).generate(
        ImageRequest(model="recraft-v3", prompt="x", size="2048x896")
    )

    (sent,) = replicate.created("recraft-ai/recraft-v3")
    assert sent["input"]["aspect_ratio"] == "2:1"


def test_every_offering_sent_an_aspect_ratio_declares_the_ones_it_takes() -> None:
    # Each list is cited in tests/gateway/fakes/README.md ("Aspect ratios per offering").
    undeclared = [
        offering.key
        for model in default_catalog().models.values()
        for offering in model.offerings
        if offering.provider in ("gemini", "vertex", "openrouter", "fal", "replicate")
        and offering.options.get(
            "size_param", "aspect_ratio" if offering.provider != "fal" else ""
        )
        == "aspect_ratio"
        and "aspect_ratios" not in offering.options
    ]

    assert undeclared == []
