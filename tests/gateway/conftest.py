"""Gateway test fixtures: loopback fake servers and gateways pointed at them. No Django."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from gateway import Catalog, Gateway, MemoryWindow, Router, RoutingPolicy
from tests.gateway.fakes import FakeFal, FakeGemini, FakeOpenAI, FakeReplicate

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
