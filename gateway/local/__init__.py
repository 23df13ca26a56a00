"""Built-in procedural image models drawn with Pillow (placeholder until the real set lands)."""

from __future__ import annotations

import hashlib

from PIL import Image, ImageDraw


def render(model: str, prompt: str, width: int, height: int, *, variant: int = 0) -> Image.Image:
    seed = hashlib.sha256(f"{model}\0{prompt}\0{variant}".encode()).digest()
    image = Image.new("RGB", (width, height), tuple(seed[:3]))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=tuple(seed[3:6]))
    return image


def edit(model: str, source: Image.Image, instruction: str) -> Image.Image:
    return source.convert("L").convert("RGB")
