"""A request has one deadline, split among the offerings it tries, within a retry budget; a
caller may ask for less, never for more."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import ErrorKind, Gateway, GatewayError, ImageRequest, OfferingSpec, Operation
from gateway.client import GatewaySettings
from gateway.errors import RequestRefused
from gateway.http import Deadline
from gateway.providers.base import ProviderResponse
from tests.gateway.conftest import Scripted, catalog, error, quiet_router

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


def test_the_time_left_is_split_among_the_offerings_still_to_try() -> None:
    a, b, c = failing("a"), failing("b"), Timed("c")
    gateway = build(a, b, c, Timed("d"), timeout=90, max_offerings=3)

    gateway.generate(ImageRequest(model="m", prompt="x"))

    # Each failure was instant, so what "a" did not use passed on to the others.
    assert a.budgets == [pytest.approx(30, abs=1)]
    assert b.budgets == [pytest.approx(45, abs=1)]
    assert c.budgets == [pytest.approx(90, abs=1)]


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
