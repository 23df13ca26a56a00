"""Which prompt and which two images a visitor sees next."""

from __future__ import annotations

import random

from django.db.models import Count

from arena.catalog.models import Generation


def battle_pick(
    *, arena: str, rng: random.Random | None = None
) -> tuple[Generation, Generation] | None:
    """Two ready images of one prompt by two different models, in random order, or None.

    Uniform for now: a random prompt with at least two competing images, then two of them.
    """
    rng = rng or random.SystemRandom()
    competing = Generation.objects.competing(arena)
    prompt_id = (
        competing.values("prompt_id")
        .annotate(images=Count("pk"))
        .filter(images__gte=2)
        .order_by("?")
        .values_list("prompt_id", flat=True)
        .first()
    )
    if prompt_id is None:
        return None
    candidates = list(competing.filter(prompt_id=prompt_id).select_related("prompt"))
    left, right = rng.sample(candidates, 2)
    return left, right
