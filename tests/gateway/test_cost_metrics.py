"""Every attempt yields its metrics and cost, the failed ones included."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway import ErrorKind, Gateway, GatewayError, ImageRequest, MemoryWindow, Router
from tests.gateway.conftest import MakeGateway, Scripted, catalog, error, quiet_router
from tests.gateway.fakes import FakeFal, FakeGemini, FakeOpenAI, fails

REAL = "gemini-3.1-flash-lite-image"


def test_cost_is_the_catalog_price_times_the_images_returned(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/flux-pro/v1.1")
    gateway = make_gateway(
        fal.env(),
        catalog=catalog(
            "flux", {"provider": "fal", "provider_model": "fal-ai/flux-pro/v1.1", "price": "0.04"}
        ),
    )

    result = gateway.generate(ImageRequest(model="flux", prompt="x", n=3))

    (attempt,) = result.attempts
    assert (attempt.images, attempt.cost) == (3, Decimal("0.12"))
    assert sum(a.cost for a in result.attempts) == Decimal("0.12")


def test_openai_cost_follows_the_quality_asked_for(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())
    gateway = make_gateway(openai.env())

    high = gateway.generate(ImageRequest(model="gpt-image-1", prompt="x", quality="high", n=2))
    plain = gateway.generate(ImageRequest(model="gpt-image-1", prompt="x"))

    assert sum(a.cost for a in high.attempts) == Decimal("0.334")
    assert sum(a.cost for a in plain.attempts) == Decimal("0.042")


def test_failed_attempts_are_recorded_with_their_metrics_and_cost_nothing(
    gemini: FakeGemini, fal: FakeFal, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(REAL), fails("gemini/error_unavailable", 503))
    fal.model(f"fal-ai/{REAL}")
    env = {**{k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}, **fal.env()}
    gateway = make_gateway(env)
    before = datetime.now(UTC)

    result = gateway.generate(ImageRequest(model=REAL, prompt="x", n=2))

    # Gemini makes one image per call: two calls, both failed; then fal made both images.
    first, failed, made = result.attempts
    assert (first.provider, first.ok) == ("gemini", False)
    assert (failed.model, failed.provider, failed.provider_model) == (REAL, "gemini", REAL)
    assert (failed.ok, failed.http_status, failed.error_kind) == (False, 503, "server_error")
    assert "The model is overloaded" in failed.error
    assert (failed.images, failed.cost, failed.batch) == (0, Decimal("0"), False)
    assert failed.total_ms > 0
    assert before <= failed.started_at <= made.started_at
    assert failed.started_at.tzinfo is UTC
    assert (made.provider, made.provider_model) == ("fal", f"fal-ai/{REAL}")
    assert (made.ok, made.http_status, made.images, made.cost) == (True, 200, 2, Decimal("0.084"))
    assert made.ttfb_ms is not None
    assert 0 < made.ttfb_ms <= made.total_ms
    assert (made.error_kind, made.error) == (None, "")
    assert sum(a.cost for a in result.attempts) == Decimal("0.084")


def test_ttfb_of_a_queued_call_is_when_the_result_was_ready_not_the_submit(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/flux-pro/v1.1", statuses=("in_queue",) * 10 + ("completed",))
    gateway = make_gateway(
        fal.env(),
        catalog=catalog(
            "flux", {"provider": "fal", "provider_model": "fal-ai/flux-pro/v1.1", "price": "0.04"}
        ),
    )

    (attempt,) = gateway.generate(ImageRequest(model="flux", prompt="x")).attempts

    assert attempt.ttfb_ms is not None
    assert attempt.ttfb_ms >= 10 * 10  # ten polls, 10 ms apart


def test_an_error_carries_every_attempt_so_the_caller_can_store_them() -> None:
    gateway = Gateway(
        catalog=catalog(
            "m", {"provider": "a", "price": "0.01"}, {"provider": "b", "price": "0.02"}
        ),
        providers={
            "a": Scripted("a", error(ErrorKind.TIMEOUT)),
            "b": Scripted("b", error(ErrorKind.CONTENT_POLICY, 400)),
        },
        router=quiet_router(),
    )

    with pytest.raises(GatewayError) as caught:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert [(a.provider, a.error_kind, a.cost) for a in caught.value.attempts] == [
        ("a", ErrorKind.TIMEOUT, 0),
        ("b", ErrorKind.CONTENT_POLICY, 0),
    ]


def test_every_attempt_feeds_the_routing_window() -> None:
    window = MemoryWindow()
    a = Scripted("a", error(ErrorKind.SERVER_ERROR, 500), per_call=1)
    gateway = Gateway(
        catalog=catalog(
            "m", {"provider": "a", "price": "0.01"}, {"provider": "b", "price": "0.02"}
        ),
        providers={"a": a, "b": Scripted("b")},
        router=Router(window, rng=random.Random(0)),
    )

    result = gateway.generate(ImageRequest(model="m", prompt="x", n=3))

    health = window.health(["m@a", "m@b"])
    outcomes = [o.ok for o in health["m@a"].outcomes] + [o.ok for o in health["m@b"].outcomes]
    assert sorted(outcomes) == sorted(a.ok for a in result.attempts)
    assert len(outcomes) == len(result.attempts) == 4


def test_importing_the_gateway_leaves_django_out() -> None:
    code = (
        "import pkgutil, importlib, sys, gateway, tests.gateway\n"
        "for package in (gateway, tests.gateway):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "import tests.bench.gateway\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('django', 'arena')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert done.stdout.strip() == "[]"
