"""Whole-picture effects shared by the renderers and the editors: light that falls across the
picture from a side, time-of-day grading, and styles (black and white, sepia, sketch, pixel art,
watercolour, oil paint). Light works on float arrays in place; styles map image to image."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from gateway.local.paint import Float

DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, -0.35),
    "right": (1.0, -0.35),
    "top": (0.0, -1.0),
    "below": (0.0, 1.0),
}


def _coords(px: Float) -> tuple[Float, Float]:
    h, w = px.shape[:2]
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    return xs, ys


def falloff(px: Float, direction: str, strength: float) -> None:
    """Brighter towards the side the light comes from, darker away from it."""
    xs, ys = _coords(px)
    if direction == "back":
        halo = np.exp(-(xs**2 + (ys + 0.2) ** 2) * 1.6)
        px *= (1 - strength * 0.5 + strength * halo)[..., None]
        return
    if direction == "front":
        px *= np.float32(1 + strength * 0.2)
        return
    dx, dy = DIRECTIONS[direction]
    norm = (dx * dx + dy * dy) ** 0.5
    along = (xs * dx + ys * dy) / norm
    px *= (1 + strength * np.clip(along, -1.2, 1.2))[..., None]


def vignette(px: Float, strength: float) -> None:
    xs, ys = _coords(px)
    px *= (1 - strength * np.clip((xs**2 + ys**2) / 2, 0, 1) ** 1.3)[..., None]


def grade(
    px: Float, gain: tuple[float, float, float], lift: tuple[float, float, float] = (0, 0, 0)
) -> None:
    px *= np.float32(gain)
    px += np.float32(lift)


def neon(px: Float) -> None:
    xs, _ = _coords(px)
    left = np.clip(-xs, 0, 1)[..., None]
    right = np.clip(xs, 0, 1)[..., None]
    px *= np.float32(0.55)
    px += px * (left * np.float32((0.9, 0.1, 0.8)) + right * np.float32((0.1, 0.8, 0.9)))
    px += left * np.float32((60, 0, 50)) + right * np.float32((0, 40, 60))


def warm_glow(px: Float, centre: tuple[float, float], strength: float) -> None:
    """Candlelight: warm near the flame, falling off into shadow."""
    xs, ys = _coords(px)
    d2 = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2
    light = np.exp(-d2 * 1.8)[..., None]
    px *= np.float32(0.35) + light * np.float32((1.0, 0.8, 0.55)) * strength


def night(px: Float) -> None:
    lum = px @ np.float32((0.299, 0.587, 0.114))
    px *= np.float32((0.28, 0.34, 0.55))
    px += lum[..., None] * np.float32((0.02, 0.04, 0.1))
    # Bright things (lamps, windows) keep some of their glow.
    hot = np.clip((lum - 200) / 55, 0, 1)[..., None]
    px += hot * np.float32((120, 100, 60))


def sunset(px: Float) -> None:
    _, ys = _coords(px)
    warm = np.clip(0.6 - ys * 0.2, 0.3, 0.8)[..., None]
    px *= np.float32((1.08, 0.86, 0.7))
    px += warm * np.float32((40, 12, -4))


def clip(px: Float) -> Image.Image:
    return Image.fromarray(np.clip(px + 0.5, 0, 255).astype(np.uint8), "RGB")


def pixels(image: Image.Image) -> Float:
    return np.asarray(image.convert("RGB"), np.float32).copy()


# --- styles ---------------------------------------------------------------------------------


def grayscale(image: Image.Image, contrast: float = 1.0) -> Image.Image:
    grey = image.convert("L")
    if contrast != 1.0:
        grey = grey.point(lambda v: max(0, min(255, round((v - 128) * contrast + 128))))
    return grey.convert("RGB")


def sepia(image: Image.Image) -> Image.Image:
    return ImageOps.colorize(image.convert("L"), (40, 26, 14), (250, 236, 206), mid=(160, 124, 88))


def sketch(image: Image.Image) -> Image.Image:
    """Pencil lines on paper: a colour-dodge of the inverted blur (the classic trick)."""
    grey = image.convert("L")
    blurred = ImageOps.invert(grey).filter(ImageFilter.GaussianBlur(max(2, image.width / 180)))
    g = np.asarray(grey, np.float32)
    b = np.asarray(blurred, np.float32)
    dodge = np.clip(g * 255 / np.maximum(1, 255 - b), 0, 255)
    lines = np.clip((dodge - 255) * 1.6 + 255, 0, 255)
    paper = np.float32((246, 242, 232)) * (lines[..., None] / 255)
    return Image.fromarray(paper.astype(np.uint8), "RGB")


def pixel_art(image: Image.Image, cells: int = 96, colours: int = 24) -> Image.Image:
    w, h = image.size
    small_w = max(1, cells * w // max(w, h))
    small_h = max(1, cells * h // max(w, h))
    small = image.resize((small_w, small_h), Image.Resampling.BOX)
    small = small.quantize(colours, method=Image.Quantize.MEDIANCUT).convert("RGB")
    return small.resize((w, h), Image.Resampling.NEAREST)


def watercolor(image: Image.Image) -> Image.Image:
    """Soft washes with darker pigment at their edges, on textured paper."""
    w, h = image.size
    small = image.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BOX)
    washed = small.filter(ImageFilter.MedianFilter(5)).resize((w, h), Image.Resampling.BICUBIC)
    px = np.asarray(washed, np.float32)
    edges = np.asarray(washed.convert("L").filter(ImageFilter.FIND_EDGES), np.float32)[..., None]
    px = px * (1 - np.clip(edges / 90, 0, 0.35))
    px = px * 0.82 + 255 * 0.18
    grain = np.random.default_rng(w * 7919 + h).random((h // 4 + 1, w // 4 + 1)).astype(np.float32)
    paper = (
        np.asarray(
            Image.fromarray((grain * 255).astype(np.uint8)).resize(
                (w, h), Image.Resampling.BICUBIC
            ),
            np.float32,
        )[..., None]
        / 255
    )
    px = px * (0.94 + 0.08 * paper)
    return clip(px)


def oil(image: Image.Image) -> Image.Image:
    """Flattened colour patches with a hint of brush texture."""
    w, h = image.size
    small = image.resize((max(1, w // 3), max(1, h // 3)), Image.Resampling.BOX)
    patches = small.filter(ImageFilter.ModeFilter(5)).resize((w, h), Image.Resampling.BICUBIC)
    px = np.asarray(patches.filter(ImageFilter.UnsharpMask(3, 120, 2)), np.float32)
    strokes = (
        np.random.default_rng(w * 31 + h).random((h // 6 + 1, w // 24 + 1)).astype(np.float32)
    )
    streaks = (
        np.asarray(
            Image.fromarray((strokes * 255).astype(np.uint8)).resize(
                (w, h), Image.Resampling.BICUBIC
            ),
            np.float32,
        )[..., None]
        / 255
    )
    return clip(px * (0.93 + 0.12 * streaks))


STYLES = {
    "bw": grayscale,
    "sepia": sepia,
    "sketch": sketch,
    "pixel": pixel_art,
    "watercolor": watercolor,
    "oil": oil,
}
