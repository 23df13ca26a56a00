"""The Gemini adapter (and its Vertex twin) against a fake generateContent endpoint."""

from __future__ import annotations

import base64

import pytest

from gateway import ErrorKind, GatewayError, ImageRequest
from tests.gateway.conftest import SHORT_TIMEOUT, MakeGateway, catalog
from tests.gateway.fakes import GARBAGE, IMAGE, FakeGemini, b64, fails, fixture, png, reply

MODEL = "gemini-3.1-flash-lite-image"
CATALOG = catalog(
    "banana",
    {"provider": "gemini", "provider_model": MODEL, "price": "0.0336"},
    {"provider": "vertex", "provider_model": MODEL, "price": "0.0336"},
    max_n=4,
)


def gemini_only(fake: FakeGemini) -> dict[str, str]:
    return {key: value for key, value in fake.env().items() if key.startswith("GEMINI")}


def test_generation_sends_the_prompt_and_aspect_ratio_and_reads_inline_data(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="a red cube", size="1344x768"))

    assert result.images == [IMAGE]
    assert result.warnings == ()  # 1344x768 is Gemini's own 16:9
    (sent,) = gemini.seen(gemini.path(MODEL))
    assert sent.headers["x-goog-api-key"] == "gemini-test"
    assert sent.get_json() == {
        "contents": [{"role": "user", "parts": [{"text": "a red cube"}]}],
        "generationConfig": {
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": "16:9"},
        },
    }
    assert result.attempts[0].provider == "gemini"


@pytest.mark.parametrize(
    ("size", "ratio"),
    [("1024x1024", "1:1"), ("768x1344", "9:16"), ("2048x880", "21:9"), ("1000x800", "5:4")],
)
def test_size_becomes_the_nearest_supported_aspect_ratio(
    gemini: FakeGemini, make_gateway: MakeGateway, size: str, ratio: str
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    gateway.generate(ImageRequest(model="banana", prompt="x", size=size))

    sent = gemini.seen(gemini.path(MODEL))[0].get_json()
    assert sent["generationConfig"]["imageConfig"] == {"aspectRatio": ratio}


def test_an_inexact_size_is_sent_as_the_nearest_ratio_with_a_warning(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x", size="1000x700"))

    assert result.warnings == (
        "Size 1000x700 was sent as the nearest aspect ratio the model takes, 3:2.",
    )


def test_edit_sends_source_images_as_inline_data_after_the_text(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)
    source = png((0, 0, 255))

    result = gateway.edit(ImageRequest(model="banana", prompt="make it red", images=(source,)))

    assert result.images == [IMAGE]
    parts = gemini.seen(gemini.path(MODEL))[0].get_json()["contents"][0]["parts"]
    assert parts[0] == {"text": "make it red"}
    assert parts[1]["inline_data"]["mime_type"] == "image/png"
    assert base64.b64decode(parts[1]["inline_data"]["data"]) == source


def test_n_images_are_n_parallel_calls_each_priced_per_image(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="cubes", n=4))

    assert result.images == [IMAGE] * 4
    assert len(gemini.seen(gemini.path(MODEL))) == 4
    assert [str(a.cost) for a in result.attempts] == ["0.0336"] * 4
    assert str(sum(a.cost for a in result.attempts)) == "0.1344"


def test_quality_is_dropped_with_a_warning(gemini: FakeGemini, make_gateway: MakeGateway) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x", quality="hd"))

    assert result.warnings == ("banana@gemini does not support quality; it was ignored.",)
    assert "quality" not in str(gemini.seen(gemini.path(MODEL))[0].get_json())


def test_vertex_uses_its_own_path_base_url_and_key(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL, "vertex"), gemini.image(MODEL))
    env = {key: value for key, value in gemini.env().items() if key.startswith("VERTEX")}
    gateway = make_gateway(env, catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert result.images == [IMAGE]
    assert result.provider == "vertex"
    assert gemini.seen(gemini.path(MODEL, "vertex"))[0].headers["x-goog-api-key"] == "vertex-test"


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("gemini/blocked_prompt", ErrorKind.CONTENT_POLICY, "blockReason PROHIBITED_CONTENT"),
        ("gemini/image_safety", ErrorKind.CONTENT_POLICY, "finishReason IMAGE_SAFETY"),
        ("gemini/no_image", ErrorKind.EMPTY, "finishReason NO_IMAGE"),
    ],
)
def test_an_answer_without_an_image_is_a_clear_error(
    gemini: FakeGemini, make_gateway: MakeGateway, name: str, kind: ErrorKind, words: str
) -> None:
    gemini.on(gemini.path(MODEL), lambda request: reply(fixture(name, model=MODEL)))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert caught.value.kind is kind
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("status", "name", "kind"),
    [
        (400, "gemini/error_api_key_invalid", ErrorKind.AUTH),
        (400, "gemini/error_invalid_argument", ErrorKind.INVALID_REQUEST),
        (503, "gemini/error_unavailable", ErrorKind.SERVER_ERROR),
    ],
)
def test_error_answers_keep_the_provider_message_and_kind(
    gemini: FakeGemini,
    make_gateway: MakeGateway,
    status: int,
    name: str,
    kind: ErrorKind,
) -> None:
    gemini.on(gemini.path(MODEL), fails(name, status))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert (caught.value.kind, caught.value.http_status) == (kind, status)
    assert fixture(name)["error"]["message"] in caught.value.message


def test_resource_exhausted_takes_its_wait_from_retry_info(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), fails("gemini/error_resource_exhausted", 429))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RATE_LIMITED, 17.0)


def test_a_retry_after_header_wins_over_retry_info(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(
        gemini.path(MODEL),
        fails("gemini/error_resource_exhausted", 429, {"Retry-After": "3"}),
    )
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert caught.value.retry_after == 3.0


def test_a_slow_answer_times_out(gemini: FakeGemini, make_gateway: MakeGateway) -> None:
    gemini.on(gemini.path(MODEL), gemini.hang)
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert caught.value.kind is ErrorKind.TIMEOUT


def test_inline_data_that_is_not_an_image_is_a_bad_response(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    body = fixture("gemini/generate_image", image_b64=b64(GARBAGE), model=MODEL)
    gemini.on(gemini.path(MODEL), lambda request: reply(body))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE


def test_a_body_of_the_wrong_shape_is_a_bad_response_not_a_crash(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), lambda request: reply({"candidates": "soon"}))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE


def test_the_seed_goes_in_the_generation_config(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x", seed=2**62 + 9))

    config = gemini.seen(gemini.path(MODEL))[0].get_json()["generationConfig"]
    assert config["seed"] == (2**62 + 9) % 2**31
    assert result.warnings == ()


def test_no_seed_sends_none(gemini: FakeGemini, make_gateway: MakeGateway) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert "seed" not in gemini.seen(gemini.path(MODEL))[0].get_json()["generationConfig"]


def test_safety_ratings_of_medium_or_high_probability_are_kept_as_flags(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    body = fixture("gemini/generate_image", image_b64=b64(IMAGE), model=MODEL)
    ratings = body["candidates"][0]["safetyRatings"]
    ratings[0]["probability"] = "MEDIUM"
    ratings[1] |= {"probability": "LOW", "blocked": True}
    gemini.on(gemini.path(MODEL), lambda request: reply(body))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert result.images == [IMAGE]
    assert result.safety == (
        "HARM_CATEGORY_SEXUALLY_EXPLICIT: MEDIUM",
        "HARM_CATEGORY_HATE_SPEECH: LOW",
    )


def test_negligible_safety_ratings_raise_no_flag(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(MODEL), gemini.image(MODEL))
    gateway = make_gateway(gemini_only(gemini), catalog=CATALOG)

    assert gateway.generate(ImageRequest(model="banana", prompt="x")).safety == ()
