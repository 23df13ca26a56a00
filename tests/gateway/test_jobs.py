"""Queued jobs (fal, Replicate) are paid for once submitted: a poll error is retried within the
request's deadline, a job given up on is cancelled, and one that may have run is charged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway import ErrorKind, GatewayError, ImageRequest
from gateway.client import GatewaySettings
from tests.gateway.conftest import SHORT_TIMEOUT, MakeGateway, catalog
from tests.gateway.fakes import IMAGE, FakeFal, FakeReplicate, fails, fixture, reply

FAL_MODEL = "fal-ai/flux-pro/v1.1"
FAL_JOB = "/fal-ai/flux-pro/requests/req-1"
FAL = catalog(
    "flux",
    {"provider": "fal", "provider_model": FAL_MODEL, "price": "0.04"},
    {"provider": "replicate", "provider_model": "black-forest-labs/flux-1.1-pro", "price": "0.05"},
)
FAL_ONLY = catalog("flux", {"provider": "fal", "provider_model": FAL_MODEL, "price": "0.04"})
REPLICATE_MODEL = "black-forest-labs/flux-1.1-pro"
REPLICATE = catalog(
    "flux", {"provider": "replicate", "provider_model": REPLICATE_MODEL, "price": "0.04"}
)


def both(fal: FakeFal, replicate: FakeReplicate) -> dict[str, str]:
    return fal.env() | replicate.env()


@pytest.mark.parametrize(
    ("status", "name"), [(429, "fal/error_request"), (503, "fal/error_request")]
)
def test_a_fal_poll_error_is_retried_and_the_same_job_delivers_with_one_charge(
    fal: FakeFal,
    replicate: FakeReplicate,
    make_gateway: MakeGateway,
    status: int,
    name: str,
) -> None:
    fal.once(f"{FAL_JOB}/status", fails(name, status, {"Retry-After": "0"}), "GET")
    fal.once(f"{FAL_JOB}/status", fails(name, status, {"Retry-After": "0"}), "GET")
    fal.model(FAL_MODEL)
    replicate.model(REPLICATE_MODEL)
    gateway = make_gateway(both(fal, replicate), catalog=FAL)

    result = gateway.generate(ImageRequest(model="flux", prompt="x"))

    assert result.images == [IMAGE]
    assert len(fal.submitted(FAL_MODEL)) == 1
    assert replicate.created(REPLICATE_MODEL) == []
    ((attempt),) = result.attempts
    assert (attempt.provider, attempt.ok, attempt.cost) == ("fal", True, Decimal("0.04"))
    assert attempt.provider_request_id == "req-1"


def test_a_fal_result_fetch_error_is_retried_too(fal: FakeFal, make_gateway: MakeGateway) -> None:
    fal.once(FAL_JOB, fails("fal/error_request", 502), "GET")
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY)

    assert gateway.generate(ImageRequest(model="flux", prompt="x")).images == [IMAGE]
    assert len(fal.submitted(FAL_MODEL)) == 1


def test_a_running_fal_job_whose_polls_keep_failing_is_cancelled_and_charged(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    # A first answer shows it running; then every poll is refused for longer than the deadline.
    running = fixture("fal/status_in_progress", base="", model_id="", request_id="req-1")
    fal.once(f"{FAL_JOB}/status", lambda request: reply(running), "GET")
    fal.on(f"{FAL_JOB}/status", fails("fal/error_request", 429, {"Retry-After": "60"}), "GET")
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.RATE_LIMITED
    assert len(fal.seen(f"{FAL_JOB}/cancel", "PUT")) == 1
    # It may have run: fal can only remove a request that is still queued.
    assert attempt.cost == Decimal("0.04")
    assert attempt.provider_request_id == "req-1"


def test_a_fal_job_given_up_on_in_the_queue_is_cancelled_and_not_charged(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(FAL_MODEL, statuses=("in_queue",))
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.TIMEOUT
    assert len(fal.seen(f"{FAL_JOB}/cancel", "PUT")) == 1
    assert attempt.cost == 0


def test_a_fal_job_given_up_on_while_running_is_cancelled_and_charged(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(FAL_MODEL, statuses=("in_queue", "in_progress"))
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert len(fal.seen(f"{FAL_JOB}/cancel", "PUT")) == 1
    assert attempt.cost == Decimal("0.04")


def test_images_a_completed_fal_job_made_but_we_could_not_download_are_charged(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.once("/files/req-1-0.png", fails("fal/error_request", 404), "GET")
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.BAD_RESPONSE
    assert attempt.cost == Decimal("0.04")
    assert fal.seen(f"{FAL_JOB}/cancel", "PUT") == []


def test_a_replicate_poll_error_is_retried_on_the_same_prediction(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.once(
        "/v1/predictions/p1", fails("replicate/error_throttled", 429, {"Retry-After": "0"}), "GET"
    )
    replicate.model(REPLICATE_MODEL)
    gateway = make_gateway(replicate.env(), catalog=REPLICATE)

    result = gateway.generate(ImageRequest(model="flux", prompt="x"))

    assert result.images == [IMAGE]
    assert len(replicate.created(REPLICATE_MODEL)) == 1
    ((attempt),) = result.attempts
    assert (attempt.cost, attempt.provider_request_id) == (Decimal("0.04"), "p1")


def test_a_replicate_prediction_given_up_on_while_processing_is_cancelled_and_charged(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(REPLICATE_MODEL, statuses=("starting", "processing"))
    gateway = make_gateway(replicate.env(), catalog=REPLICATE, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.TIMEOUT
    assert len(replicate.seen("/v1/predictions/p1/cancel", "POST")) == 1
    assert (attempt.cost, attempt.provider_request_id) == (Decimal("0.04"), "p1")


def test_a_replicate_prediction_that_never_started_is_cancelled_and_not_charged(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(REPLICATE_MODEL, statuses=("starting",))
    gateway = make_gateway(replicate.env(), catalog=REPLICATE, timeout=SHORT_TIMEOUT)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert len(replicate.seen("/v1/predictions/p1/cancel", "POST")) == 1
    assert attempt.cost == 0


def test_replicate_output_that_came_with_prefer_wait_is_used_without_polling(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    # Sync mode may answer "processing" with the output already there; polling would only
    # wait for a status change (here it never comes).
    replicate.model(REPLICATE_MODEL, statuses=("processing_output",))
    gateway = make_gateway(replicate.env(), catalog=REPLICATE)

    result = gateway.generate(ImageRequest(model="flux", prompt="x"))

    assert result.images == [IMAGE]
    assert replicate.seen("/v1/predictions/p1", "GET") == []
    assert result.attempts[0].cost == Decimal("0.04")


def test_a_fal_job_whose_status_answer_makes_no_sense_is_cancelled(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.once(f"{FAL_JOB}/status", lambda request: reply(["IN_PROGRESS"]), "GET")
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.BAD_RESPONSE
    assert len(fal.seen(f"{FAL_JOB}/cancel", "PUT")) == 1
    assert attempt.provider_request_id == "req-1"


def test_a_completed_fal_job_whose_result_is_a_validation_error_is_not_charged(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    # The runner refused the input (422, fal's model-error shape): fal bills successful
    # outputs only, and none was made.
    fal.model(FAL_MODEL, result=fails("fal/error_validation", 422))
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert (attempt.error_kind, attempt.http_status) == (ErrorKind.INVALID_REQUEST, 422)
    assert attempt.cost == 0
    assert attempt.provider_request_id == "req-1"


def test_a_completed_fal_job_whose_result_cannot_be_fetched_is_charged(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(FAL_MODEL, result=fails("fal/error_request", 503))
    no_retries = GatewaySettings(poll_retries=0)
    gateway = make_gateway(fal.env(), catalog=FAL_ONLY, settings=no_retries)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="flux", prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.SERVER_ERROR
    assert attempt.cost == Decimal("0.04")  # the images may exist: COMPLETED said so
