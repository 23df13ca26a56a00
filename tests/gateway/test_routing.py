"""Routing: order by measured health, fall back on what may pass elsewhere, rest what fails."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gateway import (
    ErrorKind,
    Gateway,
    GatewayError,
    ImageRequest,
    MemoryWindow,
    Router,
    RoutingPolicy,
    default_catalog,
)
from gateway.window import Outcome, Window
from tests.gateway.conftest import Clock, MakeGateway, Scripted, catalog, error
from tests.gateway.fakes import IMAGE, FakeFal, FakeGemini, FakeOpenAI, FakeReplicate, fails

CATALOG = catalog(
    "m",
    {"provider": "a", "price": "0.01"},
    {"provider": "b", "price": "0.02"},
    {"provider": "c", "price": "0.03"},
    max_n=8,
)


def build(
    window: Window, *providers: Scripted, clock: Clock | None = None, **policy: Any
) -> Gateway:
    policy.setdefault("exploration", 0)
    router = Router(
        window, policy=RoutingPolicy(**policy), rng=random.Random(0), clock=clock or Clock()
    )
    return Gateway(catalog=CATALOG, providers={p.name: p for p in providers}, router=router)


def history(window: Window, key: str, clock: Clock, *outcomes: tuple[bool, float]) -> None:
    for ok, total_ms in outcomes:
        window.record(key, Outcome(clock(), ok, total_ms), trips=False)


def test_with_no_history_offerings_are_tried_in_catalog_order_until_one_succeeds(
    window: Window,
) -> None:
    a = Scripted("a", error(ErrorKind.SERVER_ERROR, 503))
    b = Scripted("b", error(ErrorKind.TIMEOUT))
    c = Scripted("c")
    gateway = build(window, a, b, c)

    result = gateway.generate(ImageRequest(model="m", prompt="x"))

    assert result.provider == "c"
    assert [(x.provider, x.ok, x.error_kind) for x in result.attempts] == [
        ("a", False, ErrorKind.SERVER_ERROR),
        ("b", False, ErrorKind.TIMEOUT),
        ("c", True, None),
    ]


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.RATE_LIMITED,
        ErrorKind.SERVER_ERROR,
        ErrorKind.EMPTY,
        ErrorKind.BAD_RESPONSE,
        ErrorKind.MODEL_FAILURE,
    ],
)
def test_retryable_failures_fall_back_to_the_next_offering(kind: ErrorKind) -> None:
    a, b = Scripted("a", error(kind)), Scripted("b")
    gateway = build(MemoryWindow(), a, b)

    result = gateway.generate(ImageRequest(model="m", prompt="x"))

    assert result.provider == "b"
    assert b.calls == [1]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ErrorKind.INVALID_REQUEST, 400),
        (ErrorKind.CONTENT_POLICY, 400),
        (ErrorKind.AUTH, 401),
        (ErrorKind.AUTH, 403),
    ],
)
def test_non_retryable_failures_stop_at_once_with_the_providers_message(
    kind: ErrorKind, status: int
) -> None:
    a, b = Scripted("a", error(kind, status)), Scripted("b")
    gateway = build(MemoryWindow(), a, b)

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert (caught.value.kind, caught.value.http_status) == (kind, status)
    assert caught.value.message.startswith(f"scripted {kind.value}")
    assert b.calls == []
    assert len(caught.value.attempts) == 1


def test_when_every_offering_fails_the_last_error_is_raised_with_every_attempt() -> None:
    gateway = build(
        MemoryWindow(),
        Scripted("a", error(ErrorKind.SERVER_ERROR, 500)),
        Scripted("b", error(ErrorKind.CONNECTION)),
        Scripted("c", error(ErrorKind.RATE_LIMITED, 429, retry_after=9)),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RATE_LIMITED, 9)
    assert [a.provider for a in caught.value.attempts] == ["a", "b", "c"]


def test_a_more_reliable_offering_goes_first(window: Window) -> None:
    clock = Clock()
    history(window, "m@a", clock, *[(True, 1000)] * 5, *[(False, 1000)] * 5)
    history(window, "m@b", clock, *[(True, 3000)] * 10)
    a, b = Scripted("a"), Scripted("b")
    gateway = build(window, a, b, clock=clock)

    result = gateway.generate(ImageRequest(model="m", prompt="x"))

    assert result.provider == "b"
    assert a.calls == []


def test_at_a_like_success_rate_the_faster_median_goes_first(window: Window) -> None:
    clock = Clock()
    # a and c succeed 29 times in 30, one 5-point step below b's 100%, so b goes first; between
    # a and c the median total time decides: c's calls, which include image generation, finish
    # sooner.
    history(window, "m@a", clock, *[(True, 9000)] * 29, (False, 100))
    history(window, "m@b", clock, *[(True, 4000)] * 10)
    history(window, "m@c", clock, *[(True, 8000)] * 29, (False, 100))
    gateway = build(window, Scripted("a"), Scripted("b"), Scripted("c"), clock=clock)

    assert gateway.generate(ImageRequest(model="m", prompt="x")).provider == "b"
    plan = gateway.router.plan(gateway.routable_offerings("m"))
    assert [o.provider for o in plan.order] == ["b", "c", "a"]


def test_outcomes_older_than_the_window_age_no_longer_count(window: Window) -> None:
    clock = Clock()
    history(window, "m@a", clock, *[(False, 100)] * 10)
    clock.advance(3601)
    gateway = build(window, Scripted("a"), Scripted("b"), clock=clock)

    assert gateway.generate(ImageRequest(model="m", prompt="x")).provider == "a"


def test_repeated_infrastructure_failures_rest_an_offering_until_it_recovers(
    window: Window,
) -> None:
    clock = Clock()
    a = Scripted("a", *[error(ErrorKind.SERVER_ERROR, 502)] * 3)
    b = Scripted("b")
    gateway = build(window, a, b, clock=clock)
    for _ in range(3):
        gateway.generate(ImageRequest(model="m", prompt="x"))
    assert a.calls == [1, 1, 1]

    gateway.generate(ImageRequest(model="m", prompt="x"))
    assert a.calls == [1, 1, 1]  # resting: not even tried
    assert gateway.router.plan(gateway.routable_offerings("m")).resting == {"m@a": 30.0}

    clock.advance(31)
    plan = gateway.router.plan(gateway.routable_offerings("m"))
    assert [o.provider for o in plan.order] == ["b", "a"]  # back, ranked by its record


def test_each_further_failure_doubles_the_rest(window: Window) -> None:
    clock = Clock()
    gateway = build(window, Scripted("a", *[error(ErrorKind.TIMEOUT)] * 4), clock=clock)
    router = gateway.router
    for _ in range(3):
        with pytest.raises(GatewayError):
            gateway.generate(ImageRequest(model="m", prompt="x"))
    clock.advance(30)
    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert router.plan(gateway.routable_offerings("m")).resting == {"m@a": 60.0}


def test_a_success_ends_the_failure_streak(window: Window) -> None:
    a = Scripted(
        "a", error(ErrorKind.TIMEOUT), error(ErrorKind.TIMEOUT), None, error(ErrorKind.TIMEOUT)
    )
    gateway = build(window, a, Scripted("b"))
    for _ in range(4):
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert gateway.router.plan(gateway.routable_offerings("m")).resting == {}


def test_a_429_rests_the_offering_for_its_retry_after(window: Window) -> None:
    clock = Clock()
    a = Scripted("a", error(ErrorKind.RATE_LIMITED, 429, retry_after=12))
    gateway = build(window, a, Scripted("b"), clock=clock)

    assert gateway.generate(ImageRequest(model="m", prompt="x")).provider == "b"
    assert gateway.router.plan(gateway.routable_offerings("m")).resting == {"m@a": 12.0}
    clock.advance(12.5)
    assert gateway.router.plan(gateway.routable_offerings("m")).resting == {}


def test_an_overloaded_answer_with_retry_after_rests_the_offering_as_asked(
    window: Window,
) -> None:
    a = Scripted("a", error(ErrorKind.SERVER_ERROR, 503, retry_after=5))
    gateway = build(window, a, Scripted("b"))

    gateway.generate(ImageRequest(model="m", prompt="x"))

    assert gateway.router.plan(gateway.routable_offerings("m")).resting == {"m@a": 5.0}


def test_when_every_offering_rests_the_call_fails_at_once_with_the_soonest_retry(
    window: Window,
) -> None:
    clock = Clock()
    a = Scripted("a", error(ErrorKind.RATE_LIMITED, 429, retry_after=40))
    b = Scripted("b", error(ErrorKind.RATE_LIMITED, 429, retry_after=20))
    c = Scripted("c", error(ErrorKind.RATE_LIMITED, 429))  # no Retry-After: the default rest
    gateway = build(window, a, b, c, clock=clock)
    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="m", prompt="x"))

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert (caught.value.kind, caught.value.retry_after) == (ErrorKind.RATE_LIMITED, 20.0)
    assert caught.value.attempts == []
    assert (a.calls, b.calls, c.calls) == ([1], [1], [1])


def test_failures_of_the_request_or_the_model_never_rest_an_offering(window: Window) -> None:
    a = Scripted("a", *[error(ErrorKind.MODEL_FAILURE)] * 5)
    gateway = build(window, a, Scripted("b"), Scripted("c"))
    for _ in range(5):
        gateway.generate(ImageRequest(model="m", prompt="x"))

    plan = gateway.router.plan(gateway.routable_offerings("m"))
    assert plan.resting == {}
    # a's failures count against it: it now ranks after c, which has no record at all.
    assert [o.provider for o in plan.order] == ["b", "c", "a"]


def test_refusals_and_bad_requests_do_not_count_against_the_provider(window: Window) -> None:
    refusing = Scripted(
        "a", *[error(ErrorKind.CONTENT_POLICY)] * 3, *[error(ErrorKind.INVALID_REQUEST)] * 3
    )
    gateway = build(window, refusing, Scripted("b"))
    for _ in range(6):
        with pytest.raises(GatewayError):
            gateway.generate(ImageRequest(model="m", prompt="x"))

    plan = gateway.router.plan(gateway.routable_offerings("m"))
    assert plan.resting == {}
    assert [o.provider for o in plan.order] == ["a", "b"]  # still first: nothing held against it


def test_a_small_share_of_calls_explores_a_lower_ranked_offering(window: Window) -> None:
    clock = Clock()
    history(window, "m@a", clock, *[(False, 100)] * 10)  # a looks broken...
    a, b = Scripted("a"), Scripted("b")
    gateway = build(window, a, b, clock=clock, exploration=1.0)  # ...but every call explores

    result = gateway.generate(ImageRequest(model="m", prompt="x"))

    assert result.provider == "a"


def test_exploration_happens_at_about_its_share() -> None:
    router = Router(MemoryWindow(), rng=random.Random(7))
    offerings = CATALOG.model("m").offerings
    first = [router.plan(offerings).order[0].provider for _ in range(2000)]

    assert 0.03 < (len(first) - first.count("a")) / len(first) < 0.07


def test_n_images_from_a_one_image_provider_are_n_parallel_calls() -> None:
    a = Scripted("a", per_call=1)
    gateway = build(MemoryWindow(), a)

    result = gateway.generate(ImageRequest(model="m", prompt="x", n=4))

    assert result.images == [IMAGE] * 4
    assert a.calls == [1, 1, 1, 1]
    assert len(result.attempts) == 4


def test_images_missing_after_some_parallel_calls_failed_come_from_the_next_offering() -> None:
    a = Scripted("a", None, error(ErrorKind.SERVER_ERROR, 500), None, None, per_call=1)
    b = Scripted("b")
    gateway = build(MemoryWindow(), a, b)

    result = gateway.generate(ImageRequest(model="m", prompt="x", n=4))

    assert len(result.images) == 4
    assert b.calls == [1]
    assert sorted((x.provider, x.ok) for x in result.attempts) == [
        ("a", False),
        ("a", True),
        ("a", True),
        ("a", True),
        ("b", True),
    ]


# --- A real catalog model over the wire ---------------------------------------------------

REAL = "gemini-3.1-flash-lite-image"


def test_a_catalog_model_falls_back_across_real_providers_over_http(
    gemini: FakeGemini,
    fal: FakeFal,
    replicate: FakeReplicate,
    make_gateway: MakeGateway,
) -> None:
    gemini.on(gemini.path(REAL), fails("gemini/error_unavailable", 503))
    gemini.on(gemini.path(REAL, "vertex"), fails("gemini/error_resource_exhausted", 429))
    fal.model(f"fal-ai/{REAL}")
    env = {**gemini.env(), **fal.env(), **replicate.env()}
    gateway = make_gateway(env, catalog=default_catalog())

    result = gateway.generate(ImageRequest(model=REAL, prompt="a red cube", size="1344x768"))

    assert result.images == [IMAGE]
    assert [(a.provider, a.ok, a.http_status) for a in result.attempts] == [
        ("gemini", False, 503),
        ("vertex", False, 429),
        ("fal", True, 200),
    ]
    assert replicate.seen("/v1/models/.*") == []


@pytest.mark.parametrize("provider", ["openai", "gemini", "vertex", "fal", "replicate"])
def test_a_catalog_model_is_routable_through_a_provider_once_its_key_is_set(
    provider: str,
    openai: FakeOpenAI,
    gemini: FakeGemini,
    fal: FakeFal,
    replicate: FakeReplicate,
    make_gateway: MakeGateway,
) -> None:
    model = "gpt-image-1" if provider == "openai" else REAL
    if provider == "openai":
        openai.on("/v1/images/generations", openai.images())
        env = openai.env()
    elif provider in ("gemini", "vertex"):
        gemini.on(gemini.path(REAL, provider), gemini.image(REAL))
        env = {k: v for k, v in gemini.env().items() if k.startswith(provider.upper())}
    elif provider == "fal":
        fal.model(f"fal-ai/{REAL}")
        env = fal.env()
    else:
        replicate.model(f"google/{REAL}")
        env = replicate.env()
    unconfigured = make_gateway({}, catalog=default_catalog())
    assert not unconfigured.is_routable(model)

    gateway = make_gateway(env, catalog=default_catalog())

    assert [o.provider for o in gateway.routable_offerings(model)] == [provider]
    result = gateway.generate(ImageRequest(model=model, prompt="a red cube"))
    assert (result.provider, result.images) == (provider, [IMAGE])
