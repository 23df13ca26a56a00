"""Gateway test fixtures: loopback fake servers and gateways pointed at them. No Django."""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
import redis
from pytest_httpserver import HTTPServer

from gateway import (
    Catalog,
    ErrorKind,
    Gateway,
    ImageRequest,
    MemoryWindow,
    OfferingSpec,
    Operation,
    RedisWindow,
    Router,
    RoutingPolicy,
)
from gateway.batch import BatchGateway
from gateway.errors import ProviderError
from gateway.http import Deadline
from gateway.normalize import ParamTable
from gateway.providers import LocalProvider
from gateway.providers.base import ProviderResponse
from gateway.window import Window
from tests.gateway.fakes import (
    IMAGE,
    FakeFal,
    FakeGemini,
    FakeGeminiBatch,
    FakeOpenAI,
    FakeOpenAIBatch,
    FakeOpenRouter,
    FakeReplicate,
)

# A provider call's budget: ample for a loopback answer even on a busy machine...
TIMEOUT = 2.0
# ...and the short one the tests of a hung provider use, so they take a fraction of a second.
SHORT_TIMEOUT = 0.3

MakeGateway = Callable[..., Gateway]


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """The plugin's server, but threaded: the gateway makes parallel calls and downloads."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set when the test ends, so a fake that hangs on purpose lets go of its thread."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def openai(httpserver: HTTPServer, release: threading.Event) -> FakeOpenAI:
    return FakeOpenAI(httpserver, release)


@pytest.fixture
def gemini(httpserver: HTTPServer, release: threading.Event) -> FakeGemini:
    return FakeGemini(httpserver, release)


@pytest.fixture
def fal(httpserver: HTTPServer, release: threading.Event) -> FakeFal:
    return FakeFal(httpserver, release)


@pytest.fixture
def replicate(httpserver: HTTPServer, release: threading.Event) -> FakeReplicate:
    return FakeReplicate(httpserver, release)


def catalog(model_id: str, *offerings: dict[str, Any], **model: Any) -> Catalog:
    """A one-model catalog: `catalog("m", {"provider": "openai", "price": "0.04"})`."""
    entry = {
        "name": model_id,
        "organization": "Tests",
        "operations": ["generate", "edit"],
        "max_input_images": 2,
        **model,
        "offerings": list(offerings),
    }
    return Catalog.from_dict({"models": {model_id: entry}})


def quiet_router(**policy: Any) -> Router:
    """A router that never explores, so the order of calls is the order the test expects."""
    return Router(
        MemoryWindow(), policy=RoutingPolicy(exploration=0, **policy), rng=random.Random(0)
    )


@pytest.fixture
def make_gateway() -> Iterator[MakeGateway]:
    made: list[Gateway] = []

    def make(env: dict[str, str], **kwargs: Any) -> Gateway:
        kwargs.setdefault("router", quiet_router())
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("poll_interval", 0.01)
        gateway = Gateway(environ=env, **kwargs)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


class Scripted:
    """An in-process provider whose answers a test scripts, for routing without a network.

    Each call takes the next outcome: an error to raise, or None for success (as many images
    as asked). When the script runs out, calls succeed.
    """

    params: ClassVar[ParamTable] = LocalProvider.params
    extra_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        name: str,
        *outcomes: ProviderError | None,
        per_call: int = 10,
    ) -> None:
        self.name = name
        self.outcomes = list(outcomes)
        self.per_call = per_call
        self.calls: list[int] = []  # n asked for, per call
        self._lock = threading.Lock()

    def configured(self) -> bool:
        return True

    def images_per_call(self, offering: OfferingSpec) -> int:
        return self.per_call

    def call(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline,
    ) -> ProviderResponse:
        with self._lock:
            self.calls.append(request.n)
            outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return ProviderResponse(images=[IMAGE] * request.n, http_status=200, ttfb_ms=1.0)


def error(
    kind: ErrorKind, status: int | None = None, retry_after: float | None = None
) -> ProviderError:
    return ProviderError(
        kind, f"scripted {kind.value}", http_status=status, retry_after=retry_after
    )


class Clock:
    """A clock a test moves by hand, for rests and the age of outcomes."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# The Redis database of this test process (tests/services.py gives each xdist worker its own):
# another worker's tests clear theirs between tests, which would wipe a window under test.
REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", "redis"])
def window(request: pytest.FixtureRequest) -> Iterator[Window]:
    """Both window stores; Redis on db 15 under a prefix of this test's own, removed after.

    Without Redis the Redis half is skipped, except under CI=true, where it must run.
    """
    if request.param == "memory":
        yield MemoryWindow()
        return
    client = redis.Redis.from_url(REDIS_TEST_URL, decode_responses=True, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true needs Redis at {REDIS_TEST_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}")
    prefix = f"test-gateway:{uuid.uuid4().hex}"
    yield RedisWindow(client, prefix=prefix)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def openai_batch(httpserver: HTTPServer, release: threading.Event) -> FakeOpenAIBatch:
    return FakeOpenAIBatch(httpserver, release)


@pytest.fixture
def gemini_batch(httpserver: HTTPServer, release: threading.Event) -> FakeGeminiBatch:
    return FakeGeminiBatch(httpserver, release)


@pytest.fixture
def make_batches() -> Iterator[Callable[..., BatchGateway]]:
    made: list[BatchGateway] = []

    def make(env: dict[str, str], **kwargs: Any) -> BatchGateway:
        kwargs.setdefault("timeout", TIMEOUT)
        batches = BatchGateway(environ=env, **kwargs)
        made.append(batches)
        return batches

    yield make
    for batches in made:
        batches.close()


@pytest.fixture
def openrouter(httpserver: HTTPServer, release: threading.Event) -> FakeOpenRouter:
    return FakeOpenRouter(httpserver, release)
