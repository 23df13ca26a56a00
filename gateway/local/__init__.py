"""Built-in procedural image models drawn with Pillow, of deliberately different quality.

`render` is text-to-image, `edit` applies an instruction to a picture. Both draw every random
choice from a hash of their inputs and a caller's `seed`, never from global state: the same
seed gives the same bytes, another seed another rendition of the same request (layout, camera,
light, shades, textures). The seed is what keeps a battle image from being redrawn by anyone
who runs its prompt again, so it has no default.
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
from gateway.local.scene import Camera

Renderer = Callable[[PromptSpec, int, int, np.random.Generator, Camera], Image.Image]

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


def render(
    model: str, prompt: str, width: int, height: int, *, seed: int, variant: int = 0
) -> Image.Image:
    if width < 1 or height < 1:
        raise ValueError(f"Size must be positive, not {width}x{height}.")
    if model not in RENDERERS and model not in PROMPT_BLIND:
        raise ValueError(f"Unknown local text-to-image model '{model}'.")
    if min(width, height) < MIN_SIDE:
        k = MIN_SIDE / min(width, height)
        w, h = min(MAX_SIDE, round(width * k)), min(MAX_SIDE, round(height * k))
        large = render(model, prompt, w, h, seed=seed, variant=variant)
        return large.resize((width, height), Image.Resampling.LANCZOS)
    if model in PROMPT_BLIND:
        # Daydream does not read the prompt: the seed alone composes its landscape, and the
        # prompt only nudges it a little.
        return models.daydream(
            width, height, seeded(model, seed, variant), seeded(model, prompt, seed, variant)
        )
    # The camera comes from the seed alone and the rest from the prompt too: one seed frames
    # two prompts alike, and what differs between their pictures is what their words differ in.
    camera = Camera.draw(seeded(model, width, height, seed, variant))
    rng = seeded(model, prompt, width, height, seed, variant)
    return RENDERERS[model](parse_prompt(prompt), width, height, rng, camera)


def edit(
    model: str, source: Image.Image, instruction: str, *, seed: int, variant: int = 0
) -> Image.Image:
    editor = EDITORS.get(model)
    if editor is None:
        raise ValueError(f"Unknown local editing model '{model}'.")
    source = source.convert("RGB")
    width, height = source.size
    if min(width, height) < MIN_SIDE:
        k = MIN_SIDE / min(width, height)
        size = (min(MAX_SIDE, round(width * k)), min(MAX_SIDE, round(height * k)))
        large = edit(
            model,
            source.resize(size, Image.Resampling.BICUBIC),
            instruction,
            seed=seed,
            variant=variant,
        )
        return large.resize((width, height), Image.Resampling.LANCZOS)
    rng = seeded(model, instruction, width, height, seed, variant)
    return apply(editor, source, parse_instruction(instruction), rng)
