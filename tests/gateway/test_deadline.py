"""A request has one deadline for the offerings it tries, within a retry budget: a call may use
all of it, a fallback gets what the failures before it left; a caller may ask for less, never
for more."""

from __future__ import annotations

import time
from typing import Any

import pytest
from werkzeug import Request, Response

from gateway import ErrorKind, Gateway, GatewayError, ImageRequest, OfferingSpec, Operation
from gateway.client import GatewaySettings
from gateway.errors import RequestRefused
from gateway.http import Deadline
from gateway.providers.base import ProviderResponse
from tests.gateway.conftest import TIMEOUT, MakeGateway, Scripted, catalog, error, quiet_router
from tests.gateway.fakes import IMAGE, FakeFal, FakeReplicate, fixture, reply

CATALOG = catalog(
    "m",
    {"provider": "a", "price": "0.01"},
    {"provider": "b", "price": "0.01"},
    {"provider": "c", "price": "0.01"},
    {"provider": "d", "price": "0.01"},
)


class Timed(Scripted):
    """A scripted provider that notes the budget each call was given."""

    def __init__(self, name: str, *outcomes: Any) -> None:
        super().__init__(name, *outcomes)
        self.budgets: list[float] = []

    def call(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline,
    ) -> ProviderResponse:
        self.budgets.append(deadline.seconds)
        return super().call(offering, request, operation, deadline=deadline)


def build(*providers: Timed, **settings: Any) -> Gateway:
    return Gateway(
        catalog=CATALOG,
        providers={p.name: p for p in providers},
        router=quiet_router(),
        settings=GatewaySettings(**settings),
    )


def failing(name: str) -> Timed:
    return Timed(name, error(ErrorKind.SERVER_ERROR, 503))


def test_the_first_offering_may_use_the_whole_deadline_though_fallbacks_wait() -> None:
    a = Timed("a")
    gateway = build(a, Timed("b"), Timed("c"), timeout=90, max_offerings=3)

    gateway.generate(ImageRequest(model="m", prompt="x"))

    # Cutting a slow call short to make room for a fallback would pay for both.
    assert a.budgets == [pytest.approx(90, abs=1)]


def test_a_fallback_gets_the_time_the_failures_before_it_left() -> None:
    a, b, c = failing("a"), failing("b"), Timed("c")
    gateway = build(a, b, c, Timed("d"), timeout=90, max_offerings=3)

    gateway.generate(ImageRequest(model="m", prompt="x"))

    assert [a.budgets, b.budgets, c.budgets] == [[pytest.approx(90, abs=1)]] * 3


def test_a_slow_healthy_fal_job_is_waited_for_and_not_paid_for_twice(
    fal: FakeFal, replicate: FakeReplicate, make_gateway: MakeGateway
) -> None:
    # The job runs for longer than an even share of the deadline among two offerings.
    started = time.monotonic()

    def status(request: Request) -> Response:
        done = time.monotonic() - started > 0.6 * TIMEOUT
        name = "fal/status_completed" if done else "fal/status_in_progress"
        return reply(fixture(name, base=fal.url, model_id="fal-ai/flux-pro", request_id="req-1"))

    fal.on("/fal-ai/flux-pro/requests/req-1/status", status, "GET")
    fal.model("fal-ai/flux-pro/v1.1")
    replicate.model("black-forest-labs/flux-1.1-pro")
    gateway = make_gateway({**fal.env(), **replicate.env()})

    result = gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x"))

    assert result.images == [IMAGE]
    assert [attempt.provider for attempt in result.attempts] == ["fal"]
    assert fal.seen("/fal-ai/flux-pro/requests/req-1/cancel", "PUT") == []
    assert replicate.created("black-forest-labs/flux-1.1-pro") == []


def test_no_more_offerings_are_tried_than_the_budget_allows() -> None:
    a, b, c = failing("a"), failing("b"), Timed("c")
    gateway = build(a, b, c, Timed("d"), timeout=90, max_offerings=2)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert [attempt.provider for attempt in caught.value.attempts] == ["a", "b"]
    assert c.calls == []


def test_a_caller_may_ask_for_a_shorter_deadline_but_not_a_longer_one() -> None:
    a = Timed("a")
    gateway = build(a, timeout=90, max_offerings=1)

    gateway.generate(ImageRequest(model="m", prompt="x", timeout=10))
    gateway.generate(ImageRequest(model="m", prompt="x", timeout=1000))

    assert a.budgets == [pytest.approx(10, abs=1), pytest.approx(90, abs=1)]


@pytest.mark.parametrize("timeout", [0, -5, float("nan")])
def test_a_deadline_that_is_no_time_is_refused_before_any_call(timeout: float) -> None:
    a = Timed("a")
    gateway = build(a)

    with pytest.raises(RequestRefused) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x", timeout=timeout))

    assert caught.value.param == "timeout"
    assert a.calls == []


def test_the_retry_budget_is_shared_by_the_requests_calls() -> None:
    deadline = Deadline(60, retries=GatewaySettings(poll_retries=2).budget())

    shares = [deadline.share(30), deadline.share(30)]

    assert [shares[0].retries.take(), shares[1].retries.take(), shares[0].retries.take()] == [
        True,
        True,
        False,
    ]


def test_settings_come_from_the_environment() -> None:
    settings = GatewaySettings.from_env(
        {
            "GATEWAY_TIMEOUT_SECONDS": "120",
            "GATEWAY_MAX_OFFERINGS": "2",
            "GATEWAY_POLL_RETRIES": "4",
            "GATEWAY_QUOTA_REST_SECONDS": "7200",
        }
    )

    assert settings == GatewaySettings(
        timeout=120, max_offerings=2, poll_retries=4, quota_rest_seconds=7200
    )
    with Gateway(environ={"GATEWAY_QUOTA_REST_SECONDS": "7200"}) as gateway:
        assert gateway.router.policy.quota_rest_seconds == 7200


def test_a_request_may_try_fewer_offerings_than_the_settings_allow() -> None:
    a, b = failing("a"), Timed("b")
    gateway = build(a, b, max_offerings=3)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x", max_offerings=1))

    assert [attempt.provider for attempt in caught.value.attempts] == ["a"]
    assert b.calls == []


def test_a_request_may_not_try_more_offerings_than_the_settings_allow() -> None:
    a, b, c = failing("a"), failing("b"), Timed("c")
    gateway = build(a, b, c, max_offerings=2)

    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="m", prompt="x", max_offerings=4))

    assert c.calls == []


def spent(deadline: Deadline) -> int:
    """How many retries the deadline's budget holds."""
    count = 0
    while deadline.retries.take():
        count += 1
    return count


def test_a_requests_retry_budget_is_its_own_within_the_settings() -> None:
    gateway = build(Timed("a"), poll_retries=5)

    assert spent(gateway.deadline(ImageRequest(model="m", prompt="x", poll_retries=2))) == 2
    assert spent(gateway.deadline(ImageRequest(model="m", prompt="x", poll_retries=0))) == 0
    assert spent(gateway.deadline(ImageRequest(model="m", prompt="x", poll_retries=50))) == 5
    assert spent(gateway.deadline(ImageRequest(model="m", prompt="x"))) == 5


@pytest.mark.parametrize(
    ("bounds", "param"),
    [({"max_offerings": 0}, "max_offerings"), ({"poll_retries": -1}, "poll_retries")],
)
def test_bounds_that_allow_nothing_are_refused_before_any_call(
    bounds: dict[str, int], param: str
) -> None:
    a = Timed("a")
    gateway = build(a)

    with pytest.raises(RequestRefused) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x", **bounds))  # type: ignore[arg-type]

    assert caught.value.param == param
    assert a.calls == []
