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
from tests.gateway.fakes import IMAGE, FakeFal, FakeGemini, FakeOpenAI, fails, fixture, reply

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


def test_openai_and_gemini_calls_carry_the_tokens_they_report(
    openai: FakeOpenAI, gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())
    gemini.on(gemini.path(REAL), gemini.image(REAL))
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}

    made = make_gateway(openai.env()).generate(ImageRequest(model="gpt-image-1", prompt="x"))
    drawn = make_gateway(env).generate(ImageRequest(model=REAL, prompt="x"))

    assert made.tokens == {
        "input_text": 10,
        "input_image": 0,
        "output_text": 0,
        "output_image": 1056,
    }
    assert drawn.tokens == {
        "input_text": 12,
        "input_image": 0,
        "output_text": 20,
        "output_image": 1120,
    }


def test_images_priced_per_image_report_no_tokens(fal: FakeFal, make_gateway: MakeGateway) -> None:
    fal.model("fal-ai/flux-pro/v1.1")
    gateway = make_gateway(
        fal.env(),
        catalog=catalog(
            "flux", {"provider": "fal", "provider_model": "fal-ai/flux-pro/v1.1", "price": "0.04"}
        ),
    )

    assert gateway.generate(ImageRequest(model="flux", prompt="x")).tokens is None


def test_openai_cost_is_priced_from_the_tokens_the_answer_reports(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images())
    gateway = make_gateway(openai.env())

    high = gateway.generate(ImageRequest(model="gpt-image-1", prompt="x", quality="high", n=2))
    plain = gateway.generate(ImageRequest(model="gpt-image-1", prompt="x"))

    # gpt-image-1: $5 per million text tokens in, $40 per million image tokens out.
    assert high.cost == Decimal(10 * 5 + 2 * 4160 * 40) / 1_000_000
    assert plain.cost == Decimal(10 * 5 + 1056 * 40) / 1_000_000


def test_an_openai_edit_pays_for_its_source_images_as_input_image_tokens(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/edits", openai.images())
    gateway = make_gateway(openai.env())

    result = gateway.edit(
        ImageRequest(model="gpt-image-1-mini", prompt="x", quality="low", images=(IMAGE, IMAGE))
    )

    # gpt-image-1-mini: $2 text in, $2.50 image in, $8 image out, per million tokens.
    assert result.cost == (10 * 2 + 2 * 323 * Decimal("2.5") + 272 * 8) / 1_000_000


def test_without_usage_an_openai_answer_costs_the_catalog_price_per_image(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on("/v1/images/generations", openai.images(as_url=True))
    gateway = make_gateway(openai.env())

    result = gateway.generate(ImageRequest(model="gpt-image-1", prompt="x", quality="low", n=2))

    assert result.cost == Decimal("0.022")


def test_gemini_cost_is_priced_from_usage_metadata(
    gemini: FakeGemini, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(REAL), gemini.image(REAL))
    env = {k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}

    result = make_gateway(env).generate(ImageRequest(model=REAL, prompt="x"))

    # the fixture's usageMetadata: 12 text tokens in ($0.30 per million), 1120 image tokens
    # and 20 text tokens out ($30 and $2.50 per million)
    assert result.cost == (12 * Decimal("0.30") + 1120 * 30 + 20 * Decimal("2.5")) / 1_000_000


def test_a_prompt_gemini_blocks_costs_its_input_tokens_and_says_so(
    gemini: FakeGemini, fal: FakeFal, make_gateway: MakeGateway
) -> None:
    gemini.on(gemini.path(REAL), lambda request: reply(fixture("gemini/blocked_prompt")))
    fal.model(f"fal-ai/{REAL}")
    env = {**{k: v for k, v in gemini.env().items() if k.startswith("GEMINI")}, **fal.env()}

    with pytest.raises(GatewayError) as caught:
        make_gateway(env).generate(ImageRequest(model=REAL, prompt="x"))

    (attempt,) = caught.value.attempts
    assert attempt.error_kind is ErrorKind.CONTENT_POLICY
    assert caught.value.cost == attempt.cost == 12 * Decimal("0.30") / 1_000_000
    assert "blockReason PROHIBITED_CONTENT" in caught.value.message
    assert "The provider billed $0.0000036 for it." in caught.value.message
    assert fal.submitted(f"fal-ai/{REAL}") == []


def test_fal_billed_by_the_megapixel_costs_the_images_started_megapixels(
    fal: FakeFal, make_gateway: MakeGateway
) -> None:
    fal.model("fal-ai/flux-pro/v1.1", width=1440, height=1024)
    gateway = make_gateway(fal.env())

    result = gateway.generate(ImageRequest(model="flux-1.1-pro", prompt="x", n=2))

    # 1440x1024 is 1.4 megapixels of 1024x1024, billed as 2 at $0.04
    assert result.cost == Decimal("0.16")


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
