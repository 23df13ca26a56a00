"""The model page's images: its competition results and its gallery.

Images still in battles stay hidden until this visitor has voted on them: otherwise anyone
could look a battle image up here and know its model before voting.
"""

from __future__ import annotations

from typing import Any

from arena.battles.models import Battle
from arena.catalog.models import AIModel, Generation

COMPETITION_IMAGES_SHOWN = 48


def model_showcase(model: AIModel, *, session_key: str | None) -> dict[str, Any]:
    """The context of the competitions and gallery sections of the model page."""
    made = Generation.objects.filter(model=model)
    public = made.public(revealed_battles=Battle.objects.revealed_to(session_key))
    return {
        "images": public.select_related("prompt").order_by(
            "-prompt__active", "prompt__arena", "-prompt__created_at"
        )[:COMPETITION_IMAGES_SHOWN],
        "hidden": made.ready().exclude(pk__in=public.values("pk")).count(),
    }
