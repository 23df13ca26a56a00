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
from gateway.local.editors import EDITORS, apply
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


# Layout and textures assume some room; tiny pictures are drawn at this size and scaled down.
MIN_SIDE = 96
MAX_SIDE = 4096


def render(model: str, prompt: str, width: int, height: int, *, variant: int = 0) -> Image.Image:
    if width < 1 or height < 1:
        raise ValueError(f"Size must be positive, not {width}x{height}.")
    if model not in RENDERERS and model not in PROMPT_BLIND:
        raise ValueError(f"Unknown local text-to-image model '{model}'.")
    if min(width, height) < MIN_SIDE:
        k = MIN_SIDE / min(width, height)
        w, h = min(MAX_SIDE, round(width * k)), min(MAX_SIDE, round(height * k))
        large = render(model, prompt, w, h, variant=variant)
        return large.resize((width, height), Image.Resampling.LANCZOS)
    if model in PROMPT_BLIND:
        # Daydream does not read the prompt; it only varies a little with it.
        return models.daydream(width, height, seeded(model, prompt, variant))
    rng = seeded(model, prompt, width, height, variant)
    return RENDERERS[model](parse_prompt(prompt), width, height, rng)


def edit(model: str, source: Image.Image, instruction: str) -> Image.Image:
    editor = EDITORS.get(model)
    if editor is None:
        raise ValueError(f"Unknown local editing model '{model}'.")
    source = source.convert("RGB")
    width, height = source.size
    if min(width, height) < MIN_SIDE:
        k = MIN_SIDE / min(width, height)
        size = (min(MAX_SIDE, round(width * k)), min(MAX_SIDE, round(height * k)))
        large = edit(model, source.resize(size, Image.Resampling.BICUBIC), instruction)
        return large.resize((width, height), Image.Resampling.LANCZOS)
    return apply(editor, source, parse_instruction(instruction))
