"""The gateway's own overhead per call, what a poll error on a paid job costs, what batch
pre-generation saves, and how soon a streaming caller sees a built-in model's first partial
image.

A loopback server answers an OpenAI-compatible images endpoint with one small PNG. The same
request is made directly with httpx and through `Gateway.generate` (routing, normalization,
image check, metrics, cost), alternately; the difference of the medians is the overhead.

Then a model offered by fal and Replicate, whose fal job answers its first status poll with a
429: the request should finish through that same job, without paying Replicate as well.

Batch pre-generation: 100 prompts x 2 models through the loopback fakes of OpenAI's and
Gemini's batch APIs (tests/gateway/fakes), submitted and polled to the end: the HTTP requests
it takes and its cost at the batch price, against one direct call per image at the list price.
No Django.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import redis
from PIL import Image
from pytest_httpserver import HTTPServer

from gateway import (
    Catalog,
    Gateway,
    GatewayError,
    ImageRequest,
    MemoryWindow,
    PartialImages,
    RedisWindow,
    Router,
)
from gateway.batch import BatchGateway
from gateway.providers.local import LocalProvider
from gateway.window import Window
from tests.gateway.fakes import FakeFal, FakeReplicate, fails

CALLS = 300
WARMUP = 30
GOAL_MS = 2.0
BATCH_PROMPTS = 100
BATCH_CATALOG = {
    "models": {
        "gpt-image-1": {
            "name": "GPT Image 1",
            "organization": "OpenAI",
            "operations": ["generate"],
            "offerings": [{"provider": "openai", "price": "0.042", "batch_price": "0.021"}],
        },
        "gemini-3.1-flash-lite-image": {
            "name": "Gemini 3.1 Flash-Lite Image",
            "organization": "Google",
            "operations": ["generate"],
            "offerings": [{"provider": "gemini", "price": "0.0336", "batch_price": "0.0168"}],
        },
    }
}


def _answer() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(buffer, format="PNG")
    image = base64.b64encode(buffer.getvalue()).decode()
    return json.dumps({"created": 0, "data": [{"b64_json": image}]}).encode()


class _Images(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers and httpx's pool use
    # Headers and body leave in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms) and the figure measures the kernel, not the code.
    disable_nagle_algorithm = True
    answer = _answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _median_ms(calls: list[float]) -> float:
    return statistics.median(calls) * 1000


def _race(direct: Callable[[], object], gateway: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of each, called alternately so drift in the machine hits both alike."""
    timings: tuple[list[float], list[float]] = ([], [])
    for index in range(WARMUP + CALLS):
        for run, into in ((direct, timings[0]), (gateway, timings[1])):
            started = time.perf_counter()
            run()
            if index >= WARMUP:
                into.append(time.perf_counter() - started)
    return _median_ms(timings[0]), _median_ms(timings[1])


def _redis_window() -> tuple[RedisWindow, redis.Redis] | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        return None
    return RedisWindow(client, prefix=f"bench:gateway:{uuid.uuid4().hex}"), client


def _poll_429() -> None:
    """One request through fakes of fal and Replicate, the fal job's first poll a 429."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the figure, not a request log
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    try:
        fal, replicate = FakeFal(server, release), FakeReplicate(server, release)
        job = "/fal-ai/flux-pro/requests/req-1/status"
        fal.once(job, fails("fal/error_request", 429, {"Retry-After": "0"}), "GET")
        fal.model("fal-ai/flux-pro/v1.1")
        replicate.model("black-forest-labs/flux-1.1-pro")
        offerings = [
            {"provider": "fal", "provider_model": "fal-ai/flux-pro/v1.1", "price": "0.04"},
            {
                "provider": "replicate",
                "provider_model": "black-forest-labs/flux-1.1-pro",
                "price": "0.04",
            },
        ]
        model = {"name": "Flux", "organization": "Bench", "operations": ["generate"]}
        catalog = Catalog.from_dict({"models": {"flux": {**model, "offerings": offerings}}})
        with Gateway(
            catalog=catalog,
            environ=fal.env() | replicate.env(),
            router=Router(MemoryWindow(), rng=random.Random(0)),
            poll_interval=0.01,
        ) as gateway:
            result = gateway.generate(ImageRequest(model="flux", prompt="a red cube"))
        jobs = len(fal.submitted("fal-ai/flux-pro/v1.1")) + len(
            replicate.created("black-forest-labs/flux-1.1-pro")
        )
        charged = [attempt for attempt in result.attempts if attempt.cost]
        total = sum(attempt.cost for attempt in result.attempts)
        finished = f"{result.provider} job {result.attempts[-1].provider_request_id}"
        verdict = "ok" if jobs == 1 and len(charged) == 1 else "PAID TWICE OR LOST THE JOB"
        print(
            f"poll 429 on the first offering's job: {len(server.log)} HTTP calls, {jobs} job "
            f"submitted, {len(result.attempts)} attempt(s), {len(charged)} charge(s) "
            f"${total:.2f}, finished by {finished} (goal: one job, one charge: {verdict})"
        )
    finally:
        release.set()
        server.clear()
        server.stop()


def main() -> None:
    _overhead()
    _poll_429()
    _first_streamed_event()


STREAMED_CALLS = 15
STREAMED_MODELS = ("lumen-xl", "prism-2", "daydream")


def _first_streamed_event() -> None:
    """How soon a streaming caller sees something of a built-in model's picture: the first of
    three partial images (its backdrop, gateway.local.stages) against the final image, both
    from the start of `Gateway.generate`, 1024x1024, no simulated latency."""
    gateway = Gateway(environ={"GATEWAY_LOCAL_LATENCY_SCALE": "0"}, router=Router(MemoryWindow()))
    gateway.providers["local"] = LocalProvider(latency_scale=0)
    print(
        f"time to the first streamed event, median of {STREAMED_CALLS} calls, 1024x1024, "
        "partial_images=3, no simulated latency:"
    )
    for model in STREAMED_MODELS:
        firsts: list[float] = []
        finals: list[float] = []
        for call in range(STREAMED_CALLS + 1):  # the first call warms the renderer's imports
            shown: list[float] = []
            started = time.perf_counter()
            try:
                gateway.generate(
                    ImageRequest(
                        model=model, prompt=f"a red cube on a table, take {call}", size="1024x1024"
                    ),
                    partials=PartialImages(
                        3, lambda _, into=shown: into.append(time.perf_counter())
                    ),
                )
            except GatewayError:
                continue  # the catalog's simulated failures: not a render to time
            if call:
                firsts.append(shown[0] - started)
                finals.append(time.perf_counter() - started)
        print(
            f"  {model:<10} first partial image {_median_ms(firsts):6.0f} ms, "
            f"final image {_median_ms(finals):6.0f} ms"
        )
    gateway.close()


def _overhead() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    catalog = Catalog.from_dict(
        {
            "models": {
                "bench": {
                    "name": "Bench",
                    "organization": "Bench",
                    "operations": ["generate"],
                    "offerings": [{"provider": "openai", "price": "0.04"}],
                }
            }
        }
    )
    request = ImageRequest(model="bench", prompt="a red cube", size="1024x1024")
    body = {"model": "bench", "prompt": request.prompt, "n": 1, "size": request.size}
    headers = {"Authorization": "Bearer bench"}
    redis_window = _redis_window()
    windows: list[tuple[str, Window]] = [("memory window", MemoryWindow())]
    if redis_window:
        windows.append(("Redis window", redis_window[0]))

    print(f"median of {CALLS} calls each, after {WARMUP} warm-up calls, loopback server")
    with httpx.Client() as client:

        def direct() -> bytes:
            response = client.post(f"{base}/images/generations", json=body, headers=headers)
            return base64.b64decode(response.json()["data"][0]["b64_json"])

        for label, window in windows:
            with Gateway(
                catalog=catalog,
                environ={"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": base},
                router=Router(window),
            ) as gateway:
                direct_ms, gateway_ms = _race(direct, lambda: gateway.generate(request))
            overhead = gateway_ms - direct_ms
            verdict = "ok" if overhead < GOAL_MS else "OVER GOAL"
            print(
                f"  {label:14} direct httpx {direct_ms:6.3f} ms   gateway.generate "
                f"{gateway_ms:6.3f} ms   overhead {overhead:6.3f} ms  "
                f"(goal < {GOAL_MS:g} ms: {verdict})"
            )
    server.shutdown()
    if redis_window:
        window, redis_client = redis_window
        keys = list(redis_client.scan_iter(f"{window.prefix}:*"))
        if keys:
            redis_client.delete(*keys)
    batch_pregeneration()


def batch_pregeneration() -> None:
    # The fakes live with the tests (pytest-httpserver), so only this figure needs them.
    from pytest_httpserver import HTTPServer

    from tests.gateway.fakes import FakeGeminiBatch, FakeOpenAIBatch

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access line per request
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    fakes = [FakeOpenAIBatch(server, release), FakeGeminiBatch(server, release)]
    environ = {key: value for fake in fakes for key, value in fake.env().items()}
    prompts = [
        f"prompt {index}: a red cube beside a blue sphere" for index in range(BATCH_PROMPTS)
    ]
    print(
        f"batch pre-generation of {BATCH_PROMPTS} prompts x 2 models, loopback fakes of "
        "OpenAI's and Gemini's batch APIs"
    )
    total_requests = total_images = 0
    batch_cost = direct_cost = Decimal(0)
    with BatchGateway(catalog=Catalog.from_dict(BATCH_CATALOG), environ=environ) as batches:
        for model_id in BATCH_CATALOG["models"]:
            offering = batches.offering(model_id)
            assert offering is not None
            before = len(server.log)
            requests = {
                str(index): ImageRequest(model=model_id, prompt=prompt, size="1024x1024")
                for index, prompt in enumerate(prompts)
            }
            submission = batches.submit(offering, requests, label=f"bench-{model_id}")
            submitted_at = datetime.now(UTC)
            polls = 0
            while True:
                polls += 1
                poll = batches.poll(
                    offering, submission.batch_id, keys=list(requests), submitted_at=submitted_at
                )
                if poll.state.ended:
                    break
            made = sum(len(line.images) for line in poll.lines)
            cost = sum((line.attempt.cost for line in poll.lines), Decimal(0))
            listed = offering.price * len(requests)
            made_requests = len(server.log) - before
            print(
                f"  {offering.key:36} {made_requests:3} HTTP requests ({polls} polls) for "
                f"{made} images; ${cost:.2f} at the batch price vs ${listed:.2f} direct "
                f"({len(requests)} calls)"
            )
            total_requests += made_requests
            total_images += made
            batch_cost += cost
            direct_cost += listed
    saved = 100 * (1 - batch_cost / direct_cost)
    print(
        f"  {'total':36} {total_requests:3} HTTP requests for {total_images} images "
        f"(direct: {total_images} calls); ${batch_cost:.2f} vs ${direct_cost:.2f}, "
        f"{saved:.0f}% saved"
    )
    release.set()
    server.clear()
    server.stop()


if __name__ == "__main__":
    main()
