"""Whole-picture effects shared by the renderers and the editors: light that falls across the
picture from a side, time-of-day grading, and styles (black and white, sepia, sketch, pixel art,
watercolour, oil paint). Light works on float arrays in place; styles map image to image, and
take the rendition's generator for what a hand would do differently each time (a black and white
film's filter, the pencil's stroke, the paper's grain)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from gateway.local.paint import Float, vec

DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, -0.35),
    "right": (1.0, -0.35),
    "top": (0.0, -1.0),
    "below": (0.0, 1.0),
}


def coordinates(px: Float) -> tuple[Float, Float]:
    h, w = px.shape[:2]
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    return xs, ys


def falloff(px: Float, direction: str, strength: float) -> None:
    """Brighter towards the side the light comes from, darker away from it."""
    xs, ys = coordinates(px)
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
    xs, ys = coordinates(px)
    px *= (1 - strength * np.clip((xs**2 + ys**2) / 2, 0, 1) ** 1.3)[..., None]


def grade(
    px: Float, gain: tuple[float, float, float], lift: tuple[float, float, float] = (0, 0, 0)
) -> None:
    px *= vec(gain)
    px += vec(lift)


def neon(px: Float) -> None:
    xs, _ = coordinates(px)
    left = np.clip(-xs, 0, 1)[..., None]
    right = np.clip(xs, 0, 1)[..., None]
    px *= np.float32(0.55)
    px += px * (left * vec((0.9, 0.1, 0.8)) + right * vec((0.1, 0.8, 0.9)))
    px += left * vec((60, 0, 50)) + right * vec((0, 40, 60))


def warm_glow(px: Float, centre: tuple[float, float], strength: float) -> None:
    """Candlelight: warm near the flame, falling off into shadow."""
    xs, ys = coordinates(px)
    d2 = (xs - centre[0]) ** 2 + (ys - centre[1]) ** 2
    light = np.exp(-d2 * 1.8)[..., None]
    px *= np.float32(0.35) + light * vec((1.0, 0.8, 0.55)) * strength


def night(px: Float) -> None:
    lum = px @ vec((0.299, 0.587, 0.114))
    px *= vec((0.28, 0.34, 0.55))
    px += lum[..., None] * vec((0.02, 0.04, 0.1))
    # Bright things (lamps, windows) keep some of their glow.
    hot = np.clip((lum - 200) / 55, 0, 1)[..., None]
    px += hot * vec((120, 100, 60))


def sunset(px: Float) -> None:
    _, ys = coordinates(px)
    warm = np.clip(0.6 - ys * 0.2, 0.3, 0.8)[..., None]
    px *= vec((1.08, 0.86, 0.7))
    px += warm * vec((40, 12, -4))


def clip(px: Float) -> Image.Image:
    return Image.fromarray(np.clip(px + 0.5, 0, 255).astype(np.uint8), "RGB")


def pixels(image: Image.Image) -> Float:
    return np.asarray(image.convert("RGB"), np.float32).copy()


# --- styles ---------------------------------------------------------------------------------


def grayscale(image: Image.Image, rng: np.random.Generator, contrast: float = 1.0) -> Image.Image:
    # Black and white film sees colours as different greys depending on its filter: a red
    # filter darkens the sky, a green one lightens leaves.
    mix = np.clip(np.array([0.299, 0.587, 0.114]) + rng.uniform(-0.15, 0.15, 3), 0.03, None)
    weights = mix / mix.sum()
    grey = image.convert("RGB").convert("L", (*weights.tolist(), 0.0))
    contrast *= rng.uniform(0.9, 1.2)
    if contrast != 1.0:
        grey = grey.point(lambda v: max(0, min(255, round((v - 128) * contrast + 128))))
    return grey.convert("RGB")


def sepia(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    warm = rng.uniform(-12, 12)
    dark = (round(40 + warm / 2), 26, round(14 - warm / 3))
    mid = (round(160 + warm), round(124 + warm / 3), round(88 - warm))
    grey = grayscale(image, rng).convert("L")
    return ImageOps.colorize(grey, dark, (250, 236, 206), mid=mid)


def sketch(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Pencil on paper: outlines from a colour-dodge of the inverted blur (the classic trick),
    tone from diagonal hatching that gets denser where the picture is dark."""
    grey = image.convert("L")
    w, h = image.size
    blurred = ImageOps.invert(grey).filter(ImageFilter.GaussianBlur(max(2, w / 180)))
    g = np.asarray(grey, np.float32)
    b = np.asarray(blurred, np.float32)
    dodge = np.clip(g * 255 / np.maximum(1, 255 - b), 0, 255)
    lines = np.clip((dodge - 255) * 2.2 + 255, 0, 255) / 255
    tone = np.asarray(grey.filter(ImageFilter.GaussianBlur(max(2, w / 120))), np.float32) / 255
    period = max(5, round(w / 110 * rng.uniform(0.8, 1.5)))
    ys, xs = np.ogrid[:h, :w]
    lean = 1 if rng.random() < 0.5 else -1  # which way the hand hatches first
    hatch = ((xs + lean * ys) % period < max(1, period // 4)).astype(np.float32)
    cross = ((xs - lean * ys) % period < max(1, period // 4)).astype(np.float32)
    heavy = rng.uniform(0.65, 0.85)
    shade = np.clip(heavy - tone, 0, 1) * hatch * 0.9 + np.clip(0.4 - tone, 0, 1) * cross * 1.2
    pencil = lines * (1 - np.clip(shade, 0, 0.85))
    paper = vec((246, 242, 232)) * pencil[..., None]
    return Image.fromarray(paper.astype(np.uint8), "RGB")


def pixel_art(
    image: Image.Image, rng: np.random.Generator, cells: int = 96, colours: int = 24
) -> Image.Image:
    w, h = image.size
    cells = round(cells * rng.uniform(0.75, 1.2))
    small_w = max(1, cells * w // max(w, h))
    small_h = max(1, cells * h // max(w, h))
    small = image.resize((small_w, small_h), Image.Resampling.BOX)
    small = small.quantize(colours, method=Image.Quantize.MEDIANCUT).convert("RGB")
    return small.resize((w, h), Image.Resampling.NEAREST)


def watercolor(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Flat washes of a few dozen colours, pigment pooling darker at their edges, a little
    bleeding, on grainy paper."""
    w, h = image.size
    small = image.reduce(3).filter(ImageFilter.GaussianBlur(1))
    washes = small.quantize(28, method=Image.Quantize.MEDIANCUT).convert("RGB")
    edges = washes.convert("L").filter(ImageFilter.FIND_EDGES).filter(ImageFilter.GaussianBlur(1))
    bled = washes.filter(ImageFilter.GaussianBlur(0.8)).resize((w, h), Image.Resampling.BICUBIC)
    rims = edges.resize((w, h), Image.Resampling.BILINEAR)
    px: Float = np.asarray(bled, np.float32)
    px = px * (1 - np.clip(np.asarray(rims, np.float32)[..., None] / 50, 0, 0.3))
    px = px * 0.84 + 255 * 0.16
    grain = rng.random((h // 3 + 1, w // 3 + 1)).astype(np.float32)
    paper = Image.fromarray((grain * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    px = px * (0.95 + 0.07 * np.asarray(paper, np.float32)[..., None] / 255)
    return clip(px)


def oil(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Smoothed colour patches, richer colour, and raised brush strokes catching the light."""
    w, h = image.size
    small = image.reduce(4).filter(ImageFilter.MedianFilter(3))
    patches = small.resize((w, h), Image.Resampling.BICUBIC)
    px = np.asarray(ImageEnhance.Color(patches).enhance(1.2), np.float32)
    strokes = rng.random((h // 5 + 1, w // 18 + 1)).astype(np.float32)
    field = Image.fromarray((strokes * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    ridges = np.asarray(field, np.float32) / 255
    relief = np.gradient(ridges, axis=0) * 0.5 + (ridges - 0.5) * 0.06
    return clip(px * (1 + relief)[..., None])


def rain(px: Float, rng: np.random.Generator) -> None:
    """Grey it down a little and draw slanted streaks over everything."""
    h, w = px.shape[:2]
    px *= vec((0.82, 0.84, 0.88))
    streaks = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(streaks)
    length = h * 0.035
    for _ in range(int(w * h / 2500)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.line((x, y, x - length * 0.25, y + length), fill=int(rng.uniform(60, 140)), width=1)
    alpha = np.asarray(streaks, np.float32)[..., None] / 255
    px += (vec((225, 230, 240)) - px) * alpha


def fog(px: Float) -> None:
    """Haze that is thickest around the horizon."""
    h = px.shape[0]
    ys = np.linspace(0, 1, h, dtype=np.float32)
    density = (0.25 + 0.35 * np.exp(-(((ys - 0.58) / 0.18) ** 2)))[:, None, None]
    px += (vec((214, 218, 224)) - px) * density


STYLES: dict[str, Callable[[Image.Image, np.random.Generator], Image.Image]] = {
    "bw": grayscale,
    "sepia": sepia,
    "sketch": sketch,
    "pixel": pixel_art,
    "watercolor": watercolor,
    "oil": oil,
}
