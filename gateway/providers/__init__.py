"""The providers the gateway knows, and how each is configured from the environment.

Keys and base URLs come from the variables each provider's own SDK reads, so an existing setup
works as it is; a provider without its key is simply absent, and its offerings not routable.
A provider may have several keys, or deployments, each with its own rate limits and credit:
the key variable (or the same name ending in S, as `OPENAI_API_KEYS`) then lists the keys, and
the base URL variable (or `..._BASE_URLS`) the deployments, separated by commas. One key serves
every deployment, one deployment every key; otherwise the two lists pair up in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from gateway.catalog import OfferingSpec
from gateway.normalize import ParamRule, Shapes, effective_params
from gateway.providers.base import HTTPProvider, Provider
from gateway.providers.fal import FalProvider
from gateway.providers.gemini import GeminiProvider, VertexProvider
from gateway.providers.local import LocalProvider
from gateway.providers.openai import OpenAIProvider
from gateway.providers.openrouter import OpenRouterProvider
from gateway.providers.replicate import ReplicateProvider
from gateway.providers.vertex import VertexProjectProvider


@dataclass(frozen=True, slots=True)
class Service:
    kind: type[HTTPProvider]
    key_env: str
    base_env: str
    default_base: str


SERVICES: dict[str, Service] = {
    "openai": Service(
        OpenAIProvider, "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"
    ),
    "gemini": Service(
        GeminiProvider,
        "GEMINI_API_KEY",
        "GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com",
    ),
    "vertex": Service(
        VertexProvider, "VERTEX_API_KEY", "VERTEX_BASE_URL", "https://aiplatform.googleapis.com"
    ),
    "fal": Service(FalProvider, "FAL_KEY", "FAL_BASE_URL", "https://queue.fal.run"),
    "replicate": Service(
        ReplicateProvider,
        "REPLICATE_API_TOKEN",
        "REPLICATE_BASE_URL",
        "https://api.replicate.com",
    ),
    "openrouter": Service(
        OpenRouterProvider,
        "OPENROUTER_API_KEY",
        "OPENROUTER_BASE_URL",
        "https://openrouter.ai/api/v1",
    ),
}


# Every provider id, each a scope of a request's `extra` (normalize.scoped_extras).
PROVIDER_IDS = frozenset({"local", *SERVICES})


# key id -> the provider calling with that key; the id of a sole key is ""
Keyring = dict[str, Provider]


def providers_from_env(
    environ: Mapping[str, str], client: httpx.Client, *, poll_interval: float = 0.5
) -> dict[str, Keyring]:
    """The local provider, plus every remote provider whose key is set, once per key (or
    deployment)."""
    providers: dict[str, Keyring] = {"local": {"": LocalProvider()}}
    for name, service in SERVICES.items():
        pairs = deployments(environ, service)
        if pairs:
            providers[name] = {
                key_id(key, base_url) if len(pairs) > 1 else "": service.kind(
                    name=name,
                    api_key=key,
                    base_url=base_url,
                    client=client,
                    poll_interval=poll_interval,
                )
                for key, base_url in pairs
            }
    # Vertex AI in a project, when one is set, rather than in express mode with a key.
    if vertex := VertexProjectProvider.from_env(environ, client, poll_interval=poll_interval):
        providers["vertex"] = {"": vertex}
    return providers


def deployments(environ: Mapping[str, str], service: Service) -> list[tuple[str, str]]:
    """The (key, base URL) pairs the environment gives a service; none without a key."""
    keys = _listed(environ, service.key_env)
    bases = _listed(environ, service.base_env) or (service.default_base,)
    if not keys:
        return []
    if len(keys) > 1 and len(bases) > 1 and len(keys) != len(bases):
        raise ValueError(
            f"{service.key_env} lists {len(keys)} keys and {service.base_env} {len(bases)} "
            "base URLs: give one key for every base URL, one base URL for every key, or as "
            "many of each, paired in order."
        )
    width = max(len(keys), len(bases))
    return list(dict.fromkeys((keys[i % len(keys)], bases[i % len(bases)]) for i in range(width)))


def _listed(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """The items of `name`, or of `name` + "S": one, or several separated by commas."""
    given = environ.get(f"{name}S") or environ.get(name) or ""
    return tuple(dict.fromkeys(item.strip() for item in given.split(",") if item.strip()))


def key_id(api_key: str, base_url: str = "") -> str:
    """How routing and the attempt records name a key (on a deployment, its pair with the
    base URL): a short hash, so no key is stored."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:8]


def normalization_table(offering: OfferingSpec) -> dict[str, ParamRule]:
    """What the offering's provider does with each request parameter (for the model page).

    Known for every offering, configured or not: it describes the provider, not a connection.
    """
    return effective_params(_kind(offering).params, offering)


def offering_shapes(offering: OfferingSpec) -> Shapes:
    """The sizes or aspect ratios the offering takes (for the model page), configured or not."""
    return _kind(offering).shapes(offering)


def _kind(offering: OfferingSpec) -> type[LocalProvider] | type[HTTPProvider]:
    return LocalProvider if offering.provider == "local" else SERVICES[offering.provider].kind


__all__ = [
    "PROVIDER_IDS",
    "SERVICES",
    "FalProvider",
    "GeminiProvider",
    "HTTPProvider",
    "Keyring",
    "LocalProvider",
    "OpenAIProvider",
    "OpenRouterProvider",
    "Provider",
    "ReplicateProvider",
    "VertexProjectProvider",
    "VertexProvider",
    "deployments",
    "key_id",
    "normalization_table",
    "offering_shapes",
    "providers_from_env",
]
