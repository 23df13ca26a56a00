"""Several keys for one provider: taken in turn, each resting on its own rate limit or want of
credit while the others carry on, and named in the window by a short hash, never the key."""

from __future__ import annotations

import pytest
from werkzeug import Request, Response

from gateway import ErrorKind, Gateway, GatewayError, ImageRequest, Router, RoutingPolicy
from gateway.providers import key_id
from gateway.window import MemoryWindow, RedisWindow, Window
from tests.gateway.conftest import Clock, MakeGateway, catalog
from tests.gateway.fakes import FakeOpenAI, FakeOpenRouter, fixture, reply

PATH = "/v1/images/generations"
CATALOG = catalog("m", {"provider": "openai", "price": "0.04", "max_n_per_call": 1})


def keys_env(openai: FakeOpenAI, value: str, name: str = "OPENAI_API_KEY") -> dict[str, str]:
    return {name: value, "OPENAI_BASE_URL": f"{openai.url}/v1"}


def kid(openai: FakeOpenAI, key: str) -> str:
    """The id of `key` on the fake's deployment."""
    return key_id(key, f"{openai.url}/v1")


def used_keys(openai: FakeOpenAI) -> list[str]:
    return [r.headers["Authorization"].removeprefix("Bearer ") for r in openai.seen(PATH)]


def limited(openai: FakeOpenAI, *keys: str, fixture_name: str = "openai/error_rate_limit"):  # type: ignore[no-untyped-def]
    """The images, except for `keys`, which get the error of `fixture_name` (a 429)."""
    images = openai.images()

    def handle(request: Request) -> Response:
        if request.headers["Authorization"].removeprefix("Bearer ") in keys:
            return reply(fixture(fixture_name), 429, {"Retry-After": "20"})
        return images(request)

    return handle


def router(window: Window, clock: Clock | None = None) -> Router:
    return Router(window, policy=RoutingPolicy(exploration=0), clock=clock or Clock())


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "OPENAI_API_KEYS"])
def test_a_list_of_keys_gives_one_provider_per_key_named_by_a_hash(name: str) -> None:
    with Gateway(environ={name: "k1, k2,k1"}) as gateway:
        keyring = gateway.keyrings["openai"]
        default = "https://api.openai.com/v1"
        assert list(keyring) == [key_id("k1", default), key_id("k2", default)]
        assert [provider.api_key for provider in keyring.values()] == ["k1", "k2"]  # type: ignore[attr-defined]
        assert len(key_id("k1", default)) == 8
        assert gateway.router.key_ids["openai"] == tuple(keyring)


def test_a_sole_key_keeps_the_windows_names_as_they_were() -> None:
    with Gateway(environ={"OPENAI_API_KEY": "k1"}) as gateway:
        assert list(gateway.keyrings["openai"]) == [""]


def test_calls_take_the_keys_in_turn(openai: FakeOpenAI, make_gateway: MakeGateway) -> None:
    openai.on(PATH, openai.images())
    gateway = make_gateway(keys_env(openai, "k1,k2"), catalog=CATALOG)

    for _ in range(4):
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert used_keys(openai) == ["k1", "k2", "k1", "k2"]


def test_parallel_calls_of_one_request_spread_over_the_keys(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(PATH, openai.images())
    gateway = make_gateway(keys_env(openai, "k1,k2"), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="m", prompt="x", n=2))

    assert len(result.images) == 2
    assert sorted(used_keys(openai)) == ["k1", "k2"]
    assert sorted(a.key_id for a in result.attempts) == sorted(
        [kid(openai, "k1"), kid(openai, "k2")]
    )


def test_a_rate_limited_key_hands_the_call_to_the_next_and_rests_alone(
    openai: FakeOpenAI, make_gateway: MakeGateway, window: Window
) -> None:
    openai.on(PATH, limited(openai, "k1"))
    gateway = make_gateway(keys_env(openai, "k1,k2"), catalog=CATALOG, router=router(window))

    result = gateway.generate(ImageRequest(model="m", prompt="x"))

    assert len(result.images) == 1  # the same request, through the second key
    first, second = result.attempts
    assert (first.key_id, first.error_kind) == (kid(openai, "k1"), ErrorKind.RATE_LIMITED)
    assert (second.key_id, second.ok) == (kid(openai, "k2"), True)
    for _ in range(3):
        gateway.generate(ImageRequest(model="m", prompt="x"))
    assert used_keys(openai) == ["k1", "k2", "k2", "k2", "k2"]  # k1 rests, the offering not


def test_when_every_key_is_rate_limited_the_offering_rests(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(PATH, limited(openai, "k1", "k2"))
    clock = Clock()
    gateway = make_gateway(
        keys_env(openai, "k1,k2"), catalog=CATALOG, router=router(MemoryWindow(), clock)
    )
    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="m", prompt="x"))
    assert used_keys(openai) == ["k1", "k2"]

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="m", prompt="x"))

    assert raised.value.kind is ErrorKind.RATE_LIMITED
    assert raised.value.retry_after == pytest.approx(20)  # the fixture's Retry-After
    assert len(openai.seen(PATH)) == 2
    clock.advance(21)
    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="m", prompt="x"))
    assert len(openai.seen(PATH)) == 4  # both back, both tried again


def test_a_key_out_of_credit_rests_alone_and_the_provider_only_when_all_are(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    broke = {"k1"}
    images = openai.images()

    def handle(request: Request) -> Response:
        if request.headers["Authorization"].removeprefix("Bearer ") in broke:
            return reply(fixture("openai/error_insufficient_quota"), 429)
        return images(request)

    openai.on(PATH, handle)
    gateway = make_gateway(keys_env(openai, "k1,k2"), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="m", prompt="x"))

    assert result.attempts[0].error_kind is ErrorKind.QUOTA_EXHAUSTED
    assert result.attempts[1].ok
    assert gateway.router.provider_rest("openai") is None  # k2 still has credit
    broke.add("k2")
    with pytest.raises(GatewayError):
        gateway.generate(ImageRequest(model="m", prompt="x"))
    assert gateway.router.provider_rest("openai") == pytest.approx(3600, abs=5)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="m", prompt="x"))
    assert raised.value.kind is ErrorKind.QUOTA_EXHAUSTED
    calls = len(openai.seen(PATH))

    broke.clear()
    gateway.router.release("openai")  # an operator topped up: every key is back
    gateway.generate(ImageRequest(model="m", prompt="x"))
    assert gateway.router.provider_rest("openai") is None
    assert len(openai.seen(PATH)) == calls + 1


def stored_names(window: Window) -> list[str]:
    """Every name the window stores something under."""
    if isinstance(window, RedisWindow):
        return list(window.client.scan_iter(f"{window.prefix}:*"))
    assert isinstance(window, MemoryWindow)
    return [*window._outcomes, *window._streaks, *window._cooling]


def test_the_window_names_a_key_by_its_hash_and_holds_no_key(
    openai: FakeOpenAI, make_gateway: MakeGateway, window: Window
) -> None:
    openai.on(PATH, limited(openai, "sk-secret-one"))
    gateway = make_gateway(
        keys_env(openai, "sk-secret-one,sk-secret-two"), catalog=CATALOG, router=router(window)
    )

    gateway.generate(ImageRequest(model="m", prompt="x"))

    names = stored_names(window)
    assert any(f"m@openai#{kid(openai, 'sk-secret-one')}" in name for name in names)
    assert not any("secret" in name for name in names)


def test_every_provider_takes_several_keys(
    openrouter: FakeOpenRouter, make_gateway: MakeGateway
) -> None:
    openrouter.on(FakeOpenRouter.PATH, openrouter.answer())
    gateway = make_gateway(
        openrouter.env("or-1,or-2"),
        catalog=catalog("m", {"provider": "openrouter", "price": "0.03"}),
    )

    gateway.generate(ImageRequest(model="m", prompt="x"))
    gateway.generate(ImageRequest(model="m", prompt="x"))

    assert openrouter.keys == ["or-1", "or-2"]


def test_deployments_each_with_its_base_url_take_turns_and_rest_alone(
    openai: FakeOpenAI, make_gateway: MakeGateway
) -> None:
    openai.on(PATH, limited(openai, "k1"))
    openai.on("/v2/images/generations", openai.images())
    environ = {"OPENAI_API_KEYS": "k1,k2", "OPENAI_BASE_URLS": f"{openai.url}/v1,{openai.url}/v2"}
    gateway = make_gateway(environ, catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="m", prompt="x"))
    gateway.generate(ImageRequest(model="m", prompt="x"))

    assert [a.ok for a in result.attempts] == [False, True]  # v1 limited, v2 made it
    assert len(openai.seen(PATH)) == 1  # v1 rests; the second request went to v2 alone
    assert len(openai.seen("/v2/images/generations")) == 2


def test_one_key_serves_every_deployment() -> None:
    environ = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URLS": "http://a.test/v1,http://b.test/v1"}
    with Gateway(environ=environ) as gateway:
        bases = [p.base_url for p in gateway.keyrings["openai"].values()]  # type: ignore[attr-defined]
    assert bases == ["http://a.test/v1", "http://b.test/v1"]


def test_keys_and_deployments_that_do_not_pair_up_are_refused_with_a_reason() -> None:
    environ = {"OPENAI_API_KEYS": "k1,k2,k3", "OPENAI_BASE_URLS": "http://a.test,http://b.test"}
    with pytest.raises(ValueError, match="3 keys and OPENAI_BASE_URL 2 base URLs"):
        Gateway(environ=environ)
