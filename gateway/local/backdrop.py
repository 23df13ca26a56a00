"""Backgrounds by setting: sky and ground, a table against a wall, a studio sweep, space, the
sea floor. Gradients and textures are whole-array numpy work; a few shapes use the painter."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage  # type: ignore[import-untyped]

from gateway.local.colours import RGB, mix, scale
from gateway.local.paint import (
    FLAT,
    FRONT,
    ROUND,
    Box,
    Finish,
    Float,
    Painter,
    Point,
    Shade,
    value_noise,
    vec,
)
from gateway.local.scene import Camera, Scene

Stops = list[tuple[float, RGB]]

SKIES: dict[str, Stops] = {
    "day": [(0.0, (78, 136, 212)), (0.65, (150, 194, 234)), (1.0, (210, 228, 242))],
    "sunset": [
        (0.0, (48, 46, 102)),
        (0.42, (160, 86, 122)),
        (0.78, (242, 140, 90)),
        (1.0, (255, 198, 120)),
    ],
    "dawn": [(0.0, (96, 128, 196)), (0.6, (214, 176, 190)), (1.0, (255, 210, 170))],
    "night": [(0.0, (6, 10, 30)), (0.7, (18, 28, 64)), (1.0, (38, 50, 94))],
}
GROUNDS: dict[str, tuple[RGB, RGB]] = {
    "grass": ((120, 160, 80), (58, 112, 46)),
    "snow": ((226, 232, 242), (200, 212, 230)),
    "sand": ((232, 206, 156), (206, 170, 116)),
}
# How the time of day tints a lit surface.
TIME_TINT: dict[str, tuple[float, float, float]] = {
    "day": (1.0, 1.0, 1.0),
    "sunset": (1.0, 0.78, 0.66),
    "dawn": (1.0, 0.9, 0.86),
    "night": (0.22, 0.27, 0.42),
}
WOODS: dict[str, RGB] = {"wood": (150, 98, 56), "metal": (170, 174, 180), "glass": (200, 214, 220)}


def gradient(stops: Stops, n: int) -> Float:
    """n colours along the stops (each stop: position in 0..1, colour)."""
    t = np.linspace(0, 1, max(n, 1), dtype=np.float32)
    at = [s[0] for s in stops]
    return np.stack([np.interp(t, at, [s[1][c] for s in stops]) for c in range(3)], axis=1).astype(
        np.float32
    )


def fill_rows(p: Painter, y0: float, y1: float, stops: Stops) -> None:
    a, b = max(0, int(y0)), min(p.height, int(np.ceil(y1)))
    if b > a:
        p.px[a:b] = gradient(stops, b - a)[:, None, :]


def tint(stops: Stops, factor: tuple[float, float, float]) -> Stops:
    return [
        (
            t,
            (
                min(255, round(c[0] * factor[0])),
                min(255, round(c[1] * factor[1])),
                min(255, round(c[2] * factor[2])),
            ),
        )
        for t, c in stops
    ]


def texture(p: Painter, y0: int, y1: int, amount: float, cells: int) -> None:
    """Modulate brightness a little so large areas are not dead flat (Lumen only)."""
    if p.finish is not Finish.LIT or y1 <= y0:
        return
    noise = value_noise(y1 - y0, p.width, cells, p.rng)
    p.px[y0:y1] *= (1 + (noise - 0.5) * 2 * amount)[..., None]


def paint_backdrop(p: Painter, scene: Scene) -> None:
    BACKDROPS[scene.prompt.setting](p, scene)
    if p.finish is not Finish.BLOCK:
        light_pool(p.px, scene.camera)


def light_pool(px: Float, camera: Camera) -> None:
    """The camera's patch of light or shade; a separable Gaussian, so it costs one multiply
    of the picture."""
    height, width = px.shape[:2]
    cx, cy, radius, gain = camera.pool
    xs = (np.arange(width, dtype=np.float32) / width - cx) / radius
    ys = (np.arange(height, dtype=np.float32) / height - cy) / radius
    px *= (1 + gain * np.exp(-(ys**2))[:, None] * np.exp(-(xs**2))[None, :])[..., None]


def sky(p: Painter, scene: Scene, y1: float) -> None:
    time = scene.prompt.time
    fill_rows(p, 0, y1, tint(SKIES[time], scene.camera.sky))
    if time == "night":
        stars(p, 0, y1, 140)
        return
    if p.finish is not Finish.LIT:
        return
    if time in ("sunset", "dawn"):
        p.glow((scene.width * 0.62, y1), scene.height * 0.5, (70, 40, 10), 1.0)
    wisps(p, int(y1), (255, 214, 200) if time != "day" else (255, 255, 255))


def stars(p: Painter, y0: float, y1: float, count: int) -> None:
    mask = Image.new("L", (p.width, max(1, int(y1 - y0))), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(count):
        x, y = p.rng.uniform(0, p.width), p.rng.uniform(0, y1 - y0)
        r = p.rng.choice([0.6, 0.9, 1.3, 1.8]) * p.unit * (2 if p.finish is Finish.BLOCK else 1)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(p.rng.uniform(120, 255)))
    a = np.asarray(mask, np.float32)[..., None] / 255
    region = p.px[int(y0) : int(y0) + a.shape[0]]
    region += (vec((255, 250, 230)) - region) * a


def outdoor(p: Painter, scene: Scene) -> None:
    spec = scene.prompt
    horizon = scene.horizon
    sky(p, scene, horizon + 1)
    haze = SKIES[spec.time][-1][1]
    tint_ = TIME_TINT[spec.time]
    if p.finish is Finish.LIT:
        hills(p, scene, haze, tint_)
    if scene.mountains:
        mountains(p, scene, scene.mountains, haze, tint_)
    far, near = GROUNDS[spec.ground]
    ground = tint([(0.0, mix(far, haze, 0.35)), (0.12, far), (1.0, near)], tint_)
    fill_rows(p, horizon, scene.height, ground)
    if spec.ground == "grass":
        grass(p, int(horizon), scene.height)
    else:
        texture(p, int(horizon), scene.height, 0.04, 60)
    if scene.lake:
        lake(p, scene, scene.lake)
    if scene.road:
        road(p, scene, scene.road)
    if scene.bridge:
        bridge(p, scene)
    if scene.fence:
        fence(p, scene)


def hills(p: Painter, scene: Scene, haze: RGB, tint_: tuple[float, float, float]) -> None:
    """A low, hazy line of hills on the horizon, so the ground does not end in a ruler line."""
    w = scene.width
    xs = np.arange(w, dtype=np.float32)
    phase = p.rng.uniform(0, 6.28, 3)
    height = scene.height * (
        0.025 + 0.012 * np.sin(xs / w * 5 + phase[0]) + 0.008 * np.sin(xs / w * 13 + phase[1])
    )
    top = scene.horizon - height
    colour = vec(mix(tint([(0, GROUNDS[scene.prompt.ground][0])], tint_)[0][1], haze, 0.55))
    rows = np.arange(int(top.min()), int(scene.horizon) + 1, dtype=np.float32)[:, None]
    cover = np.clip(rows - top[None, :] + 0.5, 0, 1)[..., None]
    region = p.px[int(top.min()) : int(scene.horizon) + 1]
    region += (colour - region) * cover[: region.shape[0]]


def mountains(
    p: Painter, scene: Scene, colour: RGB, haze: RGB, tint_: tuple[float, float, float]
) -> None:
    """Two ranges of peaks, the far one hazier; faces towards the light are lighter, high
    peaks carry snow."""
    w, h = scene.width, scene.height
    xs = np.arange(w, dtype=np.float32)
    for height, fade in ((0.3, 0.55), (0.2, 0.2)):
        peaks = p.rng.uniform(-0.1, 1.1, 5) * w
        tops = p.rng.uniform(0.55, 1.0, 5) * height * h
        slopes = p.rng.uniform(0.7, 1.3, 5)
        shape = np.max(
            tops[:, None] - np.abs(xs[None, :] - peaks[:, None]) * slopes[:, None] * 0.9, axis=0
        )
        shape = np.maximum(shape, 0)
        slope = ndimage.gaussian_filter1d(np.gradient(shape), 4)
        rough = (value_noise(1, w, 60, p.rng)[0] - 0.5) * h * 0.01
        ridge = shape + rough * (shape > 0)
        top = scene.horizon - ridge
        y0 = max(0, int(top.min()))
        rows = np.arange(y0, int(scene.horizon) + 1, dtype=np.float32)[:, None]
        cover = np.clip(rows - top[None, :] + 0.5, 0, 1)
        base = vec(mix(tint([(0, colour)], tint_)[0][1], haze, fade))
        if p.finish in (Finish.LIT, Finish.SIMPLE):
            lit = 1 + np.clip(slope * 3, -0.22, 0.22)
        else:
            lit = np.ones(w, np.float32)
        depth = (rows - top[None, :]) / (ridge[None, :] + 1)
        shade = (lit[None, :] * (1 - 0.15 * np.clip(depth, 0, 1)))[..., None]
        field = base * shade
        snow = (depth < 0.22) & (shape[None, :] > height * h * 0.55)
        snow_colour = vec(mix((245, 246, 250), haze, fade * 0.6))
        field = np.where(snow[..., None], snow_colour * shade, field)
        region = p.px[y0 : int(scene.horizon) + 1]
        region += (field - region) * cover[..., None][: region.shape[0]]


def lake(p: Painter, scene: Scene, colour: RGB) -> None:
    top, bottom = scene.lake_band
    a, b = int(top), int(bottom)
    sky_stops = SKIES[scene.prompt.time]
    reflected = gradient(sky_stops, b - a)[::-1]
    water = (reflected * 0.45 + vec(colour) * 0.55) * np.linspace(
        1.0, 0.8, b - a, dtype=np.float32
    )[:, None]
    p.px[a:b] = water[:, None, :]
    if p.finish is not Finish.BLOCK:
        ripple = value_noise(b - a, p.width // 8, 30, p.rng)
        stretched = Image.fromarray((ripple * 255).astype(np.uint8)).resize((p.width, b - a))
        ripple = np.asarray(stretched, np.float32) / 255
        p.px[a:b] *= (1 + (ripple - 0.5) * 0.25)[..., None]
        if p.finish is Finish.LIT:
            for item in scene.items:
                if item.kind in ("sun", "moon"):
                    shimmer(p, item.centre_x, item.width, a, b, ripple)
    shore = vec(scale(GROUNDS[scene.prompt.ground][0], 0.85))
    edge = max(2, int(scene.height * 0.006))
    p.px[b : b + edge] = shore


def road(p: Painter, scene: Scene, colour: RGB) -> None:
    w, h = scene.width, scene.height
    top = scene.horizon
    vanish = w * 0.5
    p.polygon(
        [(vanish - w * 0.01, top), (vanish + w * 0.01, top), (w * 0.78, h), (w * 0.22, h)],
        colour,
        FLAT,
        outline=False,
    )
    for k in range(8):
        t0, t1 = (k / 8) ** 1.8, ((k + 0.5) / 8) ** 1.8
        y0, y1 = top + (h - top) * t0, top + (h - top) * t1
        half0, half1 = w * 0.002 * (1 + 6 * t0), w * 0.002 * (1 + 6 * t1)
        p.polygon(
            [
                (vanish - half0, y0),
                (vanish + half0, y0),
                (vanish + half1, y1),
                (vanish - half1, y1),
            ],
            (240, 220, 120),
            FLAT,
            outline=False,
        )


def bridge(p: Painter, scene: Scene) -> None:
    """An arched bridge across the water, from shore to shore."""
    w = scene.width
    lake_top, lake_bottom = scene.lake_band
    band = lake_bottom - lake_top
    deck = lake_top + band * 0.1
    thick = band * 0.08
    colour = scene.bridge or (140, 92, 52)
    x0, x1 = -0.02 * w, 1.02 * w
    span = (x1 - x0) / 3

    def arches(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
        d.rectangle((*t(x0, deck), *t(x1, lake_bottom)), fill=255)
        for k in range(3):
            a = x0 + k * span
            top = deck + thick * 2.2
            d.ellipse(
                (*t(a + span * 0.1, top), *t(a + span * 0.9, top + (lake_bottom - top) * 2)),
                fill=0,
            )

    p.fill((x0, deck, x1, lake_bottom), arches, colour, FRONT)
    p.rect((x0, deck - thick, x1, deck + thick), scale(colour, 0.85), FRONT)
    rail = deck - thick * 4
    for k in range(31):
        x = x0 + (x1 - x0) * k / 30
        p.line([(x, deck - thick), (x, rail)], scale(colour, 0.75), 3 * p.unit)
    p.line([(x0, rail), (x1, rail)], scale(colour, 0.75), 4 * p.unit)


def fence(p: Painter, scene: Scene) -> None:
    colour = scene.fence or (250, 250, 248)
    base = scene.base_y(0.3)
    height = scene.height * 0.08
    pitch = scene.width / 26
    for k in range(27):
        x = k * pitch
        p.polygon(
            [
                (x, base),
                (x, base - height),
                (x + pitch * 0.25, base - height * 1.12),
                (x + pitch * 0.5, base - height),
                (x + pitch * 0.5, base),
            ],
            colour,
            FRONT,
        )
    for v in (0.3, 0.75):
        p.rect(
            (0, base - height * v - 3 * p.unit, scene.width, base - height * v + 3 * p.unit),
            scale(colour, 0.85),
            FRONT,
            outline=False,
        )


def tabletop(p: Painter, scene: Scene) -> None:
    spec = scene.prompt
    horizon = scene.horizon
    front = scene.near + (scene.height - scene.near) * 0.2
    tint_ = TIME_TINT[spec.time] if spec.time == "night" else (1.0, 1.0, 1.0)
    wall(p, scene, horizon, tint_)
    top = WOODS.get(spec.surface or "wood", WOODS["wood"])
    a, b = int(horizon), int(front)
    fill_rows(p, a, b, tint([(0.0, scale(top, 0.82)), (1.0, top)], tint_))
    if spec.surface in (None, "wood") and p.finish is not Finish.BLOCK:
        grain(p, a, b)
    fill_rows(p, b, scene.height, tint([(0.0, scale(top, 0.7)), (1.0, scale(top, 0.45))], tint_))
    if p.finish is not Finish.BLOCK:
        p.px[b : b + max(2, int(3 * p.unit))] *= np.float32(1.25)
        # The wall darkens where it meets the table: contact shading.
        fade = int(scene.height * 0.04)
        p.px[a - fade : a] *= np.linspace(1.0, 0.86, fade, dtype=np.float32)[:, None, None]


def grain(p: Painter, y0: int, y1: int) -> None:
    """Wood grain and plank seams that recede towards a vanishing point."""
    rows = y1 - y0
    t = np.linspace(0, 1, rows, dtype=np.float32)[:, None]
    xs = np.arange(p.width, dtype=np.float32)[None, :] - p.width / 2
    depth_scale = 0.55 + 0.45 * t
    u = xs / depth_scale / p.width
    noise = value_noise(rows, p.width, 12, p.rng)
    wave = np.sin((u * 38 + noise * 3.0) * np.pi)
    seams = np.abs(((u * 5) % 1.0) - 0.5) > 0.49
    shade = 1 + 0.05 * wave - 0.18 * seams + (noise - 0.5) * 0.12
    p.px[y0:y1] *= shade[..., None]


def wall(p: Painter, scene: Scene, bottom: float, tint_: tuple[float, float, float]) -> None:
    balance = scene.camera.sky
    tone = (tint_[0] * balance[0], tint_[1] * balance[1], tint_[2] * balance[2])
    fill_rows(p, 0, bottom, tint([(0.0, (222, 214, 200)), (1.0, (236, 228, 214))], tone))
    texture(p, 0, int(bottom), 0.012, 40)
    if scene.window:
        window(p, scene, scene.window)


def window(p: Painter, scene: Scene, box: Box) -> None:
    """A window on the wall, with sky and a landscape of hills behind the glass."""
    x0, y0, x1, y1 = box
    frame = (244, 242, 236)
    p.rect((x0 - 14 * p.unit, y0 - 14 * p.unit, x1 + 14 * p.unit, y1 + 10 * p.unit), frame, FRONT)
    a, b, c, d = int(x0), int(y0), int(x1), int(y1)
    p.px[b:d, a:c] = gradient(SKIES[scene.prompt.time], d - b)[:, None, :]
    if scene.prompt.time == "night" or scene.sky_stars:
        for _ in range(18):
            sx, sy = p.rng.uniform(x0, x1), p.rng.uniform(y0, y1 - (y1 - y0) * 0.3)
            r = 1.4 * p.unit
            p.ellipse((sx - r, sy - r, sx + r, sy + r), (255, 250, 220), FLAT, outline=False)
    if scene.sky_moon:
        r = (x1 - x0) * 0.14
        cx, cy = x0 + (x1 - x0) * 0.68, y0 + (y1 - y0) * 0.25
        p.ellipse((cx - r, cy - r, cx + r, cy + r), (240, 236, 214), FLAT, outline=False)
    if scene.sky_sun:
        r = (x1 - x0) * 0.16
        cx, cy = x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.3
        p.ellipse((cx - r, cy - r, cx + r, cy + r), (255, 216, 110), FLAT, outline=False)
    view = p.px[b:d, a:c]
    xs = np.linspace(0, 1, c - a, dtype=np.float32)[None, :]
    rows = np.linspace(0, 1, d - b, dtype=np.float32)[:, None]
    light = 1.0 if scene.prompt.time == "day" else 0.35
    for level, amp, colour in ((0.6, 0.06, (150, 178, 160)), (0.72, 0.05, (100, 150, 90))):
        ridge = level - amp * (np.sin(xs * 7 + level * 10) * 0.6 + np.sin(xs * 17) * 0.3)
        cover = np.clip((rows - ridge) * (d - b), 0, 1)[..., None]
        view += (vec(scale(colour, light)) - view) * cover
    bar = 7 * p.unit
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    p.rect((mx - bar, y0, mx + bar, y1), frame, FRONT)
    p.rect((x0, my - bar, x1, my + bar), frame, FRONT)
    p.rect(
        (x0 - 24 * p.unit, y1 + 6 * p.unit, x1 + 24 * p.unit, y1 + 22 * p.unit),
        frame,
        Shade("plane", (0.0, -0.6, 1.0)),
    )


def room(p: Painter, scene: Scene) -> None:
    horizon = scene.horizon
    tint_ = TIME_TINT["night"] if scene.prompt.time == "night" else (1.0, 1.0, 1.0)
    wall(p, scene, horizon, tint_)
    fill_rows(p, horizon, scene.height, tint([(0.0, (150, 108, 70)), (1.0, (120, 80, 48))], tint_))
    if p.finish is not Finish.BLOCK:
        grain(p, int(horizon), scene.height)
    p.rect((0, horizon - 18 * p.unit, scene.width, horizon), (246, 244, 238), FRONT, outline=False)


def studio(p: Painter, scene: Scene) -> None:
    tone = (214, 210, 204)
    if scene.prompt.colours:
        tone = mix(tone, scene.prompt.colours[-1], 0.12)
    horizon = scene.horizon
    fill_rows(p, 0, horizon, [(0.0, scale(tone, 0.82)), (1.0, scale(tone, 1.08))])
    fill_rows(p, horizon, scene.height, [(0.0, scale(tone, 1.08)), (1.0, scale(tone, 0.9))])
    if p.finish in (Finish.LIT, Finish.SIMPLE):
        p.glow((scene.width * 0.5, horizon * 0.8), scene.height * 0.6, (24, 24, 24), 1.0)


def space(p: Painter, scene: Scene) -> None:
    fill_rows(p, 0, scene.height, [(0.0, (4, 4, 16)), (1.0, (18, 12, 40))])
    if p.finish is not Finish.BLOCK:
        # Nebulae are soft: compute them at a quarter of the size and scale up.
        qh, qw = max(2, p.height // 4), max(2, p.width // 4)
        cloud = value_noise(qh, qw, 6, p.rng)
        detail = value_noise(qh, qw, 24, p.rng)
        nebula = np.clip((cloud * 0.75 + detail * 0.25 - 0.45) * 2.2, 0, 1)[..., None]
        hue = np.where(
            value_noise(qh, qw, 3, p.rng)[..., None] > 0.5,
            vec((120, 50, 160)),
            vec((30, 90, 160)),
        )
        glow = Image.fromarray(np.clip(nebula * hue * 0.8, 0, 255).astype(np.uint8))
        p.px += np.asarray(glow.resize((p.width, p.height), Image.Resampling.BICUBIC), np.float32)
    stars(p, 0, scene.height, 260)
    if any(item.grounded for item in scene.items):
        fill_rows(p, scene.horizon, scene.height, [(0.0, (150, 150, 156)), (1.0, (96, 96, 104))])
        texture(p, int(scene.horizon), scene.height, 0.1, 30)
        for _ in range(6):
            cx, cy = p.rng.uniform(0, scene.width), p.rng.uniform(scene.horizon, scene.height)
            rw = (
                p.rng.uniform(0.03, 0.08)
                * scene.width
                * (0.4 + (cy - scene.horizon) / (scene.height - scene.horizon))
            )
            p.ellipse(
                (cx - rw, cy - rw * 0.3, cx + rw, cy + rw * 0.3),
                (110, 110, 118),
                Shade("round"),
                outline=False,
            )


def underwater(p: Painter, scene: Scene) -> None:
    h = scene.height
    fill_rows(p, 0, h, [(0.0, (50, 176, 196)), (0.6, (18, 92, 140)), (1.0, (8, 44, 84))])
    if p.finish in (Finish.LIT, Finish.SIMPLE):
        ys = np.arange(h, dtype=np.float32)[:, None] / h
        xs = np.arange(scene.width, dtype=np.float32)[None, :] / scene.width
        u = xs + ys * 0.35
        phases = p.rng.uniform(0, 6.28, 3)
        rays = sum(
            np.clip(np.sin(u * f * 6.28 + ph), 0, 1) ** 6
            for f, ph in zip((3.1, 5.3, 8.2), phases, strict=True)
        )
        p.px += (rays * np.clip(1 - ys * 1.4, 0, 1) * 40)[..., None]
    fill_rows(p, scene.horizon, h, [(0.0, (160, 150, 110)), (1.0, (200, 180, 130))])
    if p.finish is not Finish.BLOCK:
        a = int(scene.horizon)
        t = np.linspace(0, 1, h - a, dtype=np.float32)[:, None]
        across = np.arange(scene.width, dtype=np.float32)[None, :] / scene.width
        ripples = np.sin(across * 40 + value_noise(h - a, scene.width, 10, p.rng) * 8 + t * 30)
        p.px[a:] *= (1 + 0.05 * ripples)[..., None]
    for _ in range(14):
        cx, cy = p.rng.uniform(0, scene.width), p.rng.uniform(0, scene.horizon)
        r = p.rng.uniform(4, 14) * p.unit
        p.ellipse(
            (cx - r, cy - r, cx + r, cy + r), (200, 240, 250), ROUND, alpha=0.35, outline=False
        )


BACKDROPS: dict[str, Callable[[Painter, Scene], None]] = {
    "outdoor": outdoor,
    "tabletop": tabletop,
    "room": room,
    "studio": studio,
    "space": space,
    "underwater": underwater,
}


def grass(p: Painter, y0: int, y1: int) -> None:
    """Blades: noise that changes fast across and slowly down, fainter towards the horizon."""
    if p.finish is not Finish.LIT or y1 <= y0:
        return
    rows = y1 - y0
    blades = p.rng.random((max(2, rows // 10), max(2, p.width // 3))).astype(np.float32)
    streaks = Image.fromarray((blades * 255).astype(np.uint8)).resize(
        (p.width, rows), Image.Resampling.BILINEAR
    )
    fine = np.asarray(streaks, np.float32) / 255
    near = np.linspace(0.3, 1.0, rows, dtype=np.float32)[:, None]
    patches = value_noise(rows, p.width, 14, p.rng)
    p.px[y0:y1] *= (1 + (fine - 0.5) * 0.16 * near + (patches - 0.5) * 0.14)[..., None]


def wisps(p: Painter, y1: int, colour: RGB) -> None:
    """High thin clouds: noise stretched sideways, thresholded softly, fading to the horizon."""
    grid = p.rng.random((10, 4)).astype(np.float32)
    stretched = Image.fromarray((grid * 255).astype(np.uint8)).resize(
        (p.width, y1), Image.Resampling.BICUBIC
    )
    detail = value_noise(y1, p.width, 30, p.rng)
    n = np.asarray(stretched, np.float32) / 255 * 0.8 + detail * 0.2
    fade = np.clip(1.3 - np.linspace(0, 1, y1, dtype=np.float32) * 1.5, 0, 1)[:, None]
    cover = (np.clip((n - 0.55) * 3, 0, 1) * fade * 0.45)[..., None]
    p.px[:y1] += (vec(colour) - p.px[:y1]) * cover


def shimmer(p: Painter, x: float, width: float, a: int, b: int, ripple: Float) -> None:
    """The sun's or moon's reflection: a broken column of light on the water."""
    xs = np.arange(p.width, dtype=np.float32)[None, :]
    column = np.exp(-(((xs - x) / (width * 0.6)) ** 2))
    broken = np.clip((ripple - 0.45) * 4, 0, 1)
    fade = np.linspace(1.0, 0.4, b - a, dtype=np.float32)[:, None]
    p.px[a:b] += (column * broken * fade * 110)[..., None]
