"""A provider's job (fal queue request, Replicate prediction) is reported to the caller as soon
as the provider accepted it, so a caller that dies while waiting can resume the same job
instead of paying for a new one; with a webhook the gateway does not wait at all."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from gateway import ErrorKind, ImageRequest, JobDetached, JobRef
from gateway.client import GatewaySettings
from tests.gateway.conftest import MakeGateway, catalog
from tests.gateway.fakes import IMAGE, FakeFal, FakeReplicate, fails, fixture, reply

FAL_MODEL = "fal-ai/flux-pro/v1.1"
FAL_JOB = "/fal-ai/flux-pro/requests/req-1"
FAL = catalog("flux", {"provider": "fal", "provider_model": FAL_MODEL, "price": "0.04"})
REPLICATE_MODEL = "black-forest-labs/flux-1.1-pro"
REPLICATE = catalog(
    "flux", {"provider": "replicate", "provider_model": REPLICATE_MODEL, "price": "0.04"}
)
REQUEST = ImageRequest(model="flux", prompt="a red sphere")
WEBHOOKS = "https://arena.example/hooks"


class WorkerDied(BaseException):
    """What a worker killed between storing the job and collecting it looks like here: nothing
    after it runs."""


def die_after_storing(stored: list[JobRef]) -> Callable[[JobRef], None]:
    def on_job(job: JobRef) -> None:
        stored.append(job)
        raise WorkerDied

    return on_job


def test_a_fal_job_is_reported_before_any_poll(fal: FakeFal, make_gateway: MakeGateway) -> None:
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env(), catalog=FAL)
    polls_when_reported: list[int] = []

    def on_job(job: JobRef) -> None:
        polls_when_reported.append(len(fal.seen(f"{FAL_JOB}/status", "GET")))

    result = gateway.generate(REQUEST, on_job=on_job)

    assert result.images == [IMAGE]
    assert polls_when_reported == [0]


def test_a_fal_job_whose_waiter_died_is_resumed_with_one_submission_and_one_charge(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(FAL_MODEL)
    stored: list[JobRef] = []
    with pytest.raises(WorkerDied):
        make_gateway(fal.env(), catalog=FAL).generate(REQUEST, on_job=die_after_storing(stored))
    (job,) = stored
    assert (job.provider, job.offering, job.job_id) == ("fal", "flux@fal", "req-1")

    # a new process, given only what was stored
    restarted = make_gateway(fal.env(), catalog=FAL)
    result = restarted.generate(REQUEST, job=JobRef.from_dict(job.to_dict()))

    assert result.images == [IMAGE]
    assert len(fal.submitted(FAL_MODEL)) == 1
    (attempt,) = result.attempts
    assert (attempt.ok, attempt.cost, attempt.provider_request_id) == (
        True,
        Decimal("0.04"),
        "req-1",
    )


def test_a_replicate_prediction_whose_waiter_died_is_resumed_with_one_creation(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(REPLICATE_MODEL)
    stored: list[JobRef] = []
    with pytest.raises(WorkerDied):
        make_gateway(replicate.env(), catalog=REPLICATE).generate(
            REQUEST, on_job=die_after_storing(stored)
        )
    (job,) = stored
    assert job.job_id == "p1"
    assert job.urls["get"].endswith("/v1/predictions/p1")

    result = make_gateway(replicate.env(), catalog=REPLICATE).generate(REQUEST, job=job)

    assert result.images == [IMAGE]
    assert len(replicate.created(REPLICATE_MODEL)) == 1
    (attempt,) = result.attempts
    assert (attempt.ok, attempt.cost, attempt.provider_request_id) == (True, Decimal("0.04"), "p1")


def test_a_fal_job_the_queue_no_longer_knows_falls_back_to_a_new_submission(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.once(f"{FAL_JOB}/status", fails("fal/error_request", 404), "GET")
    fal.model(FAL_MODEL)
    gone = JobRef(
        provider="fal",
        offering="flux@fal",
        job_id="req-1",
        urls={
            "status": f"{fal.url}{FAL_JOB}/status",
            "response": f"{fal.url}{FAL_JOB}",
            "cancel": f"{fal.url}{FAL_JOB}/cancel",
        },
    )

    result = make_gateway(fal.env(), catalog=FAL).generate(REQUEST, job=gone)

    assert result.images == [IMAGE]
    assert len(fal.submitted(FAL_MODEL)) == 1  # the new one: the lost job was never ours here
    assert [a.ok for a in result.attempts] == [False, True]


def test_a_replicate_prediction_that_failed_falls_back_to_a_new_one(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(REPLICATE_MODEL)
    stored: list[JobRef] = []
    with pytest.raises(WorkerDied):
        make_gateway(replicate.env(), catalog=REPLICATE).generate(
            REQUEST, on_job=die_after_storing(stored)
        )
    failed = fixture(
        "replicate/prediction_failed",
        base=replicate.url,
        prediction_id="p1",
        model=REPLICATE_MODEL,
        prompt="",
    )
    replicate.once("/v1/predictions/p1", lambda request: reply(failed), "GET")

    result = make_gateway(replicate.env(), catalog=REPLICATE).generate(REQUEST, job=stored[0])

    assert result.images == [IMAGE]
    assert len(replicate.created(REPLICATE_MODEL)) == 2
    assert [(a.ok, a.provider_request_id) for a in result.attempts] == [
        (False, "p1"),
        (True, "p2"),
    ]
    assert result.attempts[0].cost == 0  # an official model's failed prediction is not billed


def test_with_webhooks_a_fal_job_is_submitted_with_the_webhook_and_not_polled(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env() | {"GATEWAY_WEBHOOK_BASE_URL": WEBHOOKS}, catalog=FAL)
    stored: list[JobRef] = []

    with pytest.raises(JobDetached) as caught:
        gateway.generate(REQUEST, on_job=stored.append, detach=True)

    assert stored == [caught.value.job]
    (submit,) = fal.seen(f"/{FAL_MODEL}", "POST")
    assert parse_qs(submit.query_string.decode())["fal_webhook"] == [f"{WEBHOOKS}/fal/"]
    assert fal.seen(f"{FAL_JOB}/status", "GET") == []


def test_with_webhooks_a_replicate_prediction_asks_for_the_completed_event_only(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(REPLICATE_MODEL)
    env = replicate.env() | {"GATEWAY_WEBHOOK_BASE_URL": WEBHOOKS}
    gateway = make_gateway(env, catalog=REPLICATE)

    with pytest.raises(JobDetached):
        gateway.generate(REQUEST, on_job=lambda job: None, detach=True)

    (created,) = replicate.seen(f"/v1/models/{REPLICATE_MODEL}/predictions", "POST")
    body = created.get_json()
    assert body["webhook"] == f"{WEBHOOKS}/replicate/"
    assert body["webhook_events_filter"] == ["completed"]
    assert "Prefer" not in created.headers
    assert replicate.seen("/v1/predictions/p1", "GET") == []


def test_without_a_webhook_base_url_detach_still_waits_for_the_images(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model(FAL_MODEL)
    gateway = make_gateway(fal.env(), catalog=FAL)

    result = gateway.generate(REQUEST, on_job=lambda job: None, detach=True)

    assert result.images == [IMAGE]
    (submit,) = fal.seen(f"/{FAL_MODEL}", "POST")
    assert b"fal_webhook" not in submit.query_string


def test_a_caller_that_cannot_keep_the_job_still_gets_its_images_without_detaching(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.model(REPLICATE_MODEL)
    env = replicate.env() | {"GATEWAY_WEBHOOK_BASE_URL": WEBHOOKS}
    gateway = make_gateway(env, catalog=REPLICATE)

    def database_down(job: JobRef) -> None:
        raise ConnectionError("the database is away")

    result = gateway.generate(REQUEST, on_job=database_down, detach=True)

    assert result.images == [IMAGE]
    assert len(replicate.created(REPLICATE_MODEL)) == 1


def test_a_resumed_replicate_prediction_whose_polls_keep_failing_is_cancelled_and_charged(
    replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    replicate.on(
        "/v1/predictions/p1",
        fails("replicate/error_throttled", 503),
        "GET",
    )
    replicate.model(REPLICATE_MODEL)
    stored: list[JobRef] = []
    with pytest.raises(WorkerDied):
        make_gateway(replicate.env(), catalog=REPLICATE).generate(
            REQUEST, on_job=die_after_storing(stored)
        )

    no_retries = GatewaySettings(poll_retries=0)
    restarted = make_gateway(replicate.env(), catalog=REPLICATE, settings=no_retries)
    result = restarted.generate(REQUEST, job=stored[0])

    # What the prediction did while nobody watched is unknown: as a submitted prediction given
    # up on, it is cancelled and recorded at its price before another is paid for.
    assert len(replicate.seen("/v1/predictions/p1/cancel", "POST")) == 1
    lost, made = result.attempts
    assert (lost.ok, lost.error_kind, lost.provider_request_id) == (
        False,
        ErrorKind.SERVER_ERROR,
        "p1",
    )
    assert lost.cost == Decimal("0.04")
    assert (made.ok, made.provider_request_id) == (True, "p2")
    assert result.cost == Decimal("0.08")
