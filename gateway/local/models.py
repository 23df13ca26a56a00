"""The six text-to-image models, from the one that reads everything to the one that reads nothing.

lumen-xl   parses the whole prompt, lights the scene from the named side, glass, shadows, style.
prism-2    same objects and colours; one fixed light, looser relations and positions.
sketchbook flat cartoon shapes on paper; counts and places often wrong.
palette    only the prompt's colours and mood, as an abstract colour-field composition.
blockworld a 48-pixel grid of the first few recognised objects, scaled up.
daydream   ignores the prompt: the same dreamy landscape every time.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image, ImageFilter

from gateway.local import effects
from gateway.local.backdrop import gradient, paint_backdrop
from gateway.local.colours import RGB, mix, scale
from gateway.local.objects import paint_item
from gateway.local.paint import FLAT, Finish, Lamp, Lights, Painter, Shade, unit, value_noise
from gateway.local.parse import Lighting, PromptSpec
from gateway.local.scene import Fidelity, Scene, layout

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
    return "left"


def scene_lights(spec: PromptSpec, scene: Scene) -> Lights:
    direction = unit(LIGHT_VECTORS[key_direction(spec, scene)])
    colour = LIGHT_COLOURS[spec.time]
    quality = spec.lighting.quality
    ambient = (0.44, 0.44, 0.47)
    if spec.time == "night":
        ambient = (0.16, 0.19, 0.3)
    elif spec.time in ("sunset", "dawn"):
        ambient = (0.4, 0.32, 0.36)
    if quality == "soft":
        ambient = tuple(min(0.6, a * 1.2) for a in ambient)  # type: ignore[assignment]
    if quality == "dramatic":
        return Lights(
            (Lamp(direction, tuple(c * 1.35 for c in colour)),), ambient=(0.14, 0.14, 0.17)
        )  # type: ignore[arg-type]
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
    lx = {"left": -1.0, "right": 1.0}.get(direction, 0.0)
    back = direction == "back"
    dim = 0.6 if scene.prompt.time == "night" else 1.0
    for item in scene.items:
        if not item.grounded:
            continue
        x0, _, x1, base = item.box
        w = x1 - x0
        cx = (x0 + x1) / 2
        strength = (0.25 if item.material == "glass" else 0.5) * dim
        if p.finish is Finish.SIMPLE:
            p.shadow((cx - w * 0.5, base - w * 0.07, cx + w * 0.5, base + w * 0.07), 0.4)
            continue
        p.shadow((cx - w * 0.48, base - w * 0.06, cx + w * 0.48, base + w * 0.06), strength)
        dx = -lx * w * 0.45
        dy = w * 0.12 if back else 0.0
        p.shadow(
            (cx + dx - w * 0.55, base + dy - w * 0.1, cx + dx + w * 0.55, base + dy + w * 0.08),
            strength * 0.55,
        )
    soft = 0.03 if scene.prompt.lighting.quality == "soft" else 0.018
    if scene.prompt.lighting.quality == "dramatic":
        soft = 0.008
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
        effects.falloff(px, "back", 0.5)
    else:
        effects.falloff(px, direction, 0.14 if spec.lighting.direction else 0.06)
    effects.vignette(px, 0.18)


def render_scene(
    spec: PromptSpec,
    width: int,
    height: int,
    rng: np.random.Generator,
    *,
    finish: Finish,
    fidelity: Fidelity,
) -> Image.Image:
    scene = layout(spec, width, height, rng, fidelity)
    lights = scene_lights(spec, scene)
    p = Painter.blank(width, height, finish=finish, lights=lights, rng=rng)
    paint_backdrop(p, scene)
    if finish is Finish.CARTOON:
        paper(p, 0.35)
    cast_shadows(p, scene, key_direction(spec, scene))
    for item in scene.sorted_items():
        paint_item(p, item, scene)
    if finish is Finish.LIT:
        relight(p.px, spec, scene)
    return effects.clip(p.px)


def paper(p: Painter, amount: float) -> None:
    """Wash the picture towards grainy paper: Sketchbook draws on a notebook page."""
    grain = value_noise(p.height, p.width, 160, p.rng)[..., None]
    p.px *= np.float32(1 - amount)
    p.px += np.float32((248, 242, 226)) * amount * (0.96 + 0.06 * grain)


def styled(image: Image.Image, style: str | None) -> Image.Image:
    if style in effects.STYLES:
        return effects.STYLES[style](image)
    return image


def lumen(spec: PromptSpec, width: int, height: int, rng: np.random.Generator) -> Image.Image:
    finish = Finish.CARTOON if spec.style == "flat" else Finish.LIT
    image = render_scene(spec, width, height, rng, finish=finish, fidelity=Fidelity())
    return styled(image, spec.style)


def prism(spec: PromptSpec, width: int, height: int, rng: np.random.Generator) -> Image.Image:
    fidelity = Fidelity(relations=0.5, positions=0.8, jitter=0.04)
    image = render_scene(spec, width, height, rng, finish=Finish.SIMPLE, fidelity=fidelity)
    return styled(image, spec.style if spec.style != "oil" else None)


def sketchbook(spec: PromptSpec, width: int, height: int, rng: np.random.Generator) -> Image.Image:
    fidelity = Fidelity(relations=0.0, positions=0.45, count_error=0.6, jitter=0.1, max_objects=6)
    return render_scene(spec, width, height, rng, finish=Finish.CARTOON, fidelity=fidelity)


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


def blockworld(spec: PromptSpec, width: int, height: int, rng: np.random.Generator) -> Image.Image:
    cells = 48
    gw = max(8, round(cells * width / min(width, height)))
    gh = max(8, round(cells * height / min(width, height)))
    fidelity = Fidelity(relations=0.0, positions=1.0, max_objects=3)
    capped = replace(
        spec,
        objects=tuple(replace(o, count=min(o.count, 3)) for o in spec.objects),
        lighting=Lighting(),
        style=None,
    )
    small = render_scene(capped, gw, gh, rng, finish=Finish.BLOCK, fidelity=fidelity)
    palette = Image.new("P", (1, 1))
    palette.putpalette([c for colour in BLOCK_PALETTE for c in colour])
    small = small.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
    return small.resize((width, height), Image.Resampling.NEAREST)


MOODS: dict[str, list[RGB]] = {
    "night": [(14, 20, 52), (40, 50, 110), (90, 80, 150), (220, 214, 170)],
    "sunset": [(60, 40, 90), (200, 90, 110), (246, 150, 80), (255, 214, 140)],
    "dawn": [(110, 140, 200), (230, 180, 190), (255, 214, 170), (250, 240, 220)],
    "underwater": [(8, 40, 80), (20, 110, 150), (60, 180, 190), (200, 240, 230)],
    "space": [(6, 6, 20), (60, 30, 100), (40, 90, 160), (220, 200, 250)],
    "day": [(60, 100, 160), (140, 190, 220), (230, 220, 190), (220, 120, 80)],
}


def palette_field(
    spec: PromptSpec, width: int, height: int, rng: np.random.Generator
) -> Image.Image:
    """Rothko-like soft-edged fields in the prompt's colours, over a ground from its mood."""
    mood_key = spec.setting if spec.setting in ("underwater", "space") else spec.time
    mood = MOODS[mood_key]
    named = list(dict.fromkeys(spec.colours)) or [o.drawn_colour for o in spec.objects][:3]
    colours = (named + mood)[:4] if named else mood
    ground = scale(mix(mood[0], colours[0], 0.3), 0.8)
    small_w, small_h = max(8, width // 8), max(8, height // 8)
    field = np.empty((small_h, small_w, 3), np.float32)
    field[:] = ground
    ys = np.linspace(0, 1, small_h, dtype=np.float32)[:, None]
    xs = np.linspace(0, 1, small_w, dtype=np.float32)[None, :]
    bands = min(3, len(colours))
    top = 0.07
    for k in range(bands):
        weight = rng.uniform(0.8, 1.3)
        span = (0.86 / bands) * weight
        y0, y1 = top, min(0.93, top + span - 0.04)
        top = y1 + 0.05
        edge = 0.025
        inside = (
            np.clip((ys - y0) / edge, 0, 1)
            * np.clip((y1 - ys) / edge, 0, 1)
            * np.clip((xs - 0.08) / edge, 0, 1)
            * np.clip((0.92 - xs) / edge, 0, 1)
        )
        tone = np.float32(colours[k])
        wobble = value_noise(small_h, small_w, 10, rng) * 0.16 + 0.92
        field += (tone * wobble[..., None] - field) * inside[..., None] * 0.92
    image = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    image = image.filter(ImageFilter.GaussianBlur(max(1, width / 300)))
    px = effects.pixels(image)
    grain = value_noise(height, width, 200, rng)[..., None]
    px *= 0.95 + 0.1 * grain
    return effects.clip(px)


def daydream(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    p = Painter.blank(width, height, finish=Finish.SIMPLE, rng=rng)
    ys = np.linspace(0, 1, height, dtype=np.float32)
    sky_stops = [(0.0, (170, 150, 210)), (0.45, (240, 180, 200)), (0.62, (255, 214, 190))]
    p.px[:] = gradient(sky_stops, height)[:, None, :]
    sun_x = width * (0.62 + rng.uniform(-0.03, 0.03))
    p.glow((sun_x, height * 0.5), height * 0.45, (60, 40, 20), 1.0)
    r = height * 0.09
    p.ellipse(
        (sun_x - r, height * 0.5 - r, sun_x + r, height * 0.5 + r),
        (255, 236, 200),
        FLAT,
        alpha=0.9,
    )
    xs = np.arange(width, dtype=np.float32)
    layers = [
        ((190, 170, 210), 0.52, 0.05),
        ((150, 170, 200), 0.6, 0.06),
        ((120, 170, 160), 0.7, 0.07),
        ((90, 140, 120), 0.82, 0.06),
    ]
    for k, (colour, level, amp) in enumerate(layers):
        phase = rng.uniform(0, 0.6) + k * 1.7
        ridge = height * (
            level
            - amp
            * (
                np.sin(xs / width * (4 + k) + phase) * 0.6
                + np.sin(xs / width * (9 + k) + phase * 2) * 0.25
            )
        )
        rows = ys[:, None] * height
        cover = np.clip(rows - ridge[None, :], 0, 1)[..., None]
        depth = np.clip((rows - ridge[None, :]) / (height * 0.25), 0, 1)[..., None]
        tone = np.float32(colour) * (1 - 0.12 * depth)
        p.px += (tone - p.px) * cover
    for k in range(3):
        cx = width * (0.15 + 0.3 * k + rng.uniform(-0.02, 0.02))
        cy = height * (0.16 + 0.06 * (k % 2))
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
    for k in range(5):
        tx = width * (0.08 + 0.2 * k + rng.uniform(-0.02, 0.02))
        base = height * (0.86 + 0.03 * (k % 2))
        th = height * 0.11
        p.rect((tx - th * 0.04, base - th * 0.4, tx + th * 0.04, base), (110, 90, 100), FLAT)
        p.ellipse(
            (tx - th * 0.28, base - th, tx + th * 0.28, base - th * 0.3),
            (110, 150, 130),
            Shade("round"),
        )
    image = p.image()
    glow = image.filter(ImageFilter.GaussianBlur(width / 60))
    return Image.blend(image, glow, 0.35)
