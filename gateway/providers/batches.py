"""The batch APIs the gateway speaks, configured from the same variables as each provider's
direct API (gateway.providers.SERVICES): a provider with its key set gets its batch client."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from gateway.batch import BatchClient, HTTPBatchClient
from gateway.providers import SERVICES
from gateway.providers.gemini_batch import GeminiBatchClient
from gateway.providers.openai_batch import OpenAIBatchClient

BATCH_CLIENTS: dict[str, type[HTTPBatchClient]] = {
    "openai": OpenAIBatchClient,
    "gemini": GeminiBatchClient,
}


def batch_clients_from_env(
    environ: Mapping[str, str], client: httpx.Client
) -> dict[str, BatchClient]:
    clients: dict[str, BatchClient] = {}
    for name, kind in BATCH_CLIENTS.items():
        service = SERVICES[name]
        if key := environ.get(service.key_env):
            clients[name] = kind(
                name=name,
                api_key=key,
                base_url=environ.get(service.base_env) or service.default_base,
                client=client,
            )
    return clients
