"""Layout: from a parsed prompt to placed items on a ground plane with simple perspective.

Every placed thing stands on a base line (its box's bottom edge) at a depth between 0 (far) and
1 (near); depth sets both how high the base is on the picture and how large the thing is, and
things are drawn far to near. Relations ("on top of", "inside", "behind") are resolved against
the anchor's placed box. `Fidelity` is how much of the prompt a model honours; `Camera` is what a
seed decides that the prompt leaves open.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from gateway.local.colours import RGB
from gateway.local.paint import Box
from gateway.local.parse import ObjectSpec, PromptSpec, Relation
from gateway.local.vocab import KINDS


@dataclass(frozen=True)
class Fidelity:
    relations: float = 1.0  # share of relations honoured exactly (the rest are approximated)
    positions: float = 1.0  # share of left/right/centre words honoured
    count_error: float = 0.0  # chance that a count comes out one off
    max_objects: int = 12
    jitter: float = 0.0  # random wander of free placements, as a share of the width


@dataclass(frozen=True)
class Camera:
    """One rendition's choices where the prompt is silent, drawn from the seed: where the
    horizon sits, how close the camera stands, which way the free things are laid out, and
    where the light comes from when the prompt names no side. A prompt's own words (a position,
    a light direction) always win over these."""

    tilt: float = 0.0  # horizon shift, as a share of the height (positive: lower)
    zoom: float = 1.0  # scale of the standing things
    pan: float = 0.0  # shift of the free placements, as a share of the width
    mirror: bool = False  # free things without a position word go right to left
    light_side: Literal["left", "right"] = "left"  # the key light's, if the prompt names none
    light_lean: tuple[float, float] = (0.0, 0.0)  # the key light's wander off its side
    sky: tuple[float, float, float] = (
        1.0,
        1.0,
        1.0,
    )  # white balance of sky and walls, warm to cool
    stagger: int = 0  # which depth pattern a row of free things follows
    # A broad patch of light or shade on the backdrop (sun through a window, a cloud's
    # shadow): centre x and y and radius as shares of the picture, and its gain.
    pool: tuple[float, float, float, float] = (0.5, 0.5, 0.5, 0.0)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Camera:
        warmth = float(rng.uniform(-1, 1))
        return cls(
            tilt=float(rng.uniform(-0.07, 0.07)),
            zoom=float(rng.uniform(0.82, 1.14)),
            pan=float(rng.uniform(-0.1, 0.1)),
            mirror=bool(rng.random() < 0.5),
            light_side="left" if rng.random() < 0.5 else "right",
            light_lean=(float(rng.uniform(-0.25, 0.25)), float(rng.uniform(-0.2, 0.2))),
            sky=(1 + 0.05 * warmth, 1.0, 1 - 0.05 * warmth),
            stagger=int(rng.integers(0, 6)),
            pool=(
                float(rng.uniform(0.1, 0.9)),
                float(rng.uniform(0.15, 0.85)),
                float(rng.uniform(0.25, 0.45)),
                float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.18)),
            ),
        )


@dataclass
class Item:
    kind: str
    alias: str
    colour: RGB
    box: Box
    depth: float
    order: float
    material: str | None = None
    text: str | None = None
    flip: bool = False
    grounded: bool = True
    spec: int = 0  # index of the ObjectSpec it came from

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre_x(self) -> float:
        return (self.box[0] + self.box[2]) / 2


@dataclass
class Scene:
    width: int
    height: int
    prompt: PromptSpec
    horizon: float  # y of the horizon, or of the back edge of a table
    far: float  # base line y at depth 0
    near: float  # base line y at depth 1
    items: list[Item] = field(default_factory=list)
    window: Box | None = None
    mountains: RGB | None = None
    lake: RGB | None = None
    road: RGB | None = None
    bridge: RGB | None = None
    fence: RGB | None = None
    sky_sun: bool = False
    sky_moon: bool = False
    sky_stars: bool = False
    lake_depth: float = 0.34  # share of the ground the water covers
    camera: Camera = field(default_factory=Camera)

    def base_y(self, depth: float) -> float:
        return self.far + (self.near - self.far) * depth

    @property
    def lake_band(self) -> tuple[float, float]:
        return self.horizon, self.horizon + (self.height - self.horizon) * self.lake_depth

    def sorted_items(self) -> list[Item]:
        return sorted(self.items, key=lambda item: item.order)


# Setting -> (horizon, far base, near base) as shares of the height, size of the largest
# standing thing, and how much smaller things get at the far end.
GEOMETRY = {
    "tabletop": (0.56, 0.64, 0.93, 0.44, 0.72),
    "studio": (0.6, 0.66, 0.92, 0.44, 0.75),
    "room": (0.64, 0.7, 0.97, 0.52, 0.7),
    "outdoor": (0.56, 0.62, 0.96, 0.42, 0.45),
    "underwater": (0.7, 0.76, 0.96, 0.34, 0.6),
    "space": (0.74, 0.78, 0.96, 0.34, 0.6),
}
SUPPORT = {"cube": 0.12, "table": 0.05, "chair": 0.5, "car": 0.12, "book": 0.02, "bottle": 0.0}
CROWNS = {"cat": (0.5, 0.04), "dog": (0.5, 0.03), "person": (0.5, 0.0), "robot": (0.5, 0.0)}
INDOOR = ("tabletop", "studio", "room")
FLYING_INDOORS = {"fish"}
SKY_OUTDOORS = {"sun", "moon", "star", "cloud", "bird", "kite", "balloon", "planet"}
BACKDROP = {"mountain", "lake", "road", "bridge", "fence"}
DEFAULT_DEPTH = 0.55


def layout(
    spec: PromptSpec,
    width: int,
    height: int,
    rng: np.random.Generator,
    fidelity: Fidelity,
    camera: Camera,
) -> Scene:
    horizon, far, near, hero, _ = GEOMETRY[spec.setting]
    tilt = camera.tilt
    scene = Scene(
        width,
        height,
        spec,
        (horizon + tilt) * height,
        (far + tilt) * height,
        (near + tilt * 0.4) * height,
        camera=camera,
    )
    objects = list(spec.objects[: fidelity.max_objects])
    objects = [_degrade(obj, rng, fidelity) for obj in objects]
    if spec.setting in INDOOR and spec.lighting.window:
        scene.window = _window_box(scene, spec.lighting.direction or camera.light_side)
    _backdrop(scene, objects)
    flying = [n for n, o in enumerate(objects) if _flies(o.kind, spec.setting, spec.ground)]
    standing = [
        n
        for n, o in enumerate(objects)
        if n not in flying and o.kind not in BACKDROP and o.kind != "window"
    ]
    sizes = _sizes(objects, standing, hero * height * camera.zoom)
    _place_standing(scene, objects, standing, sizes, rng, fidelity)
    _place_flying(scene, objects, flying, rng)
    if spec.season == "autumn":
        for k, item in enumerate(scene.items):
            if item.kind == "tree" and objects[item.spec].colour is None:
                item.colour = AUTUMN[k % len(AUTUMN)]
    return scene


def _degrade(obj: ObjectSpec, rng: np.random.Generator, fidelity: Fidelity) -> ObjectSpec:
    """A weaker model loses some relations, positions and counts; the draw is seeded."""
    relation, position, count = obj.relation, obj.position, obj.count
    if relation and rng.random() >= fidelity.relations:
        loose: dict[Relation, Relation] = {
            "inside": "in_front",
            "on": "next_to",
            "behind": "next_to",
            "under": "next_to",
        }
        relation = loose.get(relation, "next_to")
    if position and rng.random() >= fidelity.positions:
        position = None
    if fidelity.count_error and obj.kind != "star" and rng.random() < fidelity.count_error:
        count = max(1, count + (1 if count == 1 or rng.random() < 0.5 else -1))
    return replace(obj, relation=relation, position=position, count=count)


def _flies(kind: str, setting: str, ground: str) -> bool:
    if setting in INDOOR:
        return kind in FLYING_INDOORS or kind in ("sun", "moon", "star", "cloud")
    if setting == "underwater":
        return kind in ("fish", "bird", "balloon", "kite", "sun", "moon", "star", "cloud")
    if setting == "space":
        return kind in ("planet", "star", "moon", "sun", "bird") or (
            kind in ("rocket", "person", "robot") and ground != "moon"
        )
    return kind in SKY_OUTDOORS


def _window_box(scene: Scene, side: str) -> Box:
    w, h = scene.width, scene.height
    top = 0.07 * h
    bottom = scene.horizon - 0.08 * h
    half = min(0.17 * w, (bottom - top) * 0.42)
    cx = (0.2 if side != "right" else 0.8) * w + scene.camera.pan * 0.5 * w
    cx = min(max(cx, half + 0.03 * w), w - half - 0.03 * w)  # the frame stays on the wall
    return (cx - half, top, cx + half, bottom)


def _backdrop(scene: Scene, objects: list[ObjectSpec]) -> None:
    for obj in objects:
        colour = obj.drawn_colour
        if obj.kind == "mountain":
            scene.mountains = colour
        elif obj.kind == "lake":
            scene.lake = colour
        elif obj.kind == "road":
            scene.road = colour
        elif obj.kind == "bridge":
            scene.bridge = colour
            scene.lake = scene.lake or KINDS["lake"].colour
        elif obj.kind == "fence":
            scene.fence = colour
        elif obj.kind == "boat" and scene.prompt.setting == "outdoor":
            scene.lake = scene.lake or KINDS["lake"].colour
            scene.lake_depth = 0.6  # room for the boat to float in
    if scene.prompt.setting in INDOOR:
        kinds = {o.kind for o in objects}
        scene.sky_sun = "sun" in kinds
        scene.sky_moon = "moon" in kinds
        scene.sky_stars = "star" in kinds or scene.prompt.time == "night"
        if (scene.sky_sun or scene.sky_moon or "star" in kinds) and scene.window is None:
            scene.window = _window_box(scene, scene.camera.light_side)


def _sizes(
    objects: list[ObjectSpec], standing: list[int], hero_px: float
) -> dict[int, tuple[float, float]]:
    """Width and height of one instance of each standing object, at the default depth.

    Real sizes span four orders of magnitude; a power below one keeps a cat next to a house
    visible while still smaller."""
    if not standing:
        return {}
    biggest = max(KINDS[objects[n].kind].size for n in standing)
    sizes: dict[int, tuple[float, float]] = {}
    for n in standing:
        kind = KINDS[objects[n].kind]
        extent = hero_px * (kind.size / biggest) ** 0.5 * objects[n].scale
        extent = max(extent, hero_px * 0.22)
        if kind.aspect >= 1:
            sizes[n] = (extent, extent / kind.aspect)
        else:
            sizes[n] = (extent * kind.aspect, extent)
    return sizes


def _perspective(scene: Scene, depth: float) -> float:
    shrink = GEOMETRY[scene.prompt.setting][4]
    return (shrink + (1 - shrink) * depth) / (shrink + (1 - shrink) * DEFAULT_DEPTH)


def _place_standing(
    scene: Scene,
    objects: list[ObjectSpec],
    standing: list[int],
    sizes: dict[int, tuple[float, float]],
    rng: np.random.Generator,
    fidelity: Fidelity,
) -> None:
    w = scene.width
    anchored = {n for n in standing if objects[n].anchor in standing and objects[n].relation}
    free = [n for n in standing if n not in anchored]
    unplaced = [n for n in free if objects[n].position is None]
    slots = _free_slots(len(unplaced), [objects[n].position for n in free])
    camera = scene.camera
    if camera.mirror:
        slots.reverse()
    groups: dict[int, list[Item]] = {}
    patterns = [0.0, 0.12, -0.1, 0.2, -0.05, 0.08]
    stagger = patterns[camera.stagger :] + patterns[: camera.stagger]
    for k, n in enumerate(free):
        obj = objects[n]
        where = {"left": 0.24, "center": 0.5, "right": 0.76}
        if obj.position:
            # A named side is kept: the thing only wanders within it.
            cx = where[obj.position] + rng.uniform(-0.05, 0.05)
        else:
            cx = slots.pop(0) + camera.pan
        cx = cx + rng.uniform(-1, 1) * fidelity.jitter
        depth = {"background": 0.12, "foreground": 0.95}.get(obj.depth or "", 0.0)
        if not depth:
            depth = DEFAULT_DEPTH + stagger[k % len(stagger)] * (len(free) > 1)
        groups[n] = _group(scene, obj, n, cx * w, depth, sizes[n], rng)
    pending = [n for n in standing if n in anchored]
    for _ in range(len(pending) + 1):
        for n in list(pending):
            anchor = objects[n].anchor
            if anchor is not None and anchor in groups:
                groups[n] = _relate(scene, objects[n], n, groups[anchor], sizes[n], rng)
                pending.remove(n)
    for n in pending:  # relation cycles: fall back to a free placement
        groups[n] = _group(scene, objects[n], n, 0.5 * w, DEFAULT_DEPTH, sizes[n], rng)
    items = [item for n in standing for item in groups[n]]
    if scene.lake:
        for item in items:
            if item.kind == "boat":
                _afloat(scene, item)
    _fit_horizontally(scene, items)
    scene.items.extend(items)


def _afloat(scene: Scene, item: Item) -> None:
    """Boats sit in the water, low in the lake band, a little smaller for being further off."""
    top, bottom = scene.lake_band
    waterline = top + (bottom - top) * 0.65
    k = min(0.8, (bottom - waterline) / (item.height * 0.25))
    w, h = item.width * k, item.height * k
    cx = item.centre_x
    item.box = (cx - w / 2, waterline - h * 0.82, cx + w / 2, waterline + h * 0.18)
    item.grounded = False
    item.order = 0.05


def _free_slots(count: int, positions: list[str | None]) -> list[float]:
    """Evenly spread x centres for objects with no position word, avoiding named ones."""
    if count == 0:
        return []
    if count == 1:
        taken = set(positions)
        if "center" not in taken:
            return [0.5]
        return [0.24 if "left" not in taken else 0.76]
    return [0.18 + 0.64 * k / (count - 1) for k in range(count)]


def _instance_box(scene: Scene, cx: float, depth: float, size: tuple[float, float]) -> Box:
    scale = _perspective(scene, depth)
    w, h = size[0] * scale, size[1] * scale
    base = scene.base_y(depth)
    return (cx - w / 2, base - h, cx + w / 2, base)


def _group(
    scene: Scene,
    obj: ObjectSpec,
    n: int,
    cx: float,
    depth: float,
    size: tuple[float, float],
    rng: np.random.Generator,
) -> list[Item]:
    """`count` instances in a row (two rows when many), spaced so they never touch; or, for
    "a stack of", piled up."""
    count = obj.count
    if obj.stacked:
        scale = _perspective(scene, depth)
        pile = _stack(
            obj, n, cx, scene.base_y(depth), (size[0] * scale, size[1] * scale), depth, depth, rng
        )
        pile[0].grounded = True
        return pile
    gap = 0.28
    span = size[0] * (count + gap * (count - 1))
    limit = scene.width * 0.8
    shrink = min(1.0, limit / span) if count > 1 else 1.0
    rows = 2 if count > 5 else 1
    per_row = -(-count // rows)
    w = size[0] * shrink
    if rows == 2:
        w = min(size[0], limit / (per_row + gap * (per_row - 1)))
    item_size = (w, size[1] * w / size[0])
    items = []
    for k in range(count):
        row, col = divmod(k, per_row)
        in_row = min(per_row, count - row * per_row)
        x = cx + (col - (in_row - 1) / 2) * w * (1 + gap)
        d = depth - 0.14 * (rows - 1 - row) if rows == 2 else depth + rng.uniform(-0.03, 0.03)
        box = _instance_box(scene, x, min(1.0, max(0.0, d)), item_size)
        items.append(_item(obj, n, box, d, rng, k))
    return items


RAINBOW: list[RGB] = [
    (220, 50, 50), (245, 150, 40), (245, 210, 50), (70, 170, 80), (50, 120, 210), (140, 70, 190),
]  # fmt: skip
AUTUMN: list[RGB] = [(206, 110, 40), (220, 160, 50), (170, 60, 40), (190, 130, 50)]


def _item(
    obj: ObjectSpec, n: int, box: Box, depth: float, rng: np.random.Generator, k: int = 0
) -> Item:
    return Item(
        kind=obj.kind,
        alias=obj.alias,
        colour=RAINBOW[(k + n) % len(RAINBOW)] if obj.multicolour else obj.drawn_colour,
        box=box,
        depth=depth,
        order=depth,
        material=obj.material,
        text=obj.text,
        flip=bool(rng.random() < 0.5),
        spec=n,
    )


def _relate(
    scene: Scene,
    obj: ObjectSpec,
    n: int,
    anchors: list[Item],
    size: tuple[float, float],
    rng: np.random.Generator,
) -> list[Item]:
    anchor = anchors[len(anchors) // 2]
    ax0, ay0, ax1, ay1 = anchor.box
    aw, ah = ax1 - ax0, ay1 - ay0
    relation = obj.relation
    scale = _perspective(scene, anchor.depth)
    w, h = size[0] * scale, size[1] * scale

    def fit(limit_w: float, limit_h: float) -> tuple[float, float]:
        k = min(1.0, limit_w / w, limit_h / h)
        return w * k, h * k

    if relation == "on":
        if obj.kind == "hat" and anchor.kind in CROWNS:
            u, v = CROWNS[anchor.kind]
            u = 1 - u if anchor.flip else u
            cw, ch = fit(aw * 0.42, ah * 0.4)
            cx, base = ax0 + u * aw, ay0 + v * ah + ch * 0.25
        else:
            cw, ch = fit(aw * (0.72 if anchor.kind == "cube" else 0.92), ah * 1.5)
            cx, base = anchor.centre_x, ay0 + SUPPORT.get(anchor.kind, 0.0) * ah
        return _stack(obj, n, cx, base, (cw, ch), anchor.order + 0.01, anchor.depth, rng)
    if relation == "inside":
        cw, ch = fit(aw * 0.5, ah * 0.5)
        if anchor.material == "glass":
            cx, base, order = anchor.centre_x, ay1 - ah * 0.06, anchor.order - 0.001
            items = _stack(obj, n, cx, base, (cw, ch), order, anchor.depth, rng)
            items[0].grounded = True
            return items
        if obj.kind in ("flower", "plant"):
            return _bouquet(obj, n, anchor, rng)
        if anchor.kind in ("cup", "bottle", "cube"):
            cx, base, order = anchor.centre_x, ay0 + ch * 0.7, anchor.order - 0.001
        else:
            cx, base, order = anchor.centre_x, ay1 - ah * 0.1, anchor.order + 0.01
        return _stack(obj, n, cx, base, (cw, ch), order, anchor.depth, rng)
    if relation == "under":
        cw, ch = fit(aw * 0.6, ah * 0.5)
        return _stack(
            obj, n, anchor.centre_x, ay1, (cw, ch), anchor.order + 0.01, anchor.depth, rng
        )
    if relation == "above":
        cw, ch = fit(aw, ah)
        box = (anchor.centre_x - cw / 2, ay0 - ch * 1.3, anchor.centre_x + cw / 2, ay0 - ch * 0.3)
        return [replace(_item(obj, n, box, anchor.depth, rng), grounded=False)]
    if relation in ("behind", "in_front"):
        step = -0.16 if relation == "behind" else 0.2
        depth = min(1.0, max(0.0, anchor.depth + step))
        side = 1 if anchor.centre_x < scene.width / 2 else -1
        shift = aw * (0.2 if relation == "behind" else 0.35) * side
        return _group(scene, obj, n, anchor.centre_x + shift, depth, size, rng)
    # next_to, left_of, right_of
    if relation == "left_of":
        side = -1
    elif relation == "right_of":
        side = 1
    else:
        side = 1 if anchor.centre_x <= scene.width / 2 else -1
    edge = max(i.box[2] for i in anchors) if side > 0 else min(i.box[0] for i in anchors)
    span = w * (obj.count + 0.28 * (obj.count - 1))
    cx = edge + side * (span / 2 + 0.04 * scene.width)
    return _group(scene, obj, n, cx, anchor.depth + 0.02, size, rng)


def _stack(
    obj: ObjectSpec,
    n: int,
    cx: float,
    base: float,
    size: tuple[float, float],
    order: float,
    depth: float,
    rng: np.random.Generator,
) -> list[Item]:
    """Several things on one support are piled up, each on the one below."""
    items = []
    w, h = size
    for k in range(obj.count):
        offset = rng.uniform(-0.06, 0.06) * w if k else 0.0
        box = (cx - w / 2 + offset, base - h, cx + w / 2 + offset, base)
        item = _item(obj, n, box, depth, rng, k)
        item.order = order + k * 0.001
        item.grounded = False
        items.append(item)
        base -= h * 0.92
        w, h = w * 0.94, h * 0.94
    return items


def _bouquet(obj: ObjectSpec, n: int, vase: Item, rng: np.random.Generator) -> list[Item]:
    """Flowers standing in a vase: stems hidden inside it, blooms fanned out above its mouth."""
    x0, y0, x1, y1 = vase.box
    vw, vh = x1 - x0, y1 - y0
    items = []
    for k in range(obj.count):
        t = (k - (obj.count - 1) / 2) / max(1, obj.count - 1)
        w, h = vw * 0.55, vh * (1.05 - 0.25 * abs(t) + rng.uniform(-0.05, 0.05))
        cx = (x0 + x1) / 2 + t * vw * 0.7
        base = y0 + vh * 0.4
        item = _item(obj, n, (cx - w / 2, base - h, cx + w / 2, base), vase.depth, rng)
        item.order = vase.order - 0.001
        item.grounded = False
        items.append(item)
    return items


def _fit_horizontally(scene: Scene, items: list[Item]) -> None:
    """Move the standing things as little as needed (and squeeze them only if they cannot fit)
    so that none falls off the picture; their order and sides are kept."""
    if not items:
        return
    margin = scene.width * 0.03
    left = min(i.box[0] for i in items)
    right = max(i.box[2] for i in items)
    room = scene.width - 2 * margin
    factor = min(1.0, room / (right - left)) if right > left else 1.0
    centre = (left + right) / 2
    half = (right - left) * factor / 2
    target = min(max(centre, margin + half), scene.width - margin - half)
    if factor == 1.0 and target == centre:
        return
    for item in items:
        x0, y0, x1, y1 = item.box
        cx = target + ((x0 + x1) / 2 - centre) * factor
        w, h = (x1 - x0) * factor, (y1 - y0) * factor
        item.box = (cx - w / 2, y1 - h, cx + w / 2, y1)


def _place_flying(
    scene: Scene, objects: list[ObjectSpec], flying: list[int], rng: np.random.Generator
) -> None:
    w, h = scene.width, scene.height
    sky_bottom = scene.horizon
    setting = scene.prompt.setting
    for n in flying:
        obj = objects[n]
        if setting in INDOOR and obj.kind in ("sun", "moon", "star", "cloud"):
            continue  # seen through the window, drawn with the wall
        where = {"left": 0.2, "center": 0.5, "right": 0.8}
        anchor_x = _anchor_x(scene, obj)
        if obj.kind in ("sun", "moon", "planet"):
            default = {"sun": 0.74, "moon": 0.26, "planet": 0.3 if setting == "space" else 0.7}
            free_x = default[obj.kind] + rng.uniform(-0.08, 0.08)
            if scene.camera.mirror:
                free_x = 1 - free_x
            cx = (where.get(obj.position or "") or anchor_x or free_x) * w
            big = {"sun": 0.14, "moon": 0.12, "planet": 0.42 if setting == "space" else 0.12}
            d = big[obj.kind] * h * obj.scale
            cy = (0.2 + rng.uniform(-0.05, 0.05)) * h
            if obj.height == "bottom":
                cy = sky_bottom * 0.6
            if obj.kind == "sun" and scene.prompt.time in ("sunset", "dawn"):
                d *= 1.3
                cy = sky_bottom - d * 0.18
            if obj.kind == "planet" and setting == "space":
                cy = 0.36 * h
            box = (cx - d / 2, cy - d / 2, cx + d / 2, cy + d / 2)
            scene.items.append(_flyer(obj, n, box, -2.0, rng))
            continue
        if obj.kind == "star":
            for _ in range(obj.count):
                d = h * (
                    rng.uniform(0.012, 0.03) if rng.random() < 0.2 else rng.uniform(0.004, 0.01)
                )
                x, y = rng.uniform(0, w), rng.uniform(0, sky_bottom * 0.92)
                scene.items.append(_flyer(obj, n, (x - d, y - d, x + d, y + d), -3.0, rng))
            continue
        extents = {
            "cloud": (0.28, 0.12),
            "bird": (0.07, 0.045),
            "kite": (0.1, 0.14),
            "balloon": (0.16, 0.2),
            "rocket": (0.13, 0.36),
            "fish": (0.14, 0.08),
            "person": (0.1, 0.26),
            "robot": (0.12, 0.22),
        }
        ew, eh = extents.get(obj.kind, (0.1, 0.1))
        iw, ih = ew * w * obj.scale, eh * h * obj.scale
        centre = where.get(obj.position or "") or anchor_x or rng.uniform(0.3, 0.7)
        if obj.kind == "rocket" and obj.position is None and "planet" in {o.kind for o in objects}:
            centre = 0.72  # fly past the planet, not through it
        top, bottom = 0.08 * h, (sky_bottom if setting != "underwater" else 0.7 * h) - ih
        if setting in ("space", "underwater"):
            top, bottom = 0.12 * h, 0.75 * h - ih
        for k in range(obj.count):
            spread = (k - (obj.count - 1) / 2) * iw * 1.35
            x = centre * w + spread + rng.uniform(-0.2, 0.2) * iw
            if obj.kind == "cloud" and obj.position is None and obj.count > 1:
                x = (0.15 + 0.7 * k / (obj.count - 1)) * w + rng.uniform(-0.05, 0.05) * w
            y = rng.uniform(top, max(top, min(bottom, top + 0.45 * (bottom - top))))
            if obj.height == "bottom":
                y = bottom
            x = min(max(x, iw / 2), w - iw / 2)
            order = -1.5 if obj.kind == "cloud" else 2.0 + k * 0.01
            box = (x - iw / 2, y, x + iw / 2, y + ih)
            scene.items.append(_flyer(obj, n, box, order, rng, k))


def _anchor_x(scene: Scene, obj: ObjectSpec) -> float | None:
    if obj.anchor is None or obj.relation not in ("above", "next_to", "behind", "on"):
        return None
    for item in scene.items:
        if item.spec == obj.anchor:
            return item.centre_x / scene.width
    return None


def _flyer(
    obj: ObjectSpec, n: int, box: Box, order: float, rng: np.random.Generator, k: int = 0
) -> Item:
    item = _item(obj, n, box, 0.0, rng, k)
    item.order = order
    item.grounded = False
    return item
