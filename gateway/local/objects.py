"""One painter per drawable kind. Each draws into its item's box (standing on the box's bottom
edge) in unit coordinates through a `Frame`, so flipping and scaling come for free, and leaves
shading to the painter's finish: the same code draws Lumen's lit cat and Sketchbook's cartoon.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageDraw

from gateway.local.colours import RGB, mix, scale
from gateway.local.paint import (
    CYLINDER,
    FLAT,
    FRONT,
    LEFT,
    MATTE,
    RIGHT,
    ROUND,
    TOP,
    Box,
    Finish,
    Painter,
    Point,
    Shade,
)
from gateway.local.scene import Item, Scene

WHITE: RGB = (250, 250, 248)
INK: RGB = (34, 30, 30)
WOOD: RGB = (140, 92, 52)
SKIN: RGB = (236, 188, 150)
GLASS_TINT: RGB = (214, 232, 236)


@dataclass(frozen=True)
class Frame:
    """Maps unit coordinates (0..1 across the item's box, v downwards) to pixels."""

    box: Box
    flip: bool = False

    @property
    def w(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def h(self) -> float:
        return self.box[3] - self.box[1]

    def x(self, u: float) -> float:
        return self.box[0] + (1 - u if self.flip else u) * self.w

    def y(self, v: float) -> float:
        return self.box[1] + v * self.h

    def pt(self, u: float, v: float) -> Point:
        return (self.x(u), self.y(v))

    def pts(self, *uv: tuple[float, float]) -> list[Point]:
        return [self.pt(u, v) for u, v in uv]

    def rect(self, u0: float, v0: float, u1: float, v1: float) -> Box:
        xa, xb = self.x(u0), self.x(u1)
        return (min(xa, xb), self.y(v0), max(xa, xb), self.y(v1))

    def circle(self, u: float, v: float, r: float) -> Box:
        """A circle of radius r (as a share of the box width) centred at (u, v)."""
        cx, cy, rr = self.x(u), self.y(v), r * self.w
        return (cx - rr, cy - rr, cx + rr, cy + rr)


def darker(colour: RGB, k: float = 0.7) -> RGB:
    return scale(colour, k)


def lighter(colour: RGB, k: float = 0.35) -> RGB:
    return mix(colour, WHITE, k)


def leaf(p: Painter, base: Point, angle: float, length: float, width: float, colour: RGB) -> None:
    """A pointed leaf (or petal) from `base`, `angle` radians clockwise from straight up."""
    dx, dy = math.sin(angle), -math.cos(angle)
    nx, ny = -dy, dx
    points = []
    steps = 8
    for side in (1, -1):
        for k in range(steps + 1) if side == 1 else range(steps, -1, -1):
            t = k / steps
            bulge = math.sin(math.pi * t) ** 0.8 * width / 2 * side
            points.append(
                (base[0] + dx * length * t + nx * bulge, base[1] + dy * length * t + ny * bulge)
            )
    p.polygon(points, colour, MATTE)


def ring(p: Painter, box: Box, colour: RGB, thickness: float, *, alpha: float = 1.0) -> None:
    def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
        d.ellipse(
            (*t(box[0], box[1]), *t(box[2], box[3])),
            outline=255,
            width=max(1, round(thickness * p.ss)),
        )

    p.fill(box, draw, colour, FLAT, alpha=alpha)


def glass_alpha(p: Painter) -> float:
    return {Finish.LIT: 0.16, Finish.SIMPLE: 0.55, Finish.CARTOON: 0.3, Finish.BLOCK: 0.5}[
        p.finish
    ]


# --- things on a table ----------------------------------------------------------------------


def sphere(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box)
    box = f.rect(0, 0, 1, 1)
    if item.material != "glass":
        gloss = 0.9 if item.material == "metal" else 0.5
        p.ellipse(box, item.colour, Shade("round", gloss=gloss))
        return
    if p.finish is Finish.LIT:
        p.blur_region(f.rect(0.12, 0.12, 0.88, 0.88), 2.5 * p.unit)
    p.ellipse(box, GLASS_TINT, ROUND, alpha=glass_alpha(p) + 0.1)
    ring(p, box, WHITE, 3 * p.unit, alpha=0.55)
    p.ellipse(f.rect(0.22, 0.16, 0.42, 0.3), WHITE, FLAT, alpha=0.75, outline=False)
    p.ellipse(f.rect(0.3, 0.72, 0.7, 0.9), WHITE, FLAT, alpha=0.18, outline=False)


def cube(p: Painter, item: Item, scene: Scene) -> None:
    x0, y0, x1, y1 = item.box
    w, h = x1 - x0, y1 - y0
    depth = 0.2 * h
    side = 0.16 * w
    show_right = item.centre_x < scene.width * 0.5
    fx0, fx1 = (x0, x1 - side) if show_right else (x0 + side, x1)
    sx = side if show_right else -side
    front = [(fx0, y0 + depth), (fx1, y0 + depth), (fx1, y1), (fx0, y1)]
    top = [(fx0, y0 + depth), (fx1, y0 + depth), (fx1 + sx, y0), (fx0 + sx, y0)]
    edge_x = fx1 if show_right else fx0
    flank = [(edge_x, y0 + depth), (edge_x + sx, y0), (edge_x + sx, y1 - depth), (edge_x, y1)]
    flank_shade = RIGHT if show_right else LEFT
    if item.material != "glass":
        p.polygon(front, item.colour, FRONT)
        p.polygon(top, item.colour, TOP)
        p.polygon(flank, item.colour, flank_shade)
        return
    alpha = glass_alpha(p)
    if p.finish is Finish.LIT:
        p.blur_region((fx0 + 2, y0 + depth + 2, fx1 - 2, y1 - 2), 1.6 * p.unit)
    back = [(fx0 + sx, y0), (fx0 + sx, y1 - depth), (fx1 + sx, y1 - depth)]
    for a, b in ((back[0], back[1]), (back[1], back[2]), (back[1], (fx0, y1))):
        p.line([a, b], WHITE, 2 * p.unit, alpha=0.35)
    p.polygon(flank, GLASS_TINT, flank_shade, alpha=alpha * 1.3)
    p.polygon(front, GLASS_TINT, FRONT, alpha=alpha)
    p.polygon(top, lighter(GLASS_TINT, 0.4), TOP, alpha=alpha * 1.5)
    if p.finish is Finish.LIT:
        streak = [
            (fx0 + 0.12 * w, y1 - 0.05 * h),
            (fx0 + 0.3 * w, y1 - 0.05 * h),
            (fx0 + 0.62 * w, y0 + depth + 0.05 * h),
            (fx0 + 0.44 * w, y0 + depth + 0.05 * h),
        ]
        p.polygon(streak, WHITE, FLAT, alpha=0.14, outline=False)
    edge = 2.6 * p.unit
    outline = [*top, top[0]]
    p.line(outline, WHITE, edge, alpha=0.85)
    p.line([front[1], front[2], front[3], front[0]], WHITE, edge, alpha=0.8)
    p.line([flank[1], flank[2], flank[3]], WHITE, edge, alpha=0.7)


def book(p: Painter, item: Item, scene: Scene) -> None:
    x0, y0, x1, y1 = item.box
    w, h = x1 - x0, y1 - y0
    depth = 0.45 * h
    skew = 0.12 * w
    front_top = y0 + depth
    cover = max(1.5, 0.1 * (h - depth))
    p.polygon(
        [(x0, front_top), (x1 - skew, front_top), (x1, y0), (x0 + skew, y0)], item.colour, TOP
    )
    p.rect((x0, front_top, x1 - skew, y1), item.colour, FRONT)
    p.rect(
        (x0 + 0.04 * w, front_top + cover, x1 - skew, y1 - cover),
        (240, 232, 212),
        FRONT,
        outline=False,
    )
    for k in range(1, 4):
        yy = front_top + cover + (h - depth - 2 * cover) * k / 4
        p.line([(x0 + 0.06 * w, yy), (x1 - skew, yy)], (200, 190, 170), 0.8 * p.unit)
    p.polygon(
        [(x1 - skew, front_top), (x1, y0), (x1, y1 - depth), (x1 - skew, y1)], item.colour, RIGHT
    )
    label = [
        (x0 + 0.35 * w, front_top - depth * 0.3),
        (x0 + 0.7 * w, front_top - depth * 0.3),
        (x0 + 0.72 * w, front_top - depth * 0.7),
        (x0 + 0.37 * w, front_top - depth * 0.7),
    ]
    p.polygon(label, (226, 190, 90), TOP, outline=False)


def plant(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    if item.alias == "seaweed" or scene.prompt.setting == "underwater":
        for k in range(5):
            u = 0.2 + 0.15 * k
            wave = [
                (f.x(u + 0.06 * math.sin(v * 9 + k)), f.y(v))
                for v in (1, 0.8, 0.6, 0.4, 0.2, 0.05 + 0.05 * k)
            ]
            p.line(wave, darker(item.colour, 0.8 + 0.05 * k), 0.05 * f.w, shade=CYLINDER)
        return
    pot = (196, 104, 70)
    p.polygon(f.pts((0.22, 0.66), (0.78, 0.66), (0.7, 1), (0.3, 1)), pot, CYLINDER)
    p.rect(f.rect(0.18, 0.63, 0.82, 0.7), darker(pot, 0.9), CYLINDER)
    p.ellipse(f.rect(0.22, 0.625, 0.78, 0.66), (70, 46, 30), FLAT, outline=False)
    base = f.pt(0.5, 0.645)
    leaves = 11
    for k in range(leaves):
        t = k / (leaves - 1)
        angle = (t - 0.5) * 2.3 + 0.12 * math.sin(k * 2.7)
        length = f.h * (0.48 + 0.16 * math.cos(k * 1.9)) * (1 - 0.35 * abs(t - 0.5))
        if f.flip:
            angle = -angle
        tone = darker(item.colour, 0.75 + 0.3 * ((k * 7) % 5) / 4)
        leaf(p, base, angle, length, f.w * 0.2, tone)


def tree(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    trunk = (110, 74, 44)
    if item.alias in ("pine", "pine tree", "christmas tree"):
        p.rect(f.rect(0.44, 0.78, 0.56, 1), trunk, CYLINDER)
        for k, (top, bottom, half) in enumerate(
            ((0.0, 0.42, 0.28), (0.18, 0.62, 0.38), (0.36, 0.84, 0.48))
        ):
            p.polygon(
                f.pts((0.5, top), (0.5 + half, bottom), (0.5 - half, bottom)),
                darker(item.colour, 0.85 + 0.1 * k),
                Shade("cylinder", bounds=f.rect(0.5 - half, top, 0.5 + half, bottom)),
            )
        return
    p.polygon(f.pts((0.42, 1), (0.46, 0.5), (0.54, 0.5), (0.58, 1)), trunk, CYLINDER)
    p.line([f.pt(0.5, 0.62), f.pt(0.32, 0.45)], trunk, f.w * 0.04)
    crown = f.rect(0.02, 0.0, 0.98, 0.72)
    blobs = (
        (0.3, 0.42, 0.24),
        (0.7, 0.42, 0.24),
        (0.5, 0.22, 0.27),
        (0.33, 0.2, 0.18),
        (0.67, 0.22, 0.18),
        (0.5, 0.46, 0.26),
    )
    for k, (u, v, r) in enumerate(blobs):
        tone = darker(item.colour, 0.85 + 0.08 * (k % 3))
        p.ellipse(f.circle(u, v, r), tone, Shade("round", bounds=crown))


def cup(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    ring(p, f.rect(0.62, 0.3, 0.98, 0.74), c, 0.09 * f.w)
    p.polygon(
        f.pts((0.06, 0.12), (0.8, 0.12), (0.77, 0.94), (0.72, 1.0), (0.14, 1.0), (0.09, 0.94)),
        c,
        CYLINDER,
    )
    p.ellipse(f.rect(0.06, 0.04, 0.8, 0.2), lighter(c, 0.1), FLAT)
    p.ellipse(f.rect(0.1, 0.07, 0.76, 0.18), (92, 56, 34), FLAT, outline=False)


def apple(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    if item.alias == "lemon":
        p.ellipse(f.rect(0.02, 0.18, 0.98, 0.98), item.colour, ROUND)
        return
    if item.alias == "pear":
        p.ellipse(f.rect(0.3, 0.1, 0.7, 0.6), item.colour, ROUND)
        p.ellipse(f.rect(0.08, 0.35, 0.92, 1.0), item.colour, ROUND)
    else:
        p.ellipse(f.rect(0.02, 0.12, 0.98, 1.0), item.colour, ROUND)
        p.ellipse(
            f.rect(0.38, 0.1, 0.62, 0.22), darker(item.colour, 0.6), FLAT, outline=False, alpha=0.5
        )
    p.line([f.pt(0.5, 0.16), f.pt(0.54, -0.02)], (90, 60, 30), 0.05 * f.w)
    leaf(p, f.pt(0.54, 0.04), 1.1 if not f.flip else -1.1, 0.32 * f.w, 0.14 * f.w, (70, 150, 60))


def bottle(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    glass = item.material == "glass" or item.alias in ("jar", "flask")
    alpha = glass_alpha(p) + 0.25 if glass else 1.0
    colour = GLASS_TINT if glass and item.colour == (200, 220, 220) else item.colour
    shape = Shade("cylinder", gloss=0.8, bounds=f.rect(0.0, 0.0, 1.0, 1.0))
    if item.alias == "vase":
        outline = [
            (0.28, 0.0), (0.72, 0.0), (0.64, 0.12), (0.66, 0.3), (0.92, 0.5), (0.98, 0.68),
            (0.88, 0.9), (0.7, 1.0), (0.3, 1.0), (0.12, 0.9), (0.02, 0.68), (0.08, 0.5),
            (0.34, 0.3), (0.36, 0.12),
        ]  # fmt: skip
        p.polygon(f.pts(*outline), colour, shape, alpha=alpha)
        p.ellipse(f.rect(0.28, -0.025, 0.72, 0.025), darker(colour, 0.5), FLAT, alpha=alpha)
        return
    outline = [
        (0.36, 0.04), (0.64, 0.04), (0.64, 0.22), (0.9, 0.34), (1.0, 0.46), (1.0, 0.96),
        (0.94, 1.0), (0.06, 1.0), (0.0, 0.96), (0.0, 0.46), (0.1, 0.34), (0.36, 0.22),
    ]  # fmt: skip
    p.polygon(f.pts(*outline), colour, shape, alpha=alpha)
    p.rect(f.rect(0.33, 0.0, 0.67, 0.07), (120, 80, 50), CYLINDER)
    if not glass:
        p.rect(f.rect(0.0, 0.56, 1.0, 0.8), (236, 226, 200), CYLINDER, outline=False)


def candle(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    p.ellipse(f.rect(-0.4, 0.9, 1.4, 1.02), (176, 150, 100), ROUND)
    p.rect(f.rect(0.12, 0.3, 0.88, 0.95), item.colour, CYLINDER)
    p.ellipse(f.rect(0.12, 0.27, 0.88, 0.33), lighter(item.colour, 0.3), FLAT)
    p.line([f.pt(0.5, 0.3), f.pt(0.5, 0.22)], INK, 0.05 * f.w)
    if p.finish is Finish.LIT:
        dark = scene.prompt.time == "night" or scene.prompt.lighting.quality == "candle"
        p.glow(f.pt(0.5, 0.12), f.h * (1.2 if dark else 0.7), (120, 70, 20), 0.8 if dark else 0.5)
    flame = f.pts((0.5, 0.0), (0.6, 0.12), (0.62, 0.19), (0.5, 0.25), (0.38, 0.19), (0.4, 0.12))
    p.polygon(flame, (255, 170, 60), FLAT, outline=False)
    p.ellipse(f.rect(0.44, 0.11, 0.56, 0.235), (255, 246, 200), FLAT, outline=False)


def clock(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    p.ellipse(f.circle(0.22, 0.1, 0.13), darker(item.colour, 0.9), ROUND)
    p.ellipse(f.circle(0.78, 0.1, 0.13), darker(item.colour, 0.9), ROUND)
    p.line([f.pt(0.2, 0.9), f.pt(0.1, 1.0)], INK, 0.05 * f.w)
    p.line([f.pt(0.8, 0.9), f.pt(0.9, 1.0)], INK, 0.05 * f.w)
    face = f.rect(0.0, 0.12, 1.0, 0.96)
    p.ellipse(face, item.colour, ROUND)
    inner = f.rect(0.1, 0.2, 0.9, 0.88)
    p.ellipse(inner, (248, 246, 238), MATTE, outline=False)
    cx, cy = f.pt(0.5, 0.54)
    r = 0.36 * f.w
    for k in range(12):
        a = k * math.pi / 6
        inner_r = 0.82 if k % 3 else 0.72
        p.line(
            [
                (cx + math.sin(a) * r * inner_r, cy - math.cos(a) * r * inner_r),
                (cx + math.sin(a) * r * 0.92, cy - math.cos(a) * r * 0.92),
            ],
            INK,
            0.025 * f.w,
        )
    p.line([(cx, cy), (cx + r * 0.5, cy - r * 0.2)], INK, 0.04 * f.w)
    p.line([(cx, cy), (cx - r * 0.1, cy - r * 0.75)], INK, 0.03 * f.w)


def hat(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    if item.alias in ("cap", "beanie"):
        p.ellipse(f.rect(0.1, 0.1, 0.9, 1.5), c, ROUND, outline=True)
        p.ellipse(f.rect(0.5, 0.78, 1.15, 1.0), darker(c), FLAT)
        return
    p.ellipse(f.rect(0.0, 0.7, 1.0, 1.0), darker(c, 0.85), ROUND)
    p.polygon(f.pts((0.22, 0.8), (0.26, 0.05), (0.74, 0.05), (0.78, 0.8)), c, CYLINDER)
    p.ellipse(f.rect(0.26, 0.0, 0.74, 0.1), lighter(c, 0.08), FLAT)
    p.polygon(f.pts((0.23, 0.6), (0.77, 0.6), (0.78, 0.76), (0.22, 0.76)), (170, 40, 40), CYLINDER)


def lamp(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    lit = scene.prompt.time in ("night", "sunset") or scene.prompt.lighting.quality in (
        "dramatic",
        "candle",
    )
    if scene.prompt.setting == "outdoor":
        p.rect(f.rect(0.45, 0.15, 0.55, 1.0), (50, 52, 56), CYLINDER)
        p.polygon(
            f.pts((0.25, 0.05), (0.75, 0.05), (0.68, 0.2), (0.32, 0.2)), (60, 62, 66), CYLINDER
        )
        p.rect(f.rect(0.33, 0.2, 0.67, 0.3), (255, 226, 150) if lit else (220, 220, 210), FLAT)
        if lit and p.finish is Finish.LIT:
            p.glow(f.pt(0.5, 0.25), f.h * 0.5, (150, 110, 50), 0.9)
        return
    shade_colour = item.colour if item.colour != (60, 60, 64) else (240, 226, 190)
    p.ellipse(f.rect(0.2, 0.92, 0.8, 1.0), (70, 70, 74), ROUND)
    p.rect(f.rect(0.46, 0.38, 0.54, 0.95), (80, 80, 84), CYLINDER)
    p.polygon(f.pts((0.12, 0.4), (0.88, 0.4), (0.72, 0.0), (0.28, 0.0)), shade_colour, CYLINDER)
    if lit and p.finish is Finish.LIT:
        p.glow(f.pt(0.5, 0.42), f.h * 0.9, (140, 110, 60), 0.9)


def sign(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box)
    wood = darker(item.colour, 0.6) if item.material == "wood" else WOOD
    p.rect(f.rect(0.2, 0.4, 0.27, 1.0), wood, CYLINDER)
    p.rect(f.rect(0.73, 0.4, 0.8, 1.0), wood, CYLINDER)
    board = f.rect(0.0, 0.0, 1.0, 0.58)
    p.rounded(board, 0.04 * f.w, item.colour, FRONT)
    p.rounded(
        f.rect(0.04, 0.05, 0.96, 0.53),
        0.03 * f.w,
        lighter(item.colour, 0.15),
        FRONT,
        outline=False,
    )
    text = item.text or "HELLO"
    ink = INK if sum(item.colour) > 300 else WHITE
    p.text(f.rect(0.08, 0.1, 0.92, 0.48), text, ink)


# --- outdoors -------------------------------------------------------------------------------


def house(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    roof = (160, 62, 50) if item.alias != "barn" else (90, 60, 50)
    night = scene.prompt.time == "night"
    window = (255, 214, 120) if night else (150, 190, 220)
    p.polygon(f.pts((0.68, 0.42), (0.98, 0.3), (0.98, 0.92), (0.68, 1.0)), item.colour, RIGHT)
    p.rect(f.rect(0.02, 0.42, 0.68, 1.0), item.colour, FRONT)
    p.polygon(f.pts((0.0, 0.44), (0.35, 0.05), (0.7, 0.44)), darker(item.colour, 0.9), FRONT)
    p.polygon(f.pts((0.35, 0.05), (0.7, 0.44), (1.0, 0.32), (0.68, -0.02)), roof, TOP)
    p.rect(f.rect(0.76, 0.0, 0.86, 0.2), (150, 80, 60), FRONT)
    p.rect(f.rect(0.27, 0.66, 0.43, 1.0), (110, 66, 40), FRONT)
    for u in (0.08, 0.5):
        p.rect(f.rect(u, 0.56, u + 0.13, 0.74), window, FRONT)
        p.line([f.pt(u + 0.065, 0.56), f.pt(u + 0.065, 0.74)], WHITE, 0.012 * f.w)
    p.rect(f.rect(0.78, 0.52, 0.9, 0.7), window, RIGHT)
    p.ellipse(f.circle(0.35, 0.3, 0.05), window, FLAT)
    if night and p.finish is Finish.LIT:
        p.glow(f.pt(0.35, 0.65), f.h * 0.6, (90, 70, 30), 0.8)


def castle(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    p.rect(f.rect(0.18, 0.35, 0.82, 1.0), c, FRONT)
    for k in range(7):
        u = 0.18 + k * 0.1
        p.rect(f.rect(u, 0.3, u + 0.05, 0.36), c, FRONT, outline=False)
    for u in (0.0, 0.74):
        p.rect(f.rect(u, 0.25, u + 0.26, 1.0), darker(c, 0.95), CYLINDER)
        p.polygon(
            f.pts((u - 0.02, 0.26), (u + 0.13, 0.02), (u + 0.28, 0.26)), (70, 80, 140), CYLINDER
        )
        p.rect(f.rect(u + 0.09, 0.42, u + 0.17, 0.54), (40, 40, 50), FLAT)
    p.rect(f.rect(0.36, 0.12, 0.64, 0.4), lighter(c, 0.08), CYLINDER)
    p.polygon(f.pts((0.34, 0.13), (0.5, -0.06), (0.66, 0.13)), (70, 80, 140), CYLINDER)
    p.line([f.pt(0.5, -0.06), f.pt(0.5, -0.14)], INK, 0.01 * f.w)
    p.polygon(f.pts((0.5, -0.14), (0.6, -0.12), (0.5, -0.1)), (200, 40, 40), FLAT)
    p.ellipse(f.rect(0.4, 0.66, 0.6, 0.86), (50, 36, 30), FLAT)
    p.rect(f.rect(0.4, 0.76, 0.6, 1.0), (50, 36, 30), FLAT)


def lighthouse(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    stripes = 5
    for k in range(stripes):
        v0, v1 = 0.25 + k * 0.15, 0.25 + (k + 1) * 0.15
        half0, half1 = 0.22 + 0.12 * (v0 - 0.25), 0.22 + 0.12 * (v1 - 0.25)
        colour = (200, 40, 40) if k % 2 else item.colour
        bounds = f.rect(0.15, 0.25, 0.85, 1.0)
        p.polygon(
            f.pts((0.5 - half0, v0), (0.5 + half0, v0), (0.5 + half1, v1), (0.5 - half1, v1)),
            colour,
            Shade("cylinder", bounds=bounds),
            outline=k == stripes - 1,
        )
    p.rect(f.rect(0.22, 0.1, 0.78, 0.26), (250, 236, 170), FLAT)
    p.polygon(f.pts((0.18, 0.11), (0.5, -0.02), (0.82, 0.11)), (60, 60, 70), CYLINDER)
    if p.finish is Finish.LIT:
        p.glow(f.pt(0.5, 0.18), f.h * 0.4, (160, 140, 60), 0.9)


def car(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    body = Shade("cylinder", gloss=0.9, bounds=f.rect(0, 0.1, 1, 1.8))
    p.polygon(f.pts((0.22, 0.42), (0.34, 0.05), (0.7, 0.05), (0.84, 0.42)), c, body)
    p.polygon(
        f.pts((0.3, 0.4), (0.38, 0.12), (0.51, 0.12), (0.51, 0.4)),
        (170, 200, 220),
        Shade("plane", gloss=0.6),
        outline=False,
    )
    p.polygon(
        f.pts((0.55, 0.4), (0.55, 0.12), (0.67, 0.12), (0.76, 0.4)),
        (170, 200, 220),
        Shade("plane", gloss=0.6),
        outline=False,
    )
    p.rounded(f.rect(0.0, 0.36, 1.0, 0.82), 0.12 * f.h, c, body)
    p.rect(f.rect(0.02, 0.5, 0.06, 0.6), (255, 200, 120), FLAT, outline=False)
    p.rect(f.rect(0.94, 0.48, 1.0, 0.58), (250, 250, 220), FLAT, outline=False)
    for u in (0.22, 0.78):
        p.ellipse(f.rect(u - 0.11, 0.6, u + 0.11, 1.0), (30, 30, 34), ROUND)
        p.ellipse(f.rect(u - 0.05, 0.71, u + 0.05, 0.89), (190, 190, 196), ROUND, outline=False)


def boat(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    p.line([f.pt(0.48, 0.0), f.pt(0.48, 0.72)], (90, 60, 40), 0.025 * f.w)
    p.polygon(
        f.pts((0.5, 0.02), (0.5, 0.68), (0.95, 0.68)), WHITE, Shade("plane", (0.3, 0.0, 1.0))
    )
    p.polygon(
        f.pts((0.46, 0.1), (0.46, 0.68), (0.12, 0.68)),
        (236, 232, 220),
        Shade("plane", (-0.3, 0.0, 1.0)),
    )
    p.polygon(
        f.pts((0.0, 0.7), (1.0, 0.7), (0.84, 1.0), (0.14, 1.0)),
        item.colour,
        Shade("cylinder", bounds=f.rect(0, 0.3, 1, 1)),
    )
    p.line([f.pt(0.02, 0.76), f.pt(0.98, 0.76)], WHITE, 0.015 * f.w)


def umbrella(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    p.line([f.pt(0.5, 0.05), f.pt(0.5, 0.92)], (60, 60, 64), 0.025 * f.w)
    p.line(
        [f.pt(0.5, 0.92), f.pt(0.5, 0.97), f.pt(0.44, 1.0), f.pt(0.4, 0.96)],
        (60, 60, 64),
        0.025 * f.w,
    )
    canopy = f.rect(0.0, 0.05, 1.0, 0.65)

    def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
        d.pieslice(
            (*t(canopy[0], canopy[1]), *t(canopy[2], canopy[1] + (canopy[3] - canopy[1]) * 1.0)),
            180,
            360,
            fill=255,
        )
        for k in range(4):
            a = canopy[0] + (canopy[2] - canopy[0]) * k / 4
            b = canopy[0] + (canopy[2] - canopy[0]) * (k + 1) / 4
            mid_y = canopy[1] + (canopy[3] - canopy[1]) * 0.5
            d.ellipse((*t(a, mid_y - (b - a) * 0.12), *t(b, mid_y + (b - a) * 0.12)), fill=0)

    p.fill(
        canopy,
        draw,
        item.colour,
        Shade(
            "round",
            gloss=0.3,
            bounds=(canopy[0], canopy[1], canopy[2], canopy[3] + (canopy[3] - canopy[1])),
        ),
    )
    p.ellipse(f.circle(0.5, 0.05, 0.02), INK, FLAT)


def mushroom(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    p.polygon(
        f.pts((0.36, 0.45), (0.64, 0.45), (0.68, 1.0), (0.32, 1.0)), (240, 232, 210), CYLINDER
    )
    cap = f.rect(0.0, 0.0, 1.0, 0.6)

    def draw(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
        d.pieslice(
            (*t(0.0 + cap[0], cap[1]), *t(cap[2], cap[3] + (cap[3] - cap[1]))), 180, 360, fill=255
        )

    p.fill(
        cap,
        draw,
        item.colour,
        Shade("round", gloss=0.4, bounds=(cap[0], cap[1], cap[2], cap[3] + (cap[3] - cap[1]))),
    )
    for u, v, r in ((0.3, 0.3, 0.06), (0.55, 0.18, 0.05), (0.72, 0.38, 0.05), (0.45, 0.45, 0.04)):
        p.ellipse(f.circle(u, v, r), WHITE, FLAT, outline=False)


def snowman(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    snow = Shade("round")
    p.ellipse(f.rect(0.0, 0.5, 1.0, 1.0), item.colour, snow)
    p.ellipse(f.rect(0.14, 0.24, 0.86, 0.6), item.colour, snow)
    p.ellipse(f.rect(0.26, 0.04, 0.74, 0.32), item.colour, snow)
    p.rect(f.rect(0.24, 0.27, 0.76, 0.33), (200, 40, 40), CYLINDER)
    p.polygon(f.pts((0.5, 0.17), (0.5, 0.22), (0.72, 0.2)), (240, 130, 30), FLAT)
    for u in (0.42, 0.58):
        p.ellipse(f.circle(u, 0.13, 0.025), INK, FLAT, outline=False)
    for v in (0.4, 0.48, 0.66, 0.78):
        p.ellipse(f.circle(0.5, v, 0.03), INK, FLAT, outline=False)
    p.ellipse(f.rect(0.24, 0.02, 0.76, 0.08), (30, 30, 34), ROUND)
    p.rect(f.rect(0.32, -0.1, 0.68, 0.05), (30, 30, 34), CYLINDER)


# --- creatures ------------------------------------------------------------------------------


def cat(p: Painter, item: Item, scene: Scene) -> None:
    """A cat sitting and facing us, tail curled round to one side."""
    f = Frame(item.box, item.flip)
    c = item.colour
    belly = lighter(c, 0.3) if sum(c) > 120 else lighter(c, 0.12)
    tail = f.pts((0.7, 0.95), (0.9, 0.93), (1.0, 0.8), (0.98, 0.62), (0.92, 0.52))
    p.line(tail, darker(c, 0.9), 0.08 * f.w, shade=MATTE)
    p.ellipse(f.rect(0.12, 0.36, 0.88, 1.0), c, MATTE)
    p.ellipse(f.rect(0.32, 0.46, 0.68, 0.94), belly, MATTE, outline=False, alpha=0.7)
    for u in (0.3, 0.54):
        p.ellipse(f.rect(u, 0.88, u + 0.16, 1.0), belly, MATTE)
    for side in (0, 1):
        ear = [(0.22, 0.24), (0.25, 0.0), (0.43, 0.12)]
        inner = [(0.26, 0.19), (0.28, 0.06), (0.38, 0.13)]
        if side:
            ear = [(1 - u, v) for u, v in ear]
            inner = [(1 - u, v) for u, v in inner]
        p.polygon(f.pts(*ear), c, MATTE)
        p.polygon(f.pts(*inner), (226, 150, 160), FLAT, outline=False)
    p.ellipse(f.rect(0.2, 0.05, 0.8, 0.5), c, MATTE)
    p.ellipse(f.rect(0.36, 0.3, 0.64, 0.48), belly, MATTE, outline=False, alpha=0.6)
    for u in (0.37, 0.63):
        p.ellipse(f.rect(u - 0.06, 0.2, u + 0.06, 0.3), (150, 200, 70), ROUND, outline=False)
        p.ellipse(f.rect(u - 0.015, 0.205, u + 0.015, 0.295), INK, FLAT, outline=False)
    p.polygon(f.pts((0.46, 0.33), (0.54, 0.33), (0.5, 0.37)), (220, 110, 130), FLAT, outline=False)
    whisker = (235, 235, 235) if sum(c) < 300 else (80, 70, 70)
    for dv in (-0.015, 0.02):
        p.line([f.pt(0.56, 0.37), f.pt(0.86, 0.35 + dv * 2)], whisker, 0.006 * f.w)
        p.line([f.pt(0.44, 0.37), f.pt(0.14, 0.35 + dv * 2)], whisker, 0.006 * f.w)


def dog(p: Painter, item: Item, scene: Scene) -> None:
    """A dog sitting and facing us, with floppy ears and a collar."""
    f = Frame(item.box, item.flip)
    c = item.colour
    light = lighter(c, 0.4)
    p.line(f.pts((0.75, 0.92), (0.92, 0.86), (1.0, 0.7)), darker(c, 0.9), 0.07 * f.w, shade=MATTE)
    p.ellipse(f.rect(0.14, 0.38, 0.86, 1.0), c, MATTE)
    p.ellipse(f.rect(0.33, 0.45, 0.67, 0.95), light, MATTE, outline=False, alpha=0.8)
    for u in (0.28, 0.56):
        p.rounded(f.rect(u, 0.62, u + 0.16, 1.0), 0.07 * f.w, c, CYLINDER)
        p.ellipse(f.rect(u - 0.01, 0.92, u + 0.17, 1.01), light, MATTE)
    p.rounded(f.rect(0.28, 0.42, 0.72, 0.47), 0.02 * f.w, (200, 40, 40), CYLINDER)
    p.ellipse(f.circle(0.5, 0.5, 0.04), (240, 200, 60), ROUND, outline=False)
    p.ellipse(f.rect(0.22, 0.02, 0.78, 0.46), c, MATTE)
    for u0, u1 in ((0.1, 0.3), (0.7, 0.9)):
        p.ellipse(f.rect(u0, 0.06, u1, 0.42), darker(c, 0.65), MATTE)
    p.ellipse(f.rect(0.34, 0.24, 0.66, 0.44), light, MATTE, outline=False)
    p.ellipse(f.rect(0.44, 0.25, 0.56, 0.32), INK, ROUND, outline=False)
    p.line(f.pts((0.5, 0.32), (0.5, 0.37)), INK, 0.01 * f.w)
    p.polygon(
        f.pts((0.46, 0.38), (0.54, 0.38), (0.53, 0.44), (0.47, 0.44)),
        (230, 110, 120),
        FLAT,
        outline=False,
    )
    for u in (0.38, 0.62):
        p.ellipse(f.circle(u, 0.17, 0.035), INK, ROUND, outline=False)
        p.ellipse(f.circle(u + 0.01, 0.16, 0.01), WHITE, FLAT, outline=False)


def bird(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    p.polygon(f.pts((0.1, 0.5), (0.0, 0.35), (0.0, 0.68)), darker(c, 0.8), FLAT)
    p.ellipse(f.rect(0.08, 0.38, 0.78, 0.78), c, MATTE)
    p.ellipse(f.rect(0.6, 0.25, 0.9, 0.6), c, MATTE)
    p.polygon(f.pts((0.88, 0.38), (1.0, 0.44), (0.88, 0.48)), (240, 170, 40), FLAT)
    p.ellipse(f.rect(0.74, 0.35, 0.79, 0.42), INK, FLAT, outline=False)
    p.polygon(f.pts((0.25, 0.5), (0.55, 0.5), (0.3, 0.0)), darker(c, 0.85), MATTE)


def fish(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    p.polygon(f.pts((0.26, 0.5), (0.0, 0.1), (0.06, 0.5), (0.0, 0.9)), darker(c, 0.85), MATTE)
    p.ellipse(f.rect(0.16, 0.12, 1.0, 0.88), c, ROUND)
    p.polygon(f.pts((0.45, 0.16), (0.62, -0.04), (0.7, 0.16)), darker(c, 0.85), FLAT)
    for u in (0.45, 0.6):
        p.line(
            [f.pt(u, 0.2), f.pt(u - 0.04, 0.5), f.pt(u, 0.8)],
            lighter(c, 0.5),
            0.025 * f.w,
            alpha=0.7,
        )
    p.ellipse(f.circle(0.82, 0.4, 0.05), WHITE, FLAT, outline=False)
    p.ellipse(f.circle(0.83, 0.4, 0.025), INK, FLAT, outline=False)


def flower(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    stem = (60, 130, 60)
    p.line([f.pt(0.5, 1.0), f.pt(0.48, 0.6), f.pt(0.5, 0.35)], stem, 0.05 * f.w)
    leaf(p, f.pt(0.49, 0.78), 0.9, f.h * 0.25, f.w * 0.2, stem)
    leaf(p, f.pt(0.49, 0.7), -0.9, f.h * 0.22, f.w * 0.18, darker(stem, 0.9))
    cx, cy = f.pt(0.5, 0.22)
    if item.alias == "tulip":
        bloom = Shade("round", bounds=f.rect(0.14, 0.02, 0.86, 0.46))
        p.ellipse(f.rect(0.2, 0.1, 0.8, 0.44), darker(item.colour, 0.85), bloom)
        for u0, u1, top in ((0.16, 0.56, 0.04), (0.44, 0.84, 0.04), (0.3, 0.7, 0.0)):
            petal = f.pts(
                (u0, 0.3),
                (u0 + 0.04, top + 0.1),
                ((u0 + u1) / 2, top),
                (u1 - 0.04, top + 0.1),
                (u1, 0.3),
                ((u0 + u1) / 2, 0.44),
            )
            p.polygon(petal, item.colour, bloom)
        return
    petals = 8 if item.alias in ("daisy", "sunflower") else 6
    for k in range(petals):
        angle = 2 * math.pi * k / petals
        leaf(p, (cx, cy), angle, f.w * 0.5, f.w * 0.28, item.colour)
    centre = (250, 200, 40) if item.alias != "sunflower" else (100, 60, 30)
    p.ellipse((cx - f.w * 0.14, cy - f.w * 0.14, cx + f.w * 0.14, cy + f.w * 0.14), centre, ROUND)


def person(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    if item.alias == "astronaut":
        suit = (236, 236, 240)
        p.rounded(f.rect(0.2, 0.52, 0.44, 1.0), 0.08 * f.w, suit, CYLINDER)
        p.rounded(f.rect(0.56, 0.52, 0.8, 1.0), 0.08 * f.w, suit, CYLINDER)
        p.rounded(f.rect(0.1, 0.24, 0.9, 0.66), 0.2 * f.w, suit, CYLINDER)
        p.ellipse(f.rect(0.15, -0.02, 0.85, 0.3), suit, ROUND)
        p.ellipse(f.rect(0.25, 0.05, 0.75, 0.24), (60, 80, 120), Shade("round", gloss=1.0))
        return
    trousers = (50, 56, 80)
    p.rounded(f.rect(0.28, 0.58, 0.48, 1.0), 0.06 * f.w, trousers, CYLINDER)
    p.rounded(f.rect(0.52, 0.58, 0.72, 1.0), 0.06 * f.w, trousers, CYLINDER)
    p.rounded(f.rect(0.08, 0.22, 0.26, 0.56), 0.08 * f.w, darker(c, 0.9), CYLINDER)
    p.rounded(f.rect(0.74, 0.22, 0.92, 0.56), 0.08 * f.w, darker(c, 0.9), CYLINDER)
    p.rounded(f.rect(0.2, 0.2, 0.8, 0.64), 0.16 * f.w, c, CYLINDER)
    p.ellipse(f.rect(0.3, 0.0, 0.7, 0.2), SKIN, ROUND)
    p.polygon(
        f.pts((0.28, 0.09), (0.34, -0.01), (0.66, -0.01), (0.72, 0.09), (0.5, 0.05)),
        (70, 46, 30),
        MATTE,
        outline=False,
    )


def robot(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    metal = Shade("cylinder", gloss=0.8)
    p.rect(f.rect(0.28, 0.7, 0.42, 1.0), darker(c, 0.8), metal)
    p.rect(f.rect(0.58, 0.7, 0.72, 1.0), darker(c, 0.8), metal)
    p.rounded(f.rect(0.04, 0.34, 0.16, 0.66), 0.05 * f.w, darker(c, 0.85), metal)
    p.rounded(f.rect(0.84, 0.34, 0.96, 0.66), 0.05 * f.w, darker(c, 0.85), metal)
    p.rounded(f.rect(0.16, 0.3, 0.84, 0.74), 0.06 * f.w, c, metal)
    p.rounded(f.rect(0.34, 0.42, 0.66, 0.58), 0.03 * f.w, (60, 70, 80), FLAT)
    for k, colour in enumerate(((230, 60, 60), (250, 200, 60), (80, 200, 120))):
        p.ellipse(f.circle(0.4 + 0.1 * k, 0.5, 0.03), colour, FLAT, outline=False)
    p.rect(f.rect(0.44, 0.24, 0.56, 0.31), darker(c, 0.7), FLAT)
    p.rounded(f.rect(0.22, 0.04, 0.78, 0.26), 0.06 * f.w, c, metal)
    p.line([f.pt(0.5, 0.04), f.pt(0.5, -0.04)], darker(c, 0.6), 0.02 * f.w)
    p.ellipse(f.circle(0.5, -0.05, 0.04), (230, 60, 60), ROUND)
    for u in (0.37, 0.63):
        p.ellipse(f.circle(u, 0.14, 0.06), (90, 230, 250), FLAT)
        if p.finish is Finish.LIT:
            p.glow(f.pt(u, 0.14), f.w * 0.12, (40, 120, 140), 0.8)


# --- the sky --------------------------------------------------------------------------------


def sun(p: Painter, item: Item, scene: Scene) -> None:
    x0, y0, x1, y1 = item.box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    low = scene.prompt.time in ("sunset", "dawn")
    colour = (255, 150, 70) if low else item.colour
    if p.finish is Finish.LIT:
        p.glow((cx, cy), r * 4.5, (120, 80, 30) if low else (90, 80, 40), 0.9)
    elif p.finish is Finish.CARTOON:
        for k in range(12):
            a = k * math.pi / 6
            p.line(
                [
                    (cx + math.cos(a) * r * 1.25, cy + math.sin(a) * r * 1.25),
                    (cx + math.cos(a) * r * 1.6, cy + math.sin(a) * r * 1.6),
                ],
                colour,
                6 * p.unit,
            )
    p.ellipse(item.box, colour, FLAT)
    p.ellipse(
        (cx - r * 0.8, cy - r * 0.8, cx + r * 0.8, cy + r * 0.8),
        lighter(colour, 0.5),
        FLAT,
        alpha=0.6,
        outline=False,
    )


def moon(p: Painter, item: Item, scene: Scene) -> None:
    x0, y0, x1, y1 = item.box
    r = (x1 - x0) / 2
    if p.finish is Finish.LIT:
        p.glow(((x0 + x1) / 2, (y0 + y1) / 2), r * 3.5, (50, 56, 70), 0.8)
    if item.alias == "full moon":
        p.ellipse(item.box, item.colour, FLAT)
        for u, v, k in ((0.35, 0.4, 0.12), (0.6, 0.62, 0.09), (0.62, 0.3, 0.07)):
            p.ellipse(
                (
                    x0 + u * 2 * r - k * r,
                    y0 + v * 2 * r - k * r,
                    x0 + u * 2 * r + k * r,
                    y0 + v * 2 * r + k * r,
                ),
                darker(item.colour, 0.85),
                FLAT,
                outline=False,
            )
        return

    def crescent(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
        d.ellipse((*t(x0, y0), *t(x1, y1)), fill=255)
        d.ellipse((*t(x0 + r * 0.6, y0 - r * 0.3), *t(x1 + r * 0.6, y1 - r * 0.3)), fill=0)

    p.fill(item.box, crescent, item.colour, FLAT)


def star(p: Painter, item: Item, scene: Scene) -> None:
    x0, y0, x1, y1 = item.box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    if r < 6 * p.unit:
        p.ellipse(
            (cx - r * 0.35, cy - r * 0.35, cx + r * 0.35, cy + r * 0.35),
            item.colour,
            FLAT,
            outline=False,
        )
        return
    thin = r * 0.22
    points = []
    for k in range(8):
        a = k * math.pi / 4
        rr = r if k % 2 == 0 else thin
        points.append((cx + math.sin(a) * rr, cy - math.cos(a) * rr))
    p.polygon(points, item.colour, FLAT, outline=False)
    if p.finish is Finish.LIT:
        p.glow((cx, cy), r * 1.5, (60, 60, 40), 0.7)


def cloud(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    night = scene.prompt.time == "night"
    colour = (120, 124, 150) if night else item.colour
    if scene.prompt.time == "sunset":
        colour = (250, 196, 190)
    bounds = f.rect(0, -0.2, 1, 1.1)
    shade = Shade("round", bounds=bounds)
    for u, v, r in (
        (0.3, 0.55, 0.18),
        (0.52, 0.4, 0.24),
        (0.72, 0.58, 0.17),
        (0.15, 0.72, 0.12),
        (0.86, 0.74, 0.1),
    ):
        p.ellipse(f.circle(u, v, r), colour, shade, outline=False)
    p.rounded(f.rect(0.06, 0.6, 0.94, 0.92), 0.15 * f.h, colour, shade, outline=False)


def planet(p: Painter, item: Item, scene: Scene) -> None:
    x0, y0, x1, y1 = item.box
    w, h = x1 - x0, y1 - y0
    c = item.colour
    ringed = item.alias in ("planet", "saturn")
    ring_box = (x0 - w * 0.45, y0 + h * 0.36, x1 + w * 0.45, y1 - h * 0.36)
    if ringed:
        ring(p, ring_box, lighter(c, 0.3), w * 0.06, alpha=0.9)
    body = Shade("round", bounds=item.box)

    def banded(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
        d.ellipse((*t(x0, y0), *t(x1, y1)), fill=255)

    p.fill(item.box, banded, c, body)
    for k in range(4):
        yy = y0 + h * (0.25 + 0.16 * k)

        def band(
            d: ImageDraw.ImageDraw, t: Callable[[float, float], Point], yy: float = yy
        ) -> None:
            d.ellipse((*t(x0, y0), *t(x1, y1)), fill=255)
            d.rectangle((*t(x0, y0), *t(x1, yy)), fill=0)
            d.rectangle((*t(x0, yy + h * 0.06), *t(x1, y1)), fill=0)

        p.fill(
            item.box,
            band,
            darker(c, 0.85) if k % 2 else lighter(c, 0.2),
            body,
            outline=False,
            alpha=0.8,
        )
    if ringed:

        def front(d: ImageDraw.ImageDraw, t: Callable[[float, float], Point]) -> None:
            d.ellipse(
                (*t(ring_box[0], ring_box[1]), *t(ring_box[2], ring_box[3])),
                outline=255,
                width=max(1, round(w * 0.06 * p.ss)),
            )
            d.rectangle(
                (*t(ring_box[0], ring_box[1]), *t(ring_box[2], (ring_box[1] + ring_box[3]) / 2)),
                fill=0,
            )

        p.fill(ring_box, front, lighter(c, 0.3), FLAT, alpha=0.95)


def rocket(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    body = Shade("cylinder", gloss=0.7, bounds=f.rect(0.22, 0, 0.78, 1))
    flying = not item.grounded
    if flying:
        flame = f.pts((0.36, 0.84), (0.64, 0.84), (0.5, 1.12))
        p.polygon(flame, (255, 150, 40), FLAT, outline=False)
        p.polygon(
            f.pts((0.42, 0.84), (0.58, 0.84), (0.5, 1.0)), (255, 236, 150), FLAT, outline=False
        )
        if p.finish is Finish.LIT:
            p.glow(f.pt(0.5, 0.95), f.h * 0.25, (160, 90, 30), 0.9)
    p.polygon(f.pts((0.22, 0.62), (0.0, 0.9), (0.0, 0.98), (0.3, 0.84)), (200, 40, 40), FLAT)
    p.polygon(f.pts((0.78, 0.62), (1.0, 0.9), (1.0, 0.98), (0.7, 0.84)), (200, 40, 40), FLAT)
    p.polygon(
        f.pts(
            (0.5, 0.0),
            (0.68, 0.12),
            (0.78, 0.3),
            (0.78, 0.86),
            (0.22, 0.86),
            (0.22, 0.3),
            (0.32, 0.12),
        ),
        c,
        body,
    )
    p.polygon(f.pts((0.5, 0.0), (0.66, 0.11), (0.34, 0.11)), (200, 40, 40), body, outline=False)
    p.ellipse(f.circle(0.5, 0.36, 0.14), (170, 170, 180), FLAT)
    p.ellipse(f.circle(0.5, 0.36, 0.1), (70, 130, 200), Shade("round", gloss=1.0))


def kite(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    tail = [f.pt(0.5, 1.0)]
    for k in range(1, 6):
        tail.append(f.pt(0.5 + 0.15 * math.sin(k * 1.3), 1.0 + 0.25 * k))
    p.line(tail, (60, 60, 60), 1.5 * p.unit)
    for x, y in tail[1::2]:
        p.polygon(
            [
                (x - f.w * 0.08, y - f.w * 0.05),
                (x + f.w * 0.08, y + f.w * 0.05),
                (x + f.w * 0.08, y - f.w * 0.05),
                (x - f.w * 0.08, y + f.w * 0.05),
            ],
            (250, 210, 60),
            FLAT,
        )
    p.line(
        [f.pt(0.5, 1.0), (f.x(0.5) - scene.width * 0.1, scene.base_y(0.7))],
        (80, 80, 80),
        1.2 * p.unit,
        alpha=0.7,
    )
    p.polygon(
        f.pts((0.5, 0.0), (1.0, 0.35), (0.5, 1.0), (0.0, 0.35)),
        item.colour,
        Shade("plane", (-0.3, -0.2, 1.0)),
    )
    p.polygon(
        f.pts((0.5, 0.0), (1.0, 0.35), (0.5, 0.35)),
        lighter(item.colour, 0.3),
        FLAT,
        outline=False,
        alpha=0.5,
    )
    p.line([f.pt(0.5, 0.0), f.pt(0.5, 1.0)], (90, 60, 40), 1.5 * p.unit)
    p.line([f.pt(0.0, 0.35), f.pt(1.0, 0.35)], (90, 60, 40), 1.5 * p.unit)


def balloon(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    if item.alias == "hot air balloon":
        p.line([f.pt(0.3, 0.7), f.pt(0.4, 0.88)], INK, 1.5 * p.unit)
        p.line([f.pt(0.7, 0.7), f.pt(0.6, 0.88)], INK, 1.5 * p.unit)
        p.rect(f.rect(0.38, 0.86, 0.62, 1.0), WOOD, CYLINDER)
        envelope = f.rect(0.0, 0.0, 1.0, 0.78)
        p.ellipse(envelope, item.colour, Shade("round", gloss=0.3, bounds=envelope))
        for u0, u1 in ((0.3, 0.42), (0.58, 0.7)):
            p.polygon(
                f.pts(
                    (u0, 0.02),
                    (u1, 0.02),
                    (0.5 + (u1 - 0.5) * 0.5, 0.74),
                    (0.5 + (u0 - 0.5) * 0.5, 0.74),
                ),
                lighter(item.colour, 0.5),
                Shade("round", bounds=envelope),
                outline=False,
            )
        return
    p.line(
        [f.pt(0.5, 0.82), f.pt(0.45, 1.0), f.pt(0.55, 1.3), f.pt(0.5, 1.8)],
        (90, 90, 90),
        1.2 * p.unit,
    )
    p.polygon(f.pts((0.44, 0.86), (0.56, 0.86), (0.5, 0.78)), darker(item.colour), FLAT)
    p.ellipse(f.rect(0.1, 0.0, 0.9, 0.82), item.colour, Shade("round", gloss=1.0))


def guitar(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    p.rect(f.rect(0.44, 0.02, 0.56, 0.5), (90, 56, 30), FLAT)
    p.rounded(f.rect(0.4, -0.04, 0.6, 0.06), 0.03 * f.w, (60, 40, 24), FLAT)
    body = Shade("round", gloss=0.5, bounds=f.rect(0, 0.38, 1, 1))
    p.ellipse(f.rect(0.12, 0.38, 0.88, 0.7), c, body)
    p.ellipse(f.rect(0.0, 0.55, 1.0, 1.0), c, body)
    p.ellipse(f.rect(0.3, 0.54, 0.7, 0.7), (40, 26, 16), FLAT, outline=False)
    p.rect(f.rect(0.36, 0.84, 0.64, 0.88), (60, 40, 24), FLAT, outline=False)
    for k in range(4):
        u = 0.46 + 0.027 * k
        p.line([f.pt(u, 0.03), f.pt(u, 0.86)], (230, 230, 220), 0.6 * p.unit)


def chair(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    for u in (0.12, 0.78):
        p.rect(f.rect(u, 0.52, u + 0.08, 1.0), darker(c, 0.8), CYLINDER)
    p.rect(f.rect(0.18, 0.0, 0.26, 0.55), darker(c, 0.85), CYLINDER)
    p.rect(f.rect(0.74, 0.0, 0.82, 0.55), darker(c, 0.85), CYLINDER)
    for v in (0.06, 0.2, 0.34):
        p.rect(f.rect(0.18, v, 0.82, v + 0.07), c, FRONT)
    p.polygon(f.pts((0.04, 0.56), (0.96, 0.56), (0.86, 0.48), (0.14, 0.48)), lighter(c, 0.1), TOP)
    p.rect(f.rect(0.04, 0.56, 0.96, 0.62), c, FRONT)
    for u in (0.06, 0.86):
        p.rect(f.rect(u, 0.62, u + 0.08, 1.0), c, CYLINDER)


def table(p: Painter, item: Item, scene: Scene) -> None:
    f = Frame(item.box, item.flip)
    c = item.colour
    for u in (0.1, 0.82):
        p.rect(f.rect(u + 0.04, 0.08, u + 0.1, 0.88), darker(c, 0.7), CYLINDER)
    p.polygon(f.pts((0.0, 0.1), (1.0, 0.1), (0.92, 0.0), (0.08, 0.0)), lighter(c, 0.08), TOP)
    p.rect(f.rect(0.0, 0.1, 1.0, 0.17), c, FRONT)
    for u in (0.04, 0.88):
        p.rect(f.rect(u, 0.17, u + 0.08, 1.0), c, CYLINDER)


PAINTERS: dict[str, Callable[[Painter, Item, Scene], None]] = {
    "sphere": sphere,
    "cube": cube,
    "book": book,
    "plant": plant,
    "tree": tree,
    "house": house,
    "sun": sun,
    "moon": moon,
    "star": star,
    "cloud": cloud,
    "boat": boat,
    "car": car,
    "cat": cat,
    "dog": dog,
    "bird": bird,
    "fish": fish,
    "flower": flower,
    "apple": apple,
    "cup": cup,
    "table": table,
    "chair": chair,
    "lamp": lamp,
    "candle": candle,
    "clock": clock,
    "hat": hat,
    "sign": sign,
    "person": person,
    "robot": robot,
    "rocket": rocket,
    "planet": planet,
    "castle": castle,
    "umbrella": umbrella,
    "kite": kite,
    "balloon": balloon,
    "guitar": guitar,
    "bottle": bottle,
    "lighthouse": lighthouse,
    "mushroom": mushroom,
    "snowman": snowman,
}


def paint_item(p: Painter, item: Item, scene: Scene) -> None:
    PAINTERS[item.kind](p, item, scene)
