"""Small helpers shared by the arena tests."""

from __future__ import annotations

import re

from django.test import Client

from arena.battles.models import Battle

TOKEN = re.compile(r'action="/battle/([A-Za-z0-9_-]+)/"')


def open_battle(client: Client, arena: str = "t2i") -> Battle:
    """Open a new battle page as a visitor and return the battle it shows."""
    response = client.get(f"/battle/{arena}/")
    assert response.status_code == 200, response.content[:500]
    match = TOKEN.search(response.content.decode())
    assert match, "the battle page has no vote form"
    return Battle.objects.select_related("left__model", "right__model").get(token=match[1])
