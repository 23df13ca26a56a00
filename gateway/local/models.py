"""The six text-to-image models, from the one that reads everything to the one that reads nothing.

lumen-xl   parses the whole prompt, lights the scene from the named side, glass, shadows, style.
prism-2    same objects and colours; one fixed light, looser relations and positions.
sketchbook flat cartoon shapes on paper; counts and places often wrong.
palette    only the prompt's colours and mood, as an abstract colour-field composition.
blockworld a 48-pixel grid of the first few recognised objects, scaled up.
daydream   ignores the prompt: a dreamy landscape of its own, whatever was asked.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
from PIL import Image, ImageFilter

from gateway.local import effects, stages
from gateway.local.backdrop import gradient, light_pool, paint_backdrop
from gateway.local.colours import RGB, mix
from gateway.local.objects import paint_item
from gateway.local.paint import (
    FLAT,
    Finish,
    Lamp,
    Lights,
    Painter,
    Shade,
    unit,
    value_noise,
    vec,
)
from gateway.local.parse import Lighting, PromptSpec
from gateway.local.scene import Camera, Fidelity, Scene, layout

LIGHT_VECTORS = {
    "left": (-0.75, -0.5, 0.45),
    "right": (0.75, -0.5, 0.45),
    "top": (0.0, -0.9, 0.45),
    "front": (-0.1, -0.35, 0.93),
    "back": (0.0, -0.4, -0.9),
    "below": (0.0, 0.8, 0.5),
}
LIGHT_COLOURS = {
    "day": (1.0, 0.98, 0.94),
    "sunset": (1.0, 0.74, 0.52),
    "dawn": (1.0, 0.86, 0.78),
    "night": (0.5, 0.58, 0.85),
}


def key_direction(spec: PromptSpec, scene: Scene) -> str:
    if spec.lighting.direction:
        return spec.lighting.direction
    for item in scene.items:
        if item.kind == "sun":
            return "left" if item.centre_x < scene.width / 2 else "right"
    if scene.window:
        return "left" if scene.window[0] < scene.width / 2 else "right"
    return scene.camera.light_side


def scene_lights(spec: PromptSpec, scene: Scene) -> Lights:
    x, y, z = LIGHT_VECTORS[key_direction(spec, scene)]
    lean_x, lean_y = scene.camera.light_lean
    direction = unit((x + lean_x, y + lean_y, z))
    colour = LIGHT_COLOURS[spec.time]
    quality = spec.lighting.quality
    ambient = (0.44, 0.44, 0.47)
    if spec.time == "night":
        ambient = (0.16, 0.19, 0.3)
    elif spec.time in ("sunset", "dawn"):
        ambient = (0.4, 0.32, 0.36)
    if quality == "soft":
        ambient = (
            min(0.6, ambient[0] * 1.2),
            min(0.6, ambient[1] * 1.2),
            min(0.6, ambient[2] * 1.2),
        )
    if quality == "dramatic":
        strong = (colour[0] * 1.35, colour[1] * 1.35, colour[2] * 1.35)
        return Lights((Lamp(direction, strong),), ambient=(0.14, 0.14, 0.17))
    if quality == "candle":
        return Lights((Lamp(unit((0.2, -0.4, 0.8)), (1.1, 0.72, 0.4)),), ambient=(0.2, 0.15, 0.14))
    if quality == "neon":
        return Lights(
            (
                Lamp(unit((-0.9, -0.2, 0.4)), (1.0, 0.3, 0.85)),
                Lamp(unit((0.9, -0.2, 0.4)), (0.3, 0.85, 1.0)),
            ),
            ambient=(0.18, 0.16, 0.24),
        )
    if quality == "backlit":
        return Lights((Lamp(direction, colour),), ambient=ambient, rim=0.9)
    return Lights((Lamp(direction, colour),), ambient=ambient)


def cast_shadows(p: Painter, scene: Scene, direction: str) -> None:
    """A soft shadow thrown away from the light, then a tight, darker one where things touch
    the ground (drawn second so it wins where they overlap)."""
    lx = {"left": -1.0, "right": 1.0}.get(direction, 0.0)
    dy = 0.1 if direction == "back" else 0.0
    dim = 0.6 if scene.prompt.time == "night" else 1.0
    grounded = [item for item in scene.items if item.grounded]
    for contact in (False, True):
        for item in grounded:
            x0, _, x1, base = item.box
            w, cx = x1 - x0, (x0 + x1) / 2
            strength = (0.3 if item.material == "glass" else 0.6) * dim
            if p.finish is Finish.SIMPLE:
                if contact:
                    p.shadow((cx - w * 0.5, base - w * 0.06, cx + w * 0.5, base + w * 0.06), 0.35)
            elif contact:
                p.shadow(
                    (cx - w * 0.46, base - w * 0.05, cx + w * 0.46, base + w * 0.04), strength
                )
            else:
                sx = cx - lx * w * 0.4
                sy = base + dy * w
                p.shadow(
                    (sx - w * 0.6, sy - w * 0.12, sx + w * 0.6, sy + w * 0.1), strength * 0.55
                )
    soft = {"soft": 0.016, "dramatic": 0.005}.get(scene.prompt.lighting.quality or "", 0.01)
    p.cast_shadows(scene.height * soft)


def relight(px: np.ndarray, spec: PromptSpec, scene: Scene) -> None:
    quality = spec.lighting.quality
    direction = key_direction(spec, scene)
    if quality == "neon":
        effects.neon(px)
    elif quality == "candle":
        flames = [i for i in scene.items if i.kind == "candle"]
        x = flames[0].centre_x / scene.width * 2 - 1 if flames else 0.0
        y = flames[0].box[1] / scene.height * 2 - 1 if flames else 0.2
        effects.warm_glow(px, (x, y), 1.25)
    elif quality == "dramatic":
        effects.falloff(px, direction, 0.32)
        effects.vignette(px, 0.6)
    elif quality == "backlit":
        effects.falloff(px, "back", 0.3)
    else:
        # A named side is lit firmly; otherwise the seed's side, more gently.
        effects.falloff(px, direction, 0.14 if spec.lighting.direction else 0.09)
    effects.vignette(px, 0.18)


def render_scene(
    spec: PromptSpec,
    width: int,
    height: int,
    rng: np.random.Generator,
    camera: Camera,
    *,
    finish: Finish,
    fidelity: Fidelity,
) -> Image.Image:
    scene = layout(spec, width, height, rng, fidelity, camera)
    lights = scene_lights(spec, scene)
    p = Painter.blank(width, height, finish=finish, lights=lights, rng=rng)
    paint_backdrop(p, scene)
    if finish is Finish.CARTOON:
        paper(p, 0.35)
    stages.mark(p.image)
    cast_shadows(p, scene, key_direction(spec, scene))
    items = scene.sorted_items()  # from the back: the farther half is a stage of its own
    for k, item in enumerate(items):
        if k == len(items) // 2:
            stages.mark(p.image)
        paint_item(p, item, scene)
    if not items:
        stages.mark(p.image)
    stages.mark(p.image)
    if finish is Finish.LIT:
        relight(p.px, spec, scene)
    if spec.weather == "rain" and finish is not Finish.BLOCK:
        effects.rain(p.px, rng)
    elif spec.weather == "fog" and finish is not Finish.BLOCK:
        effects.fog(p.px)
    return effects.clip(p.px)


def paper(p: Painter, amount: float) -> None:
    """Wash the picture towards grainy paper: Sketchbook draws on a notebook page."""
    grain = value_noise(p.height, p.width, 160, p.rng)[..., None]
    p.px *= np.float32(1 - amount)
    p.px += vec((248, 242, 226)) * amount * (0.96 + 0.06 * grain)


def styled(image: Image.Image, style: str | None, rng: np.random.Generator) -> Image.Image:
    if style in effects.STYLES:
        return effects.STYLES[style](image, rng)
    return image


def lumen(
    spec: PromptSpec, width: int, height: int, rng: np.random.Generator, camera: Camera
) -> Image.Image:
    finish = Finish.CARTOON if spec.style == "flat" else Finish.LIT
    image = render_scene(spec, width, height, rng, camera, finish=finish, fidelity=Fidelity())
    return styled(image, spec.style, rng)


def prism(
    spec: PromptSpec, width: int, height: int, rng: np.random.Generator, camera: Camera
) -> Image.Image:
    fidelity = Fidelity(relations=0.5, positions=0.8, jitter=0.04)
    image = render_scene(spec, width, height, rng, camera, finish=Finish.SIMPLE, fidelity=fidelity)
    return styled(image, spec.style if spec.style != "oil" else None, rng)


def sketchbook(
    spec: PromptSpec, width: int, height: int, rng: np.random.Generator, camera: Camera
) -> Image.Image:
    fidelity = Fidelity(relations=0.0, positions=0.45, count_error=0.6, jitter=0.1, max_objects=6)
    return render_scene(spec, width, height, rng, camera, finish=Finish.CARTOON, fidelity=fidelity)


BLOCK_PALETTE: list[RGB] = [
    (20, 20, 24),
    (250, 250, 250),
    (200, 40, 40),
    (240, 140, 30),
    (250, 210, 40),
    (60, 160, 60),
    (30, 90, 40),
    (60, 110, 210),
    (110, 180, 240),
    (130, 60, 170),
    (240, 130, 170),
    (130, 80, 40),
    (200, 160, 110),
    (128, 128, 128),
    (190, 190, 190),
    (20, 40, 90),
]


def blockworld(
    spec: PromptSpec, width: int, height: int, rng: np.random.Generator, camera: Camera
) -> Image.Image:
    # The seed picks the grid (a coarse or a fine block) and lets objects wander a quarter of
    # the width: in a 48-block picture, smaller changes leave renditions near-duplicates.
    cells = int(rng.integers(36, 61))
    gw = max(8, round(cells * width / min(width, height)))
    gh = max(8, round(cells * height / min(width, height)))
    fidelity = Fidelity(relations=0.0, positions=1.0, max_objects=3, jitter=0.3)
    capped = replace(
        spec,
        objects=tuple(replace(o, count=min(o.count, 3)) for o in spec.objects),
        lighting=Lighting(),
        style=None,
    )
    small = render_scene(capped, gw, gh, rng, camera, finish=Finish.BLOCK, fidelity=fidelity)
    palette = Image.new("P", (1, 1))
    palette.putpalette([c for colour in BLOCK_PALETTE for c in colour])
    small = small.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
    return small.resize((width, height), Image.Resampling.NEAREST)


MOODS: dict[str, tuple[RGB, list[RGB]]] = {
    # mood -> (ground, colours to fill in with when the prompt names few)
    "night": ((16, 20, 48), [(40, 50, 110), (90, 80, 150), (220, 214, 170)]),
    "sunset": ((60, 36, 70), [(200, 90, 110), (246, 150, 80), (255, 214, 140)]),
    "dawn": ((236, 214, 206), [(110, 140, 200), (255, 190, 160), (250, 236, 210)]),
    "underwater": ((8, 40, 70), [(20, 110, 150), (60, 180, 190), (200, 240, 230)]),
    "space": ((8, 8, 22), [(60, 30, 100), (40, 90, 160), (220, 200, 250)]),
    "day": ((238, 230, 214), [(90, 130, 180), (220, 160, 90), (120, 160, 110)]),
}


def palette_field(
    spec: PromptSpec, width: int, height: int, rng: np.random.Generator, camera: Camera
) -> Image.Image:
    """Abstract colour fields from the prompt's colours over a ground from its mood: bands,
    orbs or stripes, chosen by the prompt's hash. No objects, ever."""
    mood = spec.setting if spec.setting in ("underwater", "space") else spec.time
    ground, fill_in = MOODS[mood]
    named = list(dict.fromkeys(spec.colours)) or [o.drawn_colour for o in spec.objects]
    colours = list(dict.fromkeys(named + fill_in))[: max(3, len(named))][:5]
    sw, sh = max(16, width // 6), max(16, height // 6)
    ys = np.linspace(0, 1, sh, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, sw, dtype=np.float32)[None, :]
    field = np.empty((sh, sw, 3), np.float32)
    field[:] = vec(ground) * (1.05 - 0.15 * ys)[..., None]
    composition = int(rng.integers(0, 3))
    stages.mark(partial(_field_image, field))
    for k, colour in enumerate(colours):
        if k == len(colours) // 2:
            stages.mark(partial(_field_image, field))
        tone = vec(colour) * (value_noise(sh, sw, 8, rng) * 0.14 + 0.93)[..., None]
        if composition == 0:
            top = 0.08 + 0.86 * k / len(colours)
            bottom = top + 0.86 / len(colours) - 0.05
            cover = _soft_box(xs, ys, (0.1, top, 0.9, bottom), 0.03)
        elif composition == 1:
            cx, cy = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75)
            r = rng.uniform(0.18, 0.34)
            d = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
            cover = np.clip((r - d) / 0.04, 0, 1) * 0.8
        else:
            left = rng.uniform(0.0, 0.7)
            box = (left, 0.0, left + rng.uniform(0.12, 0.3), 1.0)
            cover = _soft_box(xs, ys, box, 0.02) * 0.9
        field += (tone - field) * cover[..., None]
    stages.mark(partial(_field_image, field))
    image = _field_image(field).resize((width, height), Image.Resampling.BICUBIC)
    px = effects.pixels(image)
    grain = value_noise(height, width, 180, rng)[..., None]
    px *= 0.95 + 0.1 * grain
    light_pool(px, camera)
    return effects.clip(px)


def daydream(
    out_width: int, out_height: int, rng: np.random.Generator, drift: np.random.Generator
) -> Image.Image:
    """Pastel hills under a pink sky, whatever the prompt says. `rng` (from the seed) composes
    the landscape: where the sun stands, how the hills roll, where clouds and trees are;
    `drift` (from the prompt too) only nudges it. Painted at half size: it is meant to be
    soft, and it is the cheapest model."""
    width, height = max(1, out_width // 2), max(1, out_height // 2)
    p = Painter.blank(width, height, finish=Finish.SIMPLE, rng=rng)
    ys = np.linspace(0, 1, height, dtype=np.float32)
    dusk = float(rng.uniform(0, 1))
    sky_stops = [
        (0.0, mix((170, 150, 210), (120, 130, 200), dusk)),
        (0.45, mix((240, 180, 200), (250, 170, 160), dusk)),
        (0.62, (255, 214, 190)),
    ]
    p.px[:] = gradient(sky_stops, height)[:, None, :]
    sun_x = width * (rng.uniform(0.15, 0.85) + drift.uniform(-0.03, 0.03))
    sun_y = height * rng.uniform(0.3, 0.52)
    p.glow((sun_x, sun_y), height * 0.45, (60, 40, 20), 1.0)
    r = height * rng.uniform(0.06, 0.11)
    p.ellipse((sun_x - r, sun_y - r, sun_x + r, sun_y + r), (255, 236, 200), FLAT, alpha=0.9)
    stages.mark(p.image)
    xs = np.arange(width, dtype=np.float32)
    layers = [
        ((190, 170, 210), 0.52, 0.05),
        ((150, 170, 200), 0.6, 0.06),
        ((120, 170, 160), 0.7, 0.07),
        ((90, 140, 120), 0.82, 0.06),
    ]
    lift = rng.uniform(-0.07, 0.05)
    for k, (colour, level, amp) in enumerate(layers):
        phase = rng.uniform(0, 2 * np.pi) + drift.uniform(0, 0.3)
        amp *= rng.uniform(0.6, 1.8)
        ridge = height * (
            level
            + lift
            - amp
            * (
                np.sin(xs / width * (4 + k) + phase) * 0.6
                + np.sin(xs / width * (9 + k) + phase * 2) * 0.25
            )
        )
        rows = ys[:, None] * height
        cover = np.clip(rows - ridge[None, :], 0, 1)[..., None]
        depth = np.clip((rows - ridge[None, :]) / (height * 0.25), 0, 1)[..., None]
        tone = vec(colour) * (1 - 0.12 * depth)
        p.px += (tone - p.px) * cover
    stages.mark(p.image)
    for _ in range(int(rng.integers(2, 5))):
        cx = width * rng.uniform(0.05, 0.95)
        cy = height * rng.uniform(0.08, 0.3)
        for du, dv, rr in ((-0.05, 0.01, 0.04), (0.0, 0.0, 0.055), (0.05, 0.012, 0.038)):
            rad = width * rr
            p.ellipse(
                (
                    cx + du * width - rad,
                    cy + dv * height - rad * 0.7,
                    cx + du * width + rad,
                    cy + dv * height + rad * 0.7,
                ),
                (255, 240, 244),
                Shade("round"),
                alpha=0.85,
            )
    stages.mark(p.image)
    for _ in range(int(rng.integers(3, 8))):
        tx = width * rng.uniform(0.04, 0.96)
        base = height * (0.9 + lift * 0.5 + rng.uniform(-0.06, 0.04))
        th = height * rng.uniform(0.08, 0.14)
        p.rect((tx - th * 0.04, base - th * 0.4, tx + th * 0.04, base), (110, 90, 100), FLAT)
        p.ellipse(
            (tx - th * 0.28, base - th, tx + th * 0.28, base - th * 0.3),
            (110, 150, 130),
            Shade("round"),
        )
    image = p.image().resize((out_width, out_height), Image.Resampling.BICUBIC)
    glow = image.reduce(4).filter(ImageFilter.GaussianBlur(out_width / 240))
    return Image.blend(image, glow.resize(image.size, Image.Resampling.BILINEAR), 0.35)


def _field_image(field: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(field, 0, 255).astype(np.uint8))


def _soft_box(
    xs: np.ndarray, ys: np.ndarray, box: tuple[float, float, float, float], edge: float
) -> np.ndarray:
    x0, y0, x1, y1 = box
    return (
        np.clip((xs - x0) / edge, 0, 1)
        * np.clip((x1 - xs) / edge, 0, 1)
        * np.clip((ys - y0) / edge, 0, 1)
        * np.clip((y1 - ys) / edge, 0, 1)
    )
