"""A gateway builds itself from the environment each provider's own SDK reads."""

from __future__ import annotations

import pytest

from gateway import Gateway, MemoryWindow, RedisWindow
from gateway.providers import GeminiProvider, LocalProvider, VertexProvider
from gateway.window import Outcome, window_from_env
from tests.gateway.conftest import REDIS_TEST_URL


def test_with_no_keys_only_the_local_provider_is_there() -> None:
    with Gateway(environ={}) as gateway:
        assert list(gateway.providers) == ["local"]
        assert isinstance(gateway.providers["local"], LocalProvider)


def test_each_key_brings_its_provider_with_its_default_or_configured_base_url() -> None:
    environ = {
        "OPENAI_API_KEY": "sk",
        "GEMINI_API_KEY": "g",
        "VERTEX_API_KEY": "v",
        "VERTEX_BASE_URL": "http://127.0.0.1:9/vertex/",
        "FAL_KEY": "f",
        "REPLICATE_API_TOKEN": "r",
        "OPENROUTER_API_KEY": "or",
    }
    with Gateway(environ=environ) as gateway:
        providers = gateway.providers
        assert sorted(providers) == [
            "fal",
            "gemini",
            "local",
            "openai",
            "openrouter",
            "replicate",
            "vertex",
        ]
        assert providers["openrouter"].base_url == "https://openrouter.ai/api/v1"  # type: ignore[attr-defined]
        gemini, vertex = providers["gemini"], providers["vertex"]
        assert isinstance(gemini, GeminiProvider)
        assert isinstance(vertex, VertexProvider)
        assert gemini.base_url == "https://generativelanguage.googleapis.com"
        assert vertex.base_url == "http://127.0.0.1:9/vertex"
        assert (vertex.api_key, vertex.client) == ("v", gateway.client)


def test_generation_gets_minutes_not_seconds_and_ten_seconds_to_connect() -> None:
    with Gateway(environ={}) as gateway:
        timeout = gateway.client.timeout
        assert (gateway.timeout, timeout.read, timeout.connect) == (180, 180, 10)
    with Gateway(environ={"GATEWAY_TIMEOUT_SECONDS": "600"}) as gateway:
        assert (gateway.timeout, gateway.client.timeout.read) == (600, 600)


def test_the_window_is_in_redis_when_redis_url_is_set() -> None:
    assert isinstance(window_from_env({}), MemoryWindow)
    window = window_from_env({"REDIS_URL": REDIS_TEST_URL, "GATEWAY_WINDOW_PREFIX": "mine"})
    assert isinstance(window, RedisWindow)
    assert window.prefix == "mine"


def test_a_redis_that_is_down_leaves_routing_blind_but_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    window = RedisWindow.from_url("redis://127.0.0.1:1/15")

    assert window.record("m@a", Outcome(0, False, 1), trips=True) == 0
    window.cool_down("m@a", 10)
    assert window.health(["m@a"]) == {}
    assert "could not" in caplog.text
