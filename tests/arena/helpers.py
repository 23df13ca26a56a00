"""Small helpers shared by the arena tests."""

from __future__ import annotations

import re
from dataclasses import replace

from django.test import Client

import gateway
from arena.battles.models import Battle
from gateway.providers.local import LocalProvider

TOKEN = re.compile(r'action="/battle/([A-Za-z0-9_-]+)/"')


def open_battle(client: Client, arena: str = "t2i") -> Battle:
    """Open a new battle page as a visitor and return the battle it shows."""
    response = client.get(f"/battle/{arena}/")
    assert response.status_code == 200, response.content[:500]
    match = TOKEN.search(response.content.decode())
    assert match, "the battle page has no vote form"
    return Battle.objects.select_related("left__model", "right__model").get(token=match[1])


def local_catalog(fail_rates: dict[str, float] | None = None) -> gateway.Catalog:
    """The shipped catalog with the simulated failure rates replaced (0 unless named)."""
    fail_rates = fail_rates or {}
    models = {
        model_id: replace(
            spec,
            offerings=tuple(
                replace(
                    offering,
                    options={**offering.options, "fail_rate": fail_rates.get(model_id, 0)},
                )
                for offering in spec.offerings
            ),
        )
        for model_id, spec in gateway.default_catalog().models.items()
    }
    return gateway.Catalog(models=models)


def use_local_gateway(fail_rates: dict[str, float] | None = None) -> gateway.Gateway:
    router = gateway.Gateway(
        catalog=local_catalog(fail_rates),
        providers={"local": LocalProvider(latency_scale=0)},
        router=gateway.Router(gateway.MemoryWindow()),
    )
    gateway.set_default_gateway(router)
    return router
