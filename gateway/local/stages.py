"""Partial renders: the picture as it stands at a few points of its own painting.

A streaming caller is shown these while the final image is made, as OpenAI's `partial_images`
show a gpt-image picture forming. They are the real intermediate states of this very render:
for a scene, the backdrop alone, then the farther half of the objects, then every object
before light and weather are applied; for an edit, the source, then the change before the
model's redraw. Never the final image blurred: a partial shows what the painter had done.

Each renderer marks a fixed number of stages (STAGES, EDIT_STAGES), so which ones a caller
sees is known before the first is reached and each is passed on the moment it exists. A
stage is copied out only when a caller asked (the sink is a context variable of the thread
that renders), so renders nobody watches pay nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from PIL import Image

# How many stages every text-to-image renderer marks before its final picture; an edit marks
# two (the source, the change).
STAGES = 3
EDIT_STAGES = 2

Picture = Callable[[], Image.Image]
_sink: ContextVar[Callable[[Picture], None] | None] = ContextVar("stage_sink", default=None)


def mark(picture: Picture) -> None:
    """A stage of the picture is done: `picture` draws it out, if a caller is watching."""
    if (sink := _sink.get()) is not None:
        sink(picture)


@contextmanager
def shown(
    emit: Callable[[Image.Image], None], *, wanted: int, stages: int, size: tuple[int, int]
) -> Iterator[None]:
    """Within this block, hand `wanted` of the render's `stages` to `emit`, at the final
    image's `size` (a model that paints small, or a tiny picture drawn large, is scaled)."""
    chosen = chosen_stages(wanted, stages)
    reached = itertools.count()

    def sink(picture: Picture) -> None:
        if next(reached) in chosen:
            image = picture().convert("RGB")
            emit(image if image.size == size else image.resize(size, Image.Resampling.BICUBIC))

    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def chosen_stages(wanted: int, stages: int) -> frozenset[int]:
    """Which stages to show, spread over the render and the later ones first: one partial is
    the last stage, two are the last two of three."""
    wanted = max(0, min(wanted, stages))
    return frozenset(round((k + 1) * stages / wanted) - 1 for k in range(wanted))
