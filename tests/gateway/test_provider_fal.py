"""The fal adapter against a fake fal queue: submit, status polling, result, downloads."""

from __future__ import annotations

import pytest

from gateway import ErrorKind, GatewayError, ImageRequest
from tests.gateway.conftest import SHORT_TIMEOUT, MakeGateway, catalog
from tests.gateway.fakes import GARBAGE, IMAGE, FakeFal, fails, fixture, png, reply

GENERATE = "fal-ai/flux-pro/kontext/text-to-image"
EDIT = "fal-ai/flux-pro/kontext"
CATALOG = catalog(
    "kontext",
    {
        "provider": "fal",
        "provider_model": GENERATE,
        "edit_provider_model": EDIT,
        "price": "0.04",
        "size_param": "aspect_ratio",
        "image_field": "image_url",
        "max_n_per_call": 4,
        "params": {"seed": "passthrough"},
    },
    max_n=8,
)
FLUX = catalog(
    "flux",
    {"provider": "fal", "provider_model": "fal-ai/flux-pro/v1.1", "price": "0.04"},
)


def test_generation_goes_through_the_queue_and_downloads_the_images(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(GENERATE)
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="kontext", prompt="a red cube", size="1344x768"))

    assert result.images == [IMAGE]
    (submitted,) = fal.submitted(GENERATE)
    assert submitted == {"prompt": "a red cube", "aspect_ratio": "16:9"}
    assert fal.seen(f"/{GENERATE}")[0].headers["Authorization"] == "Key fal-test"
    # Status and result live under the app, without the endpoint's sub-path.
    statuses = fal.seen("/fal-ai/flux-pro/requests/req-1/status", "GET")
    assert len(statuses) == 3
    assert all(r.headers["Authorization"] == "Key fal-test" for r in statuses)
    assert len(fal.seen("/fal-ai/flux-pro/requests/req-1", "GET")) == 1
    # The CDN download carries no key.
    (download,) = fal.seen("/files/.*", "GET")
    assert "Authorization" not in download.headers


def test_size_is_sent_as_image_size_for_models_that_take_pixels(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/flux-pro/v1.1")
    gateway = make_gateway(fal.env(), catalog=FLUX)

    gateway.generate(ImageRequest(model="flux", prompt="x", size="1344x768"))

    assert fal.submitted("fal-ai/flux-pro/v1.1")[0]["image_size"] == {
        "width": 1344,
        "height": 768,
    }


def test_edit_uses_the_edit_endpoint_with_the_source_as_a_data_uri(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(EDIT)
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    result = gateway.edit(
        ImageRequest(model="kontext", prompt="make it red", images=(png((0, 0, 255)),))
    )

    assert result.images == [IMAGE]
    assert result.attempts[0].provider_model == EDIT
    (submitted,) = fal.submitted(EDIT)
    assert submitted["image_url"].startswith("data:image/png;base64,")


def test_several_images_come_from_one_request_up_to_its_limit(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(GENERATE)
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="kontext", prompt="cubes", n=6))

    assert result.images == [IMAGE] * 6
    assert sorted(s["num_images"] for s in fal.submitted(GENERATE)) == [2, 4]
    assert sorted(a.images for a in result.attempts) == [2, 4]


@pytest.mark.parametrize(
    ("status", "name", "kind"),
    [
        (422, "fal/error_validation", ErrorKind.INVALID_REQUEST),
        (422, "fal/error_content_policy", ErrorKind.CONTENT_POLICY),
        (401, "fal/error_auth", ErrorKind.AUTH),
        (503, "fal/error_request", ErrorKind.SERVER_ERROR),
    ],
)
def test_submit_errors_keep_the_provider_message_and_kind(
    fal: FakeFal, make_gateway: MakeGateway, status: int, name: str, kind: ErrorKind
) -> None:
    fal.on(f"/{GENERATE}", fails(name, status, prompt="x"))
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert (caught.value.kind, caught.value.http_status) == (kind, status)
    detail = fixture(name)["detail"]
    assert (detail if isinstance(detail, str) else detail[0]["msg"]) in caught.value.message


def test_a_result_that_failed_in_the_queue_is_an_error_of_its_kind(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(GENERATE, result=fails("fal/error_content_policy", 422, prompt="x"))
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.CONTENT_POLICY


def test_images_withheld_by_the_safety_checker_are_a_content_policy_error(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    body = fixture("fal/result", base="http://unused", request_id="r", prompt="x")
    body["has_nsfw_concepts"] = [True]
    fal.model(GENERATE, result=lambda request: reply(body))
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.CONTENT_POLICY


def test_rate_limit_on_submit_carries_retry_after(fal: FakeFal, make_gateway: MakeGateway) -> None:
    fal.on(f"/{GENERATE}", fails("fal/error_request", 429, {"Retry-After": "11"}))
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RATE_LIMITED, 11.0)


def test_a_queue_that_never_completes_times_out_and_cancels_the_request(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(GENERATE, statuses=("in_queue",))
    gateway = make_gateway(fal.env(), catalog=CATALOG, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.TIMEOUT
    assert len(fal.seen("/fal-ai/flux-pro/requests/req-1/status", "GET")) > 3
    assert len(fal.seen("/fal-ai/flux-pro/requests/req-1/cancel", "PUT")) == 1


def test_a_slow_submit_times_out(fal: FakeFal, make_gateway: MakeGateway) -> None:
    fal.on(f"/{GENERATE}", fal.hang)
    gateway = make_gateway(fal.env(), catalog=CATALOG, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.TIMEOUT


def test_a_download_that_is_not_an_image_is_a_bad_response(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.once("/files/req-1-0.png", fal.garbage, "GET")
    fal.model(GENERATE)
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    assert GARBAGE[:12].decode() in caught.value.message


def test_an_unknown_queue_status_is_a_bad_response(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.on("/fal-ai/flux-pro/requests/req-1/status", lambda r: reply({"status": "??"}), "GET")
    fal.model(GENERATE)
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="kontext", prompt="x"))

    assert caught.value.kind is ErrorKind.BAD_RESPONSE


def test_the_seed_goes_in_the_input_of_a_model_that_takes_one(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(EDIT)
    gateway = make_gateway(fal.env(), catalog=CATALOG)

    result = gateway.edit(
        ImageRequest(model="kontext", prompt="make it red", images=(png(),), seed=123)
    )

    assert fal.submitted(EDIT)[0]["seed"] == 123
    assert result.warnings == ()


def test_a_model_without_a_seed_gets_none_and_a_warning(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/flux-pro/v1.1")
    gateway = make_gateway(fal.env(), catalog=FLUX)

    result = gateway.generate(ImageRequest(model="flux", prompt="x", seed=123))

    assert "seed" not in fal.submitted("fal-ai/flux-pro/v1.1")[0]
    assert result.attempts[0].warnings == ("flux@fal does not support seed; it was ignored.",)
