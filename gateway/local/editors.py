"""The four editing models. Each reads the instruction, finds what it names in the pixels, and
applies the change with its own care:

lumen-xl   a mask refined to the object's edge, texture-aware fill, lit additions placed where
           they belong; the rest of the picture is untouched.
prism-2    a softer, slightly larger mask, smooth fill, fixed placements, a faint global shift.
sketchbook a rough blob for a mask, a flat patch for a fill, cartoon additions in the middle,
           and a smudge and colour cast over the whole picture.
retouch    colour, style and light as well as lumen-xl, but cannot add or remove things.

Each edit takes the rendition's generator: where an added thing stands and how big it is, the
exact shade of a new colour, the strength and side of a change of light, a style's hand, and
the faint drift of exposure every re-rendered picture has (a real editing model redraws the
whole picture, never copying a pixel). An edit the model cannot make returns the source as it
was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter
from scipy import ndimage  # type: ignore[import-untyped]
from scipy.spatial import ConvexHull, QhullError  # type: ignore[import-untyped]

from gateway.local import effects, stages
from gateway.local.colours import RGB, hue_of, scale
from gateway.local.instruction import EditSpec
from gateway.local.locate import Component, Picture, from_hsv, hue_distance, stacked, to_hsv
from gateway.local.objects import paint_item
from gateway.local.paint import DEFAULT_LIGHTS, Finish, Float, Painter, vec
from gateway.local.parse import PromptSpec
from gateway.local.scene import Item, Scene
from gateway.local.vocab import ALIAS_COLOURS, KINDS

SKY_KINDS = {"sun", "moon", "star", "cloud", "bird", "kite", "balloon", "planet", "rocket"}


@dataclass(frozen=True)
class Editor:
    edge: Literal["exact", "soft", "crude"]  # how closely a mask follows the object
    objects: bool  # can add and remove things
    finish: Finish  # how added things are drawn
    placement: Literal["smart", "fixed", "crude"]
    fill: Literal["texture", "smooth", "patch"]  # how a removed thing's hole is filled
    # How far exposure wanders across a re-rendered picture, at most, as a share of full scale.
    drift: float
    damage: Damage | None = None  # to everything else


Damage = Callable[[Image.Image, EditSpec, np.random.Generator], Image.Image]


def faint_shift(image: Image.Image, spec: EditSpec, rng: np.random.Generator) -> Image.Image:
    """Prism nudges contrast and saturation of the whole picture a little."""
    contrast = ImageEnhance.Contrast(image).enhance(rng.uniform(1.03, 1.08))
    return ImageEnhance.Color(contrast).enhance(rng.uniform(1.05, 1.12))


def smudge(image: Image.Image, spec: EditSpec, rng: np.random.Generator) -> Image.Image:
    """Sketchbook blurs the whole picture and casts the edit's colour (or a yellow) over it."""
    radius = max(1.5, image.width / 400) * rng.uniform(0.8, 1.6)
    blurred = image.filter(ImageFilter.GaussianBlur(radius))
    cast = Image.new("RGB", image.size, spec.colour or (236, 214, 150))
    return Image.blend(blurred, cast, rng.uniform(0.07, 0.14))


EDITORS: dict[str, Editor] = {
    "lumen-xl": Editor("exact", True, Finish.LIT, "smart", "texture", 0.012),
    "prism-2": Editor("soft", True, Finish.SIMPLE, "fixed", "smooth", 0.03, faint_shift),
    "sketchbook": Editor("crude", True, Finish.CARTOON, "crude", "patch", 0.05, smudge),
    "retouch": Editor("exact", False, Finish.LIT, "smart", "texture", 0.012),
}


def apply(
    editor: Editor, source: Image.Image, spec: EditSpec, rng: np.random.Generator
) -> Image.Image:
    stages.mark(lambda: source)
    px = effects.pixels(source)
    if spec.action == "style" and spec.style:
        styled = STYLERS[editor.edge](source.convert("RGB"), spec.style, rng)
        px = effects.pixels(styled)
    elif spec.action == "light" and spec.light:
        relight(px, spec, editor, rng)
    elif spec.action == "tint" and spec.colour:
        strength = (0.18 if editor.edge == "exact" else 0.3) * rng.uniform(0.75, 1.25)
        px += (vec(spec.colour) - px) * strength
    elif spec.action == "recolour" and spec.colour:
        recolour(px, spec, editor, rng)
    elif spec.action == "remove" and editor.objects:
        remove(px, spec, editor)
    elif spec.action == "add" and editor.objects:
        add(px, spec, editor, rng)
    elif spec.action == "enhance":
        px += (px - px.mean(axis=(0, 1), keepdims=True)) * rng.uniform(0.04, 0.1)
    else:
        return source.convert("RGB")  # an edit this model cannot make leaves the picture be
    stages.mark(lambda: effects.clip(px))
    redraw_drift(px, editor.drift, rng)
    result = effects.clip(px)
    return editor.damage(result, spec, rng) if editor.damage else result


def redraw_drift(px: Float, amount: float, rng: np.random.Generator) -> None:
    """A gentle exposure slope across the whole picture, from a side the seed picks: what
    re-rendering does to the parts an edit did not touch. It scales the channels alike, so a
    grey picture stays grey."""
    xs, ys = effects.coordinates(px)
    angle = rng.uniform(0, 2 * np.pi)
    slope = (np.cos(angle) * xs + np.sin(angle) * ys) / 1.42
    px *= (1 + amount * rng.uniform(0.6, 1.0) * slope)[..., None]


# --- recolour -------------------------------------------------------------------------------


def recolour(px: Float, spec: EditSpec, editor: Editor, rng: np.random.Generator) -> None:
    assert spec.colour is not None
    # The exact shade of a named colour is the rendition's: "red" is many reds.
    spec = replace(spec, colour=scale(spec.colour, rng.uniform(0.84, 1.08)))
    assert spec.colour is not None
    picture = Picture(px)
    weight = np.zeros(px.shape[:2], np.float32)
    if spec.region:
        mask = region_mask(picture, spec.region)
        if mask is None:
            return
        weight[:] = ndimage.gaussian_filter(picture.full(mask).astype(np.float32), 2)
        shift_colour(px, weight, spec.colour, None)
        return
    targets = find_targets(picture, spec)
    if not targets:
        return
    # Weigh every target against the untouched picture first, then shift once: a second pass
    # over pixels already recoloured would shift them again.
    for target in targets:
        (x0, y0, x1, y1), part = object_weight(px, picture, target, editor)
        np.maximum(weight[y0:y1, x0:x1], part, out=weight[y0:y1, x0:x1])
    area = sum(t.area for t in targets)
    mean_s = sum(t.saturation * t.area for t in targets) / area
    mean_v = sum(t.value * t.area for t in targets) / area
    shift_colour(px, weight, spec.colour, (mean_s, mean_v))


def find_targets(picture: Picture, spec: EditSpec) -> list[Component]:
    colour = spec.source_colour
    if colour is None and spec.kind and spec.kind in ("plant", "tree"):
        colour = KINDS[spec.kind].colour
    found = picture.find(spec.kind, colour, every=spec.plural)
    if not found and colour is not None:
        found = picture.find(spec.kind, None, every=spec.plural)
    return found


def object_weight(
    px: Float, picture: Picture, target: Component, editor: Editor
) -> tuple[tuple[int, int, int, int], Float]:
    """How strongly each pixel around the target belongs to it, cropped to a padded box."""
    x0, y0, x1, y1 = picture.full_box(target)
    pad = max(4, max(x1 - x0, y1 - y0) // 2)
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(px.shape[1], x1 + pad), min(px.shape[0], y1 + pad)
    mask = picture.full(target.mask)[y0:y1, x0:x1]
    if editor.edge == "crude":
        ys, xs = np.ogrid[y0:y1, x0:x1]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        blob = ((xs - cx) / ((x1 - x0) / 2)) ** 2 + ((ys - cy) / ((y1 - y0) / 2)) ** 2 < 1
        return (x0, y0, x1, y1), blob.astype(np.float32)
    if editor.edge == "soft":
        grown = ndimage.binary_dilation(mask, iterations=max(2, pad // 3))
        return (x0, y0, x1, y1), ndimage.gaussian_filter(grown.astype(np.float32), 2.5)
    hue, sat, val = to_hsv(px[y0:y1, x0:x1])
    if target.neutral:
        near = (sat < 0.3) & (np.abs(val - target.value) < 0.25)
        same = near
    else:
        near = hue_distance(hue, target.hue) < picture.hue_tolerance(target.hue)
        same = near & (sat > 0.18) & (val > 0.03)
    # Grow the found blob over its own hue: the shaded side of a thing is too dark to have
    # been found, but it is the same thing.
    labels, _ = ndimage.label(same | mask)
    body = np.isin(labels, np.unique(labels[mask & (labels > 0)]))
    body = ndimage.binary_fill_holes(body)
    grown = ndimage.binary_dilation(body, iterations=2)
    fringe = 0.5 if target.neutral else np.clip((sat - 0.08) / 0.25, 0, 1)
    weight = np.where(body & near, 1.0, np.where(grown & near, fringe, 0.0))
    # Highlights inside the object are near-white; keep them white by weighting by saturation.
    highlight = np.clip(sat * 2, 0, 1) * np.clip((val - 0.3) / 0.3, 0, 1)
    weight = np.where(body & ~near, highlight, weight)
    return (x0, y0, x1, y1), weight.astype(np.float32)


def shift_colour(px: Float, weight: Float, colour: RGB, means: tuple[float, float] | None) -> None:
    """Move hue to the new colour; scale saturation and value so the object's mean lands on the
    new colour while its own shading (its range of values) is kept. `means` are the object's
    mean saturation and value, measured from the weighted pixels when not given."""
    ys, xs = np.nonzero(weight > 0.01)
    if ys.size == 0:
        return
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    region = px[y0:y1, x0:x1]
    w = weight[y0:y1, x0:x1]
    hue, sat, val = to_hsv(region)
    if means is None:
        inside = w > 0.5
        means = (
            (float(sat[inside].mean()), float(val[inside].mean())) if inside.any() else (0.5, 0.5)
        )
    mean_s, mean_v = means
    new_s = (max(colour) - min(colour)) / max(1, max(colour))
    new_v = max(colour) / 255
    out_s = np.clip(sat * new_s / mean_s, 0, 1) if mean_s > 0.15 else np.full_like(sat, new_s)
    out_v = np.clip(val * new_v / max(0.05, mean_v), 0, 1)
    shifted = from_hsv(np.full_like(hue, hue_of(colour)), out_s, out_v)
    region += (shifted - region) * w[..., None]


def region_mask(picture: Picture, region: str) -> np.ndarray | None:
    h = picture.height
    rows = np.arange(h)[:, None]
    if region in ("sky", "background", "wall"):
        mask = picture.sky()
        return mask if mask.any() else None
    if region == "water":
        blue = picture.colour_mask((60, 120, 190), tolerance=35)
        parts = [c for c in picture.components(blue) if c.width > picture.width * 0.5]
        return parts[0].mask if parts else None
    if region in ("table", "ground"):
        lower = rows > h * 0.55
        blobs = [
            c for c in picture.candidates() if c.box[3] >= h - 1 and c.width > picture.width * 0.6
        ]
        if blobs:
            ground: np.ndarray = max(blobs, key=lambda c: c.area).mask & lower
            return ground
    return None


# --- remove ---------------------------------------------------------------------------------


def remove(px: Float, spec: EditSpec, editor: Editor) -> None:
    picture = Picture(px)
    targets = find_targets(picture, spec)
    if not targets:
        return
    full_h, full_w = px.shape[:2]
    mask = picture.full(_envelope(picture, targets)).copy()
    for target in targets:
        (x0, y0, x1, y1), body = object_weight(px, picture, target, editor)
        mask[y0:y1, x0:x1] |= body > 0.3
        x0, y0, x1, y1 = picture.full_box(target)
        if y1 > full_h * 0.5 and spec.kind not in SKY_KINDS:
            # Take the contact shadow with it.
            ys, xs = np.ogrid[:full_h, :full_w]
            cx, w = (x0 + x1) / 2, (x1 - x0) / 2
            mask |= ((xs - cx) / (w * 1.15)) ** 2 + ((ys - y1) / (w * 0.25 + 4)) ** 2 < 1
    grow = max(3, round(full_w / 200)) if editor.edge == "exact" else max(6, round(full_w / 90))
    mask = ndimage.binary_dilation(mask, iterations=grow)
    FILLS[editor.fill](px, mask)


def _bounds(mask: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return (
        max(0, xs.min() - pad),
        max(0, ys.min() - pad),
        min(w, xs.max() + pad + 1),
        min(h, ys.max() + pad + 1),
    )


def fill_texture(px: Float, mask: np.ndarray) -> None:
    """Interpolate across the hole along rows and columns (rows win: scenes are horizontal
    bands), soften the seams, then borrow fine texture (grain, not edges) from the neighbouring
    patch that looks most like the hole's surroundings."""
    x0, y0, x1, y1 = _bounds(mask, 24)
    region = px[y0:y1, x0:x1]
    hole = mask[y0:y1, x0:x1]
    across, d_across = _interpolate(region, hole)
    down, d_down = _interpolate(region.transpose(1, 0, 2), hole.T)
    down, d_down = down.transpose(1, 0, 2), d_down.T
    w_across = 1.3 / (d_across + 1) ** 2
    w_down = 1.0 / (d_down + 1) ** 2
    total = w_across + w_down
    fill = (across * w_across[..., None] + down * w_down[..., None]) / total[..., None]
    fill = ndimage.gaussian_filter(fill, sigma=(3, 3, 0))
    ring = ndimage.binary_dilation(hole, iterations=12) & ~ndimage.binary_dilation(
        hole, iterations=4
    )
    grain = region - ndimage.gaussian_filter(region, sigma=(3, 3, 0))
    if ring.any() and float(np.abs(grain[ring]).mean()) > 1.0:
        donor = _matching_neighbour(px, mask, (x0, y0, x1, y1), region[ring].mean(axis=0))
        if donor is not None:
            detail = donor - ndimage.gaussian_filter(donor, sigma=(3, 3, 0))
            fill += np.clip(detail, -8, 8)
    soft = np.maximum(ndimage.gaussian_filter(hole.astype(np.float32), 1.5), hole)
    region += (fill - region) * soft[..., None]


def _interpolate(region: Float, hole: np.ndarray) -> tuple[Float, Float]:
    """Per row, blend the nearest known pixels on either side of each hole pixel."""
    h, w = hole.shape
    cols = np.arange(w)[None, :].repeat(h, axis=0)
    known = ~hole
    left = np.maximum.accumulate(np.where(known, cols, -1), axis=1)
    right = np.minimum.accumulate(np.where(known, cols, w)[:, ::-1], axis=1)[:, ::-1]
    has_left, has_right = left >= 0, right < w
    rows = np.arange(h)[:, None]
    left_c = region[rows, np.clip(left, 0, w - 1)]
    right_c = region[rows, np.clip(right, 0, w - 1)]
    dl = np.where(has_left, cols - left, 1e6).astype(np.float32)
    dr = np.where(has_right, right - cols, 1e6).astype(np.float32)
    t = (dl / np.maximum(dl + dr, 1e-6))[..., None]
    value = left_c * (1 - t) + right_c * t
    return value.astype(np.float32), np.minimum(dl, dr)


def fill_smooth(px: Float, mask: np.ndarray) -> None:
    """Normalised convolution: average of the known pixels around, at a coarse scale."""
    x0, y0, x1, y1 = _bounds(mask, 40)
    region = px[y0:y1, x0:x1]
    hole = mask[y0:y1, x0:x1]
    # At a quarter of the resolution: the result is a smooth blob either way.
    small = region[::4, ::4]
    known = (~hole[::4, ::4]).astype(np.float32)
    sigma = max(2.0, min(small.shape[:2]) / 5)
    total = ndimage.gaussian_filter(small * known[..., None], sigma=(sigma, sigma, 0))
    weight = ndimage.gaussian_filter(known, sigma)[..., None]
    fill = total / np.maximum(weight, 1e-3)
    zoom = (region.shape[0] / fill.shape[0], region.shape[1] / fill.shape[1], 1)
    fill = ndimage.zoom(fill, zoom, order=1)[: region.shape[0], : region.shape[1]]
    region[hole] = fill[hole]


def fill_patch(px: Float, mask: np.ndarray) -> None:
    """A flat rectangle of the surrounding average colour."""
    x0, y0, x1, y1 = _bounds(mask, 6)
    ring = np.zeros_like(mask)
    ring[max(0, y0 - 12) : y1 + 12, max(0, x0 - 12) : x1 + 12] = True
    ring[y0:y1, x0:x1] = False
    colour = px[ring].mean(axis=0) if ring.any() else px.mean(axis=(0, 1))
    px[y0:y1, x0:x1] = colour


FILLS: dict[str, Callable[[Float, np.ndarray], None]] = {
    "texture": fill_texture,
    "smooth": fill_smooth,
    "patch": fill_patch,
}


# --- add ------------------------------------------------------------------------------------


def add(px: Float, spec: EditSpec, editor: Editor, rng: np.random.Generator) -> None:
    assert spec.added is not None
    h, w = px.shape[:2]
    picture = Picture(px)
    night = float(picture.val.mean()) < 0.3
    scene = Scene(
        w, h, PromptSpec(text="", time="night" if night else "day"), 0.55 * h, 0.62 * h, 0.96 * h
    )
    added = spec.added
    colour = added.colour or ALIAS_COLOURS.get(added.alias, KINDS[added.kind].colour)
    colour = scale(colour, rng.uniform(0.88, 1.06))
    box = place(picture, spec, editor, w, h, rng)
    item = Item(
        kind=added.kind,
        alias=added.alias,
        colour=colour,
        box=box,
        depth=0.8,
        order=0,
        material=added.material,
        text=added.text,
        grounded=added.kind not in SKY_KINDS and added.kind != "hat",
    )
    painter = Painter(px, finish=editor.finish, lights=DEFAULT_LIGHTS)
    if item.grounded and editor.placement == "smart":
        cx, base, half = item.centre_x, box[3], item.width / 2
        painter.shadow((cx - half, base - half * 0.12, cx + half * 1.3, base + half * 0.12), 0.45)
        painter.cast_shadows(h * 0.015)
    paint_item(painter, item, scene)


def place(
    picture: Picture, spec: EditSpec, editor: Editor, w: int, h: int, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Where an added thing goes: sky things high up, hats on the tallest thing (or the named
    one), everything else standing in the foreground; Lumen looks for a quiet spot."""
    assert spec.added is not None
    kind = spec.added.kind
    size = {
        "moon": 0.12,
        "sun": 0.14,
        "planet": 0.16,
        "star": 0.05,
        "cloud": 0.3,
        "bird": 0.08,
    }.get(kind, 0.26)
    aspect = KINDS[kind].aspect
    extent = size * h * rng.uniform(0.78, 1.3)
    bw, bh = (extent, extent / aspect) if aspect >= 1 else (extent * aspect, extent)
    if kind == "sign":
        bw, bh = 0.3 * w * rng.uniform(0.8, 1.15), 0.3 * h * rng.uniform(0.8, 1.15)
    if editor.placement == "crude":
        cx, cy = w * rng.uniform(0.38, 0.62), h * rng.uniform(0.4, 0.6)
        return (cx - bw * 0.6, cy - bh * 0.6, cx + bw * 0.6, cy + bh * 0.6)
    if kind == "hat":
        return hat_box(picture, spec, editor, w, h)
    wander = rng.uniform(-0.05, 0.05)
    sky = kind in SKY_KINDS
    position = spec.added.position
    if editor.placement == "fixed":
        cx = ({"left": 0.22, "center": 0.5}.get(position or "", 0.78) + wander) * w
        cy = 0.16 * h if sky else 0.95 * h - bh / 2
        return (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
    xs = [0.2, 0.35, 0.5, 0.65, 0.8]
    if position == "left":
        xs = [0.15, 0.25, 0.35]
    elif position == "right":
        xs = [0.65, 0.75, 0.85]
    elif position == "center":
        xs = [0.45, 0.5, 0.55]
    xs = [x + wander for x in xs]
    ys = [0.14, 0.2] if sky else [0.97 - bh / h / 2]
    busy = picture.busyness()
    step = picture.step
    best, best_cost = (0.8, ys[0]), float("inf")
    for fx in xs:
        for fy in ys:
            x0, x1 = int((fx * w - bw / 2) / step), int((fx * w + bw / 2) / step)
            y0, y1 = int((fy * h - bh / 2) / step), int((fy * h + bh / 2) / step)
            patch = busy[max(0, y0) : max(1, y1), max(0, x0) : max(1, x1)]
            cost = float(patch.mean()) if patch.size else float("inf")
            # Among spots about as quiet, the rendition picks: the noise is its taste.
            cost += 0.02 * abs(fx - 0.5) + rng.uniform(0, 0.04)
            if cost < best_cost:
                best, best_cost = (fx, fy), cost
    cx, cy = best[0] * w, best[1] * h
    return (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)


def hat_box(
    picture: Picture, spec: EditSpec, editor: Editor, w: int, h: int
) -> tuple[float, float, float, float]:
    anchor: Component | None = None
    if spec.anchor:
        found = picture.find(spec.anchor, None)
        anchor = found[0] if found else None
    if anchor is None:
        standing = [c for c in picture.salient() if c.box[3] > picture.height * 0.45]
        anchor = min(standing, key=lambda c: c.box[1]) if standing else None
    if anchor is None:
        return (w * 0.4, h * 0.3, w * 0.6, h * 0.45)
    x0, y0, x1, _y1 = picture.full_box(anchor)
    hat_w = min(0.24 * w, max(0.08 * w, 0.5 * (x1 - x0)))
    hat_h = hat_w / KINDS["hat"].aspect
    if editor.placement == "smart":
        top_rows = anchor.mask[anchor.box[1] : anchor.box[1] + max(2, anchor.height // 12)]
        cols = np.nonzero(top_rows.any(axis=0))[0]
        cx = float(cols.mean()) * picture.step if cols.size else (x0 + x1) / 2
        base = y0 + hat_h * 0.18
    else:
        cx, base = (x0 + x1) / 2 + hat_w * 0.3, y0 - hat_h * 0.1
    return (cx - hat_w / 2, base - hat_h, cx + hat_w / 2, base)


# --- style and light ------------------------------------------------------------------------


def style_well(image: Image.Image, style: str, rng: np.random.Generator) -> Image.Image:
    return effects.STYLES[style](image, rng)


def style_with_contrast(image: Image.Image, style: str, rng: np.random.Generator) -> Image.Image:
    styled = effects.STYLES[style](image, rng)
    px = effects.pixels(styled)
    px += (px - px.mean()) * 0.1
    return effects.clip(px)


def style_crudely(image: Image.Image, style: str, rng: np.random.Generator) -> Image.Image:
    if style == "bw":
        return effects.grayscale(image, rng, contrast=0.7)
    if style == "sketch":
        edges = image.convert("L").filter(ImageFilter.FIND_EDGES)
        return Image.eval(edges, lambda v: 255 - min(255, v * 3)).convert("RGB")
    if style == "pixel":
        return effects.pixel_art(image, rng, cells=20, colours=8)
    if style == "sepia":
        return effects.clip(effects.pixels(effects.sepia(image, rng)) * vec((1.05, 0.9, 0.7)))
    radius = max(2, image.width / 150) * rng.uniform(0.8, 1.4)
    return image.filter(ImageFilter.GaussianBlur(radius))


STYLERS: dict[str, Callable[[Image.Image, str, np.random.Generator], Image.Image]] = {
    "exact": style_well,
    "soft": style_with_contrast,
    "crude": style_crudely,
}


def relight(px: Float, spec: EditSpec, editor: Editor, rng: np.random.Generator) -> None:
    light = spec.light
    # Where the new light comes from, when the instruction does not say.
    side = spec.direction or str(rng.choice(["left", "right", "top"]))
    if editor.edge == "crude":
        # Sketchbook has one idea of light: darken or lighten everything, then tint it.
        gain = {"night": 0.5, "darker": 0.6, "dramatic": 0.7, "brighter": 1.3, "day": 1.2}
        casts = {"night": (30, 40, 120), "sunset": (250, 140, 60), "warmer": (250, 180, 90)}
        px *= np.float32(gain.get(light or "", 1.0) * rng.uniform(0.85, 1.15))
        px += (vec(casts.get(light or "", (128, 128, 128))) - px) * rng.uniform(0.22, 0.38)
        return
    if light == "night":
        sky = None
        if editor.placement == "smart" and editor.objects:
            sky = Picture(px).sky()
        effects.night(px)
        effects.falloff(px, side, rng.uniform(0.1, 0.3))  # the moonlight's side
        if sky is not None and sky.any():
            add_stars(px, sky, Picture(px).step, rng)
    elif light == "sunset":
        effects.sunset(px)
        effects.falloff(px, side, rng.uniform(0.08, 0.22))
    elif light == "day":
        effects.grade(px, (1.12, 1.1, 1.04))
        effects.falloff(px, side, rng.uniform(0.05, 0.15))
    elif light == "brighter":
        px[:] = 255 * (np.clip(px, 0, 255) / 255) ** rng.uniform(0.66, 0.82)
        effects.falloff(px, side, rng.uniform(0.05, 0.15))
    elif light == "darker":
        px[:] = 255 * (np.clip(px, 0, 255) / 255) ** rng.uniform(1.3, 1.55)
        effects.falloff(px, side, rng.uniform(0.05, 0.15))
    elif light == "warmer":
        effects.grade(px, (rng.uniform(1.04, 1.12), 1.0, rng.uniform(0.8, 0.9)))
        effects.falloff(px, side, rng.uniform(0.05, 0.15))
    elif light == "cooler":
        effects.grade(px, (rng.uniform(0.86, 0.94), 0.98, rng.uniform(1.06, 1.14)))
        effects.falloff(px, side, rng.uniform(0.05, 0.15))
    elif light == "dramatic":
        effects.falloff(px, side, rng.uniform(0.36, 0.46))
        effects.vignette(px, rng.uniform(0.5, 0.7))
        px += (px - px.mean()) * rng.uniform(0.1, 0.2)
    elif light == "neon":
        effects.neon(px)
    if editor.edge == "soft":
        grey = px.mean(axis=2, keepdims=True)
        px -= (px - grey) * 0.08


def add_stars(px: Float, sky: np.ndarray, step: int, rng: np.random.Generator) -> None:
    ys, xs = np.nonzero(sky)
    if ys.size == 0:
        return
    picks = rng.choice(ys.size, size=min(90, ys.size), replace=False)
    for k in picks:
        y, x = ys[k] * step, xs[k] * step
        r = 1 + int(rng.integers(0, 2))
        px[max(0, y - r) : y + r, max(0, x - r) : x + r] = vec((250, 246, 220))


def _matching_neighbour(
    px: Float, mask: np.ndarray, box: tuple[int, int, int, int], colour: Float
) -> Float | None:
    """The patch beside the box (left, right, above or below), free of the hole, whose colour
    is closest to `colour` and whose edges are fewest."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    best: Float | None = None
    best_cost = float("inf")
    for dx, dy in ((-w, 0), (w, 0), (0, -h), (0, h)):
        a, b = x0 + dx, y0 + dy
        if a < 0 or b < 0 or a + w > px.shape[1] or b + h > px.shape[0]:
            continue
        if mask[b : b + h, a : a + w].any():
            continue
        patch = px[b : b + h, a : a + w]
        edges = np.abs(np.diff(patch, axis=1)).mean() + np.abs(np.diff(patch, axis=0)).mean()
        distance = float(np.abs(patch.mean(axis=(0, 1)) - colour).mean())
        cost = distance + 4 * float(edges)
        if distance < 25 and cost < best_cost:
            best, best_cost = patch, cost
    return best


def _envelope(picture: Picture, targets: list[Component]) -> np.ndarray:
    """Everything that belongs to the targets, at analysis size: each target with the small
    pieces of other colours stuck to it (an apple's stem and leaf, a book's label) and the band
    between its halves (a bottle's label), filled out to its convex hull."""
    envelope = np.zeros((picture.height, picture.width), bool)
    for target in targets:
        envelope |= target.mask
        reach = max(2, round(0.12 * max(target.width, target.height)))
        near = ndimage.binary_dilation(target.mask, iterations=reach) & ~target.mask
        # Pieces: blobs of one colour (or dark) reaching near the target that are small as a
        # whole: a leaf, not the table the apple stands on.
        rim = ndimage.binary_dilation(target.mask, iterations=2)
        kinds = [picture.family == k for k in range(len(picture.peaks))] + [picture.val < 0.2]
        for stuff in kinds:
            labels, count = ndimage.label(stuff & ~rim)
            if not count:
                continue
            sizes = ndimage.sum_labels(stuff, labels, range(1, count + 1))
            touching = np.unique(labels[near & (labels > 0)])
            small = [k for k in touching if sizes[k - 1] < 0.3 * target.area]
            envelope |= np.isin(labels, small)
    for upper, lower in itertools.permutations(targets, 2):
        # The band between two halves of one thing (a bottle's label) is part of it.
        if stacked(upper, lower) and upper.box[3] <= lower.box[1] + 2:
            left = max(upper.box[0], lower.box[0])
            right = min(upper.box[2], lower.box[2])
            envelope[upper.box[3] - 1 : lower.box[1] + 1, left:right] = True
    # Things are mostly convex: fill each one's hull, which takes in the bands and shaded
    # strips the colour search missed.
    labels, count = ndimage.label(ndimage.binary_dilation(envelope, iterations=2))
    for index in range(1, count + 1):
        ys, xs = np.nonzero((labels == index) & envelope)
        if xs.size < 3:
            continue
        points = np.stack([xs, ys], axis=1)
        try:
            hull = points[ConvexHull(points).vertices]
        except QhullError:  # all in a line
            continue
        canvas = Image.new("L", (picture.width, picture.height), 0)
        ImageDraw.Draw(canvas).polygon([(float(x), float(y)) for x, y in hull], fill=1)
        envelope |= np.asarray(canvas, bool)
    # Finally whatever stands out from the background and touches the envelope, within a
    # little of it: the shaded strip or the band the colour search did not reach.
    size = max(max(t.width, t.height) for t in targets)
    within = ndimage.binary_dilation(envelope, iterations=max(2, round(0.12 * size)))
    standing_out = picture.foreground() & within
    labels, _ = ndimage.label(standing_out)
    envelope |= np.isin(labels, np.unique(labels[envelope & standing_out]))
    return envelope
