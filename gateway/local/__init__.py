"""Built-in procedural image models drawn with Pillow, of deliberately different quality.

`render` is text-to-image, `edit` applies an instruction to a picture. Both are deterministic:
any randomness is seeded from a hash of the inputs, never from global state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
from PIL import Image

from gateway.local import models
from gateway.local.edit import EDITORS, apply
from gateway.local.instruction import parse_instruction
from gateway.local.parse import PromptSpec, parse_prompt

Renderer = Callable[[PromptSpec, int, int, np.random.Generator], Image.Image]

RENDERERS: dict[str, Renderer] = {
    "lumen-xl": models.lumen,
    "prism-2": models.prism,
    "sketchbook": models.sketchbook,
    "palette": models.palette_field,
    "blockworld": models.blockworld,
}
PROMPT_BLIND = {"daydream"}


def seeded(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("\0".join(str(part) for part in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def render(model: str, prompt: str, width: int, height: int, *, variant: int = 0) -> Image.Image:
    if width < 1 or height < 1:
        raise ValueError(f"Size must be positive, not {width}x{height}.")
    if model in PROMPT_BLIND:
        # Daydream does not read the prompt; it only varies a little with it.
        return models.daydream(width, height, seeded(model, prompt, variant))
    renderer = RENDERERS.get(model)
    if renderer is None:
        raise ValueError(f"Unknown local text-to-image model '{model}'.")
    rng = seeded(model, prompt, width, height, variant)
    return renderer(parse_prompt(prompt), width, height, rng)


def edit(model: str, source: Image.Image, instruction: str) -> Image.Image:
    editor = EDITORS.get(model)
    if editor is None:
        raise ValueError(f"Unknown local editing model '{model}'.")
    return apply(editor, source.convert("RGB"), parse_instruction(instruction))
