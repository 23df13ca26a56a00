"""The painter every model draws with: anti-aliased shapes composited onto a float canvas, shaded
according to a finish (how good the model is at light) and the scene's lights.

Shapes are rasterised at a multiple of the output size and reduced, so edges are smooth without
rendering the whole picture at a higher resolution; shading is computed at output resolution
from a per-shape normal field (a sphere, a cylinder or a flat face), which is cheap and reads as
three-dimensional.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from gateway.local.colours import RGB

Box = tuple[float, float, float, float]
Point = tuple[float, float]
Vector = tuple[float, float, float]
Float = npt.NDArray[Any]  # float32 pixel arrays, 0..255 per channel


def vec(values: Sequence[float]) -> Float:
    """A colour or direction as a float32 array, ready to broadcast over pixels."""
    return np.asarray(values, dtype=np.float32)


class Finish(StrEnum):
    LIT = "lit"  # the scene's own lights, highlights, soft shadows cast away from the light
    SIMPLE = "simple"  # one fixed soft light from the upper left, no highlights
    CARTOON = "cartoon"  # flat colours with a dark outline
    BLOCK = "block"  # flat colours, hard pixel edges


@dataclass(frozen=True)
class Lamp:
    direction: Vector  # towards the light: x right, y down, z towards the viewer
    colour: Vector = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Lights:
    lamps: tuple[Lamp, ...]
    ambient: Vector = (0.42, 0.42, 0.45)
    rim: float = 0.0  # back light: a bright edge on round things

    @property
    def key(self) -> Lamp:
        return self.lamps[0]


def unit(v: Vector) -> Vector:
    n = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


DEFAULT_LIGHTS = Lights(lamps=(Lamp(unit((-0.5, -0.7, 0.6))),), ambient=(0.5, 0.5, 0.52))


@dataclass(frozen=True)
class Shade:
    form: Literal["flat", "round", "cylinder", "plane"] = "flat"
    normal: Vector = (0.0, 0.0, 1.0)  # for planes
    gloss: float = 0.0
    bounds: Box | None = None  # the ellipse a round/cylinder form spans; the shape's box if None


FLAT = Shade()
ROUND = Shade("round", gloss=0.5)
MATTE = Shade("round")
CYLINDER = Shade("cylinder", gloss=0.3)
FRONT = Shade("plane", (0.0, 0.0, 1.0))
TOP = Shade("plane", unit((0.0, -1.0, 0.45)))
LEFT = Shade("plane", unit((-1.0, 0.0, 0.5)))
RIGHT = Shade("plane", unit((1.0, 0.0, 0.5)))

DrawFn = Callable[[ImageDraw.ImageDraw, Callable[[float, float], Point]], None]


def value_noise(height: int, width: int, cells: int, rng: np.random.Generator) -> Float:
    """Smooth noise in [0, 1]: a small random grid upsampled bicubically."""
    gh = max(2, round(cells * height / max(height, width)))
    gw = max(2, round(cells * width / max(height, width)))
    grid = Image.fromarray((rng.random((gh, gw)) * 255).astype(np.uint8))
    return np.asarray(grid.resize((width, height), Image.Resampling.BICUBIC), np.float32) / 255


class Painter:
    def __init__(
        self,
        pixels: Float,
        *,
        finish: Finish,
        lights: Lights = DEFAULT_LIGHTS,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.px = pixels
        self.height, self.width = pixels.shape[:2]
        self.finish = finish
        self.lights = DEFAULT_LIGHTS if finish is Finish.SIMPLE else lights
        self.rng = rng or np.random.default_rng(0)
        self.ss = 1 if finish is Finish.BLOCK else 3
        self.unit = min(self.width, self.height) / 1024  # line widths scale with the picture
        self._shadow: Image.Image | None = None

    @classmethod
    def blank(
        cls,
        width: int,
        height: int,
        *,
        finish: Finish,
        lights: Lights = DEFAULT_LIGHTS,
        rng: np.random.Generator | None = None,
    ) -> Painter:
        """A black canvas; backgrounds paint every pixel anyway."""
        pixels = np.zeros((height, width, 3), np.float32)
        return cls(pixels, finish=finish, lights=lights, rng=rng)

    def image(self) -> Image.Image:
        return Image.fromarray(np.clip(self.px + 0.5, 0, 255).astype(np.uint8), "RGB")

    # --- shapes ---------------------------------------------------------------------------

    def fill(
        self,
        bounds: Box,
        draw: DrawFn,
        colour: RGB,
        shade: Shade = FLAT,
        *,
        alpha: float = 1.0,
        outline: bool = True,
    ) -> None:
        """Rasterise `draw` (which paints 255 where the shape is) over `bounds` and composite."""
        mask, x0, y0 = self._mask(bounds, draw)
        if mask is None:
            return
        h, w = mask.shape
        colour_field = self._shade(colour, shade, bounds, x0, y0, w, h)
        self._composite(x0, y0, mask * alpha, colour_field)
        if outline and self.finish is Finish.CARTOON:
            self._outline(x0, y0, mask)

    def ellipse(
        self,
        box: Box,
        colour: RGB,
        shade: Shade = ROUND,
        *,
        alpha: float = 1.0,
        outline: bool = True,
    ) -> None:
        def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
            d.ellipse((*t(box[0], box[1]), *t(box[2], box[3])), fill=255)

        self.fill(box, draw, colour, shade, alpha=alpha, outline=outline)

    def polygon(
        self,
        points: Sequence[Point],
        colour: RGB,
        shade: Shade = FLAT,
        *,
        alpha: float = 1.0,
        outline: bool = True,
    ) -> None:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        bounds = (min(xs), min(ys), max(xs), max(ys))

        def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
            d.polygon([t(x, y) for x, y in points], fill=255)

        self.fill(bounds, draw, colour, shade, alpha=alpha, outline=outline)

    def rect(
        self,
        box: Box,
        colour: RGB,
        shade: Shade = FLAT,
        *,
        alpha: float = 1.0,
        outline: bool = True,
    ) -> None:
        x0, y0, x1, y1 = box
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        self.polygon(corners, colour, shade, alpha=alpha, outline=outline)

    def rounded(
        self,
        box: Box,
        radius: float,
        colour: RGB,
        shade: Shade = FLAT,
        *,
        alpha: float = 1.0,
        outline: bool = True,
    ) -> None:
        def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
            r = radius * self.ss
            d.rounded_rectangle((*t(box[0], box[1]), *t(box[2], box[3])), radius=r, fill=255)

        self.fill(box, draw, colour, shade, alpha=alpha, outline=outline)

    def line(
        self,
        points: Sequence[Point],
        colour: RGB,
        width: float,
        *,
        alpha: float = 1.0,
        shade: Shade = FLAT,
    ) -> None:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        pad = width
        bounds = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)

        def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
            d.line(
                [t(x, y) for x, y in points],
                fill=255,
                width=max(1, round(width * self.ss)),
                joint="curve",
            )

        self.fill(bounds, draw, colour, shade, alpha=alpha, outline=False)

    def text(self, box: Box, text: str, colour: RGB) -> None:
        """Centre `text` in `box`, as large as fits."""
        x0, y0, x1, y1 = box
        w, h = (x1 - x0) * self.ss, (y1 - y0) * self.ss
        if w < 4 or h < 4 or not text:
            return
        size = max(6, int(h * 0.8))
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = font.getbbox(text)
        if right - left > w * 0.9:
            size = max(6, int(size * w * 0.9 / (right - left)))
            font = ImageFont.load_default(size=size)
            left, top, right, bottom = font.getbbox(text)

        def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
            ox, oy = t(x0, y0)
            d.text(
                (ox + (w - (right - left)) / 2 - left, oy + (h - (bottom - top)) / 2 - top),
                text,
                fill=255,
                font=font,
            )

        self.fill(box, draw, colour, FLAT, outline=False)

    # --- light ----------------------------------------------------------------------------

    def glow(self, centre: Point, radius: float, colour: RGB, strength: float = 1.0) -> None:
        """Additive light falling off with distance (a flame, a lamp, the sun's halo)."""
        cx, cy = centre
        x0, y0 = max(0, int(cx - radius)), max(0, int(cy - radius))
        x1, y1 = min(self.width, int(cx + radius) + 1), min(self.height, int(cy + radius) + 1)
        if x1 <= x0 or y1 <= y0:
            return
        ys, xs = np.ogrid[y0:y1, x0:x1]
        d2 = ((xs - cx) ** 2 + (ys - cy) ** 2) / (radius * radius)
        weight = np.clip(1 - d2, 0, 1) ** 2 * strength
        self.px[y0:y1, x0:x1] += weight[..., None].astype(np.float32) * vec(colour)

    def shadow(self, box: Box, strength: float) -> None:
        """Queue a soft shadow; `cast_shadows` darkens the canvas with all of them at once."""
        if self.finish in (Finish.CARTOON, Finish.BLOCK):
            return
        if self._shadow is None:
            self._shadow = Image.new("L", (self.width, self.height), 0)
        ImageDraw.Draw(self._shadow).ellipse(box, fill=int(255 * min(1.0, strength)))

    def cast_shadows(self, softness: float) -> None:
        if self._shadow is None:
            return
        small = self._shadow.reduce(2).filter(ImageFilter.GaussianBlur(softness / 2))
        blurred = small.resize((self.width, self.height), Image.Resampling.BILINEAR)
        dark = np.asarray(blurred, np.float32) / 255
        # Shadows are cool: the blue sky (or room) still lights what the sun does not.
        self.px *= 1 - dark[..., None] * vec((0.72, 0.68, 0.6))
        self._shadow = None

    def blur_region(self, box: Box, radius: float) -> None:
        """Soften what is behind a pane of glass: refraction without ray tracing."""
        x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
        x1, y1 = min(self.width, int(box[2])), min(self.height, int(box[3]))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        region = Image.fromarray(np.clip(self.px[y0:y1, x0:x1], 0, 255).astype(np.uint8))
        blurred = region.filter(ImageFilter.GaussianBlur(radius))
        self.px[y0:y1, x0:x1] = np.asarray(blurred, np.float32)

    # --- internals ------------------------------------------------------------------------

    def _mask(self, bounds: Box, draw: DrawFn) -> tuple[Float | None, int, int]:
        x0 = max(0, math.floor(bounds[0]) - 2)
        y0 = max(0, math.floor(bounds[1]) - 2)
        x1 = min(self.width, math.ceil(bounds[2]) + 2)
        y1 = min(self.height, math.ceil(bounds[3]) + 2)
        if x1 <= x0 or y1 <= y0:
            return None, 0, 0
        ss = self.ss
        canvas = Image.new("L", ((x1 - x0) * ss, (y1 - y0) * ss), 0)

        def to_canvas(x: float, y: float) -> Point:
            return ((x - x0) * ss, (y - y0) * ss)

        draw(ImageDraw.Draw(canvas), to_canvas)
        if ss > 1:
            canvas = canvas.reduce(ss)
        mask = np.asarray(canvas, np.float32) / 255
        if self.finish is Finish.BLOCK:
            mask = (mask > 0.5).astype(np.float32)
        return mask, x0, y0

    def _composite(self, x0: int, y0: int, alpha: Float, colour: Float) -> None:
        h, w = alpha.shape
        region = self.px[y0 : y0 + h, x0 : x0 + w]
        a = alpha[..., None]
        region += (colour - region) * a

    def _outline(self, x0: int, y0: int, mask: Float) -> None:
        width = max(3, round(5 * self.unit)) | 1
        image = Image.fromarray((mask * 255).astype(np.uint8))
        grown = np.asarray(image.filter(ImageFilter.MaxFilter(width)), np.float32) / 255
        ring = np.clip(grown - mask, 0, 1)
        ink = np.full((*mask.shape, 3), 38, np.float32)
        self._composite(x0, y0, ring, ink)

    def _shade(
        self, colour: RGB, shade: Shade, bounds: Box, x0: int, y0: int, w: int, h: int
    ) -> Float:
        base = np.asarray(colour, np.float32)
        if shade.form == "flat" or self.finish in (Finish.CARTOON, Finish.BLOCK):
            return np.broadcast_to(base, (h, w, 3))
        bx0, by0, bx1, by1 = shade.bounds or bounds
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        rx, ry = max(1.0, (bx1 - bx0) / 2), max(1.0, (by1 - by0) / 2)
        ys = ((np.arange(y0, y0 + h, dtype=np.float32) + 0.5 - cy) / ry)[:, None]
        xs = ((np.arange(x0, x0 + w, dtype=np.float32) + 0.5 - cx) / rx)[None, :]
        if shade.form == "round":
            nx, ny = np.broadcast_to(xs, (h, w)), np.broadcast_to(ys, (h, w))
            nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
        elif shade.form == "cylinder":
            nx = np.broadcast_to(np.clip(xs, -1, 1), (h, w))
            ny = np.zeros((h, w), np.float32)
            nz = np.sqrt(np.clip(1 - nx * nx, 0, 1))
        else:
            nx = np.full((h, w), shade.normal[0], np.float32)
            ny = np.full((h, w), shade.normal[1], np.float32)
            nz = np.full((h, w), shade.normal[2], np.float32)
        light = np.zeros((h, w, 3), np.float32)
        light += np.asarray(self.lights.ambient, np.float32)
        spec = np.zeros((h, w), np.float32)
        for lamp in self.lights.lamps:
            lx, ly, lz = lamp.direction
            lambert = np.clip(nx * lx + ny * ly + nz * lz, 0, 1)
            if shade.form == "plane" and self.finish is Finish.LIT:
                # Light falls off across a face too; it keeps big flat faces from looking pasted.
                lambert = lambert * (1 - 0.18 * np.clip(xs * lx + ys * ly, -1, 1))
            light += lambert[..., None] * np.asarray(lamp.colour, np.float32) * 0.75
            if shade.gloss and self.finish is Finish.LIT:
                hx, hy, hz = unit((lx, ly, lz + 1))
                spec += np.clip(nx * hx + ny * hy + nz * hz, 0, 1) ** 40 * shade.gloss
        field = base * light
        if self.finish is Finish.LIT:
            if shade.form in ("round", "cylinder") and self.lights.rim:
                rim = np.clip(1 - nz, 0, 1) ** 3 * self.lights.rim
                field += rim[..., None] * 200
            # A little occlusion towards the bottom grounds every object.
            field *= (1 - 0.12 * np.clip(ys, 0, 1) ** 3)[..., None]
            field += spec[..., None] * 255
        return field
