"""The Replicate adapter against a fake predictions API: Prefer: wait, urls.get polling."""

from __future__ import annotations

import pytest

from gateway import ErrorKind, GatewayError, ImageRequest, default_catalog
from tests.gateway.conftest import SHORT_TIMEOUT, MakeGateway, catalog
from tests.gateway.fakes import IMAGE, FakeReplicate, fails, fixture, png, reply

MODEL = "black-forest-labs/flux-kontext-pro"
PREDICTIONS = f"/v1/models/{MODEL}/predictions"
CATALOG = catalog(
    "kontext",
    {
        "provider": "replicate",
        "provider_model": MODEL,
        "price": "0.04",
        "image_field": "input_image",
        "image_list": False,
        "aspect_ratios": ["1:1", "16:9", "9:16", "4:3", "3:4"],
        "params": {"seed": "passthrough"},
    },
    max_n=4,
)


def test_generation_creates_a_prediction_polls_it_and_downloads_the_output(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(MODEL)
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="kontext", prompt="a red cube", size="1344x768"))

    assert result.images == [IMAGE]
    (created,) = replicate.seen(PREDICTIONS)
    assert created.headers["Authorization"] == "Bearer r8-test"
    assert created.headers["Prefer"] == "wait=1"  # the 2 s test budget, less a second
    assert created.get_json() == {"input": {"prompt": "a red cube", "aspect_ratio": "16:9"}}
    polls = replicate.seen("/v1/predictions/p1", "GET")
    assert len(polls) == 2
    assert polls[0].headers["Authorization"] == "Bearer r8-test"
    assert result.attempts[0].http_status == 200


def test_a_prediction_finished_within_prefer_wait_needs_no_polling(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(MODEL, statuses=("succeeded",), output_list=True)
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert result.images == [IMAGE]
    assert replicate.seen("/v1/predictions/.*", "GET") == []
    assert result.attempts[0].http_status == 201


def test_edit_sends_the_source_as_a_data_uri_in_the_models_field(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(MODEL)
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    gateway.edit(ImageRequest(model="kontext", prompt="make it red", images=(png(),)))

    (created,) = replicate.created(MODEL)
    assert created["input"]["input_image"].startswith("data:image/png;base64,")


def test_n_images_are_n_parallel_predictions(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(MODEL)
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="kontext", prompt="cubes", n=3))

    assert result.images == [IMAGE] * 3
    assert len(replicate.created(MODEL)) == 3
    assert [a.images for a in result.attempts] == [1, 1, 1]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("prediction_failed", ErrorKind.MODEL_FAILURE),
        ("prediction_failed_nsfw", ErrorKind.CONTENT_POLICY),
    ],
)
def test_a_failed_prediction_says_why(
    replicate: FakeReplicate, make_gateway: MakeGateway, name: str, kind: ErrorKind
) -> None:
    replicate.model(MODEL, statuses=("starting", name.removeprefix("prediction_")))
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is kind
    assert fixture(f"replicate/{name}")["error"] in caught.value.message


@pytest.mark.parametrize(
    ("status", "name", "kind"),
    [
        (422, "replicate/error_invalid_input", ErrorKind.INVALID_REQUEST),
        (401, "replicate/error_unauthenticated", ErrorKind.AUTH),
    ],
)
def test_error_answers_keep_the_provider_message_and_kind(
    replicate: FakeReplicate,
    make_gateway: MakeGateway,
    status: int,
    name: str,
    kind: ErrorKind,
) -> None:
    replicate.on(PREDICTIONS, fails(name, status))
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert (caught.value.kind, caught.value.http_status) == (kind, status)
    assert fixture(name)["detail"] in caught.value.message


def test_throttling_carries_retry_after(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.on(PREDICTIONS, fails("replicate/error_throttled", 429, {"Retry-After": "5"}))
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RATE_LIMITED, 5.0)


def test_a_prediction_that_never_finishes_times_out_and_is_canceled(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(MODEL, statuses=("starting", "processing"))
    gateway = make_gateway(replicate.env(), catalog=CATALOG, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.TIMEOUT
    assert len(replicate.seen("/v1/predictions/p1", "GET")) > 3
    assert len(replicate.seen("/v1/predictions/p1/cancel", "POST")) == 1


def test_a_slow_create_times_out(replicate: FakeReplicate, make_gateway: MakeGateway) -> None:
    replicate.on(PREDICTIONS, replicate.hang)
    gateway = make_gateway(replicate.env(), catalog=CATALOG, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.TIMEOUT


def test_output_that_is_not_an_image_is_a_bad_response(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.once("/files/p1.png", replicate.garbage, "GET")
    replicate.model(MODEL)
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE


def test_a_succeeded_prediction_without_output_is_empty(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    body = fixture("replicate/prediction_succeeded", base="", prediction_id="p1", model=MODEL)
    body["output"] = []
    replicate.on(PREDICTIONS, lambda request: reply(body, 201))
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.EMPTY


def test_the_seed_goes_in_the_input_and_each_parallel_prediction_gets_its_own(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(MODEL)
    gateway = make_gateway(replicate.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="kontext", prompt="x", n=2, seed=77))

    seeds = sorted(created["input"]["seed"] for created in replicate.created(MODEL))
    assert 77 in seeds
    assert len(set(seeds)) == 2
    assert result.warnings == ()


def test_a_model_without_a_seed_gets_none_and_a_warning(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model("bytedance/seedream-4")
    gateway = make_gateway(replicate.env(), catalog=default_catalog())

    result = gateway.generate(ImageRequest(model="seedream-4", prompt="x", seed=77))

    assert "seed" not in replicate.created("bytedance/seedream-4")[0]["input"]
    assert result.warnings == ("seedream-4@replicate does not support seed; it was ignored.",)
