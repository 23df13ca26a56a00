"""Finding things in a picture from its pixels alone: the editors get no scene description.

Objects are connected components of pixels with one hue (shading changes value and saturation,
rarely hue), scored by how well their shape fits the named kind: round things fill about pi/4
of their bounding box, boxes and books nearly all of it, plants are green. Neutral colours
(white, grey, black) are matched on value instead of hue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage  # type: ignore[import-untyped]

from gateway.local.colours import RGB, hue_of, is_neutral
from gateway.local.paint import Float

USUALLY_NEUTRAL = {
    "moon",
    "cloud",
    "star",
    "cup",
    "robot",
    "snowman",
    "sign",
    "cat",
    "dog",
    "candle",
}
SKY = {"sun", "moon", "star", "cloud", "bird", "kite", "balloon", "planet", "rocket"}


def to_hsv(px: Float) -> tuple[Float, Float, Float]:
    """Hue in degrees, saturation and value in 0..1, for float RGB in 0..255."""
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    delta = mx - mn
    safe = np.where(delta == 0, 1, delta)
    hue = np.where(
        mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    hue = np.where(delta == 0, 0, hue * 60)
    sat = np.where(mx == 0, 0, delta / np.where(mx == 0, 1, mx))
    return hue.astype(np.float32), sat.astype(np.float32), (mx / 255).astype(np.float32)


def from_hsv(h: Float, s: Float, v: Float) -> Float:
    h6 = (h % 360) / 60
    c = v * s
    x = c * (1 - np.abs(h6 % 2 - 1))
    m = v - c
    zero = np.zeros_like(c)
    sector = np.floor(h6).astype(np.int8) % 6
    r = np.choose(sector, [c, x, zero, zero, x, c])
    g = np.choose(sector, [x, c, c, x, zero, zero])
    b = np.choose(sector, [zero, zero, x, c, c, x])
    return (np.stack([r + m, g + m, b + m], axis=-1) * 255).astype(np.float32)


def hue_distance(h: Float | float, target: float) -> Float:
    d: Float = np.abs(np.asarray(h, np.float32) - target) % 360
    nearest: Float = np.minimum(d, 360 - d)
    return nearest


@dataclass(eq=False)  # compared by identity: two blobs are never "equal"
class Component:
    mask: np.ndarray  # bool, full image size
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    area: int
    hue: float
    saturation: float
    value: float
    neutral: bool = False  # found by brightness (white or black), not by hue

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def extent(self) -> float:
        return self.area / max(1, self.width * self.height)

    @property
    def corner_fill(self) -> float:
        """How much of the bounding box's four corners the shape covers: ~0 for round things."""
        x0, y0, x1, y1 = self.box
        crop = self.mask[y0:y1, x0:x1]
        ch, cw = max(1, crop.shape[0] // 6), max(1, crop.shape[1] // 6)
        corners = [crop[:ch, :cw], crop[:ch, -cw:], crop[-ch:, :cw], crop[-ch:, -cw:]]
        return float(np.mean([c.mean() for c in corners]))

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


ANALYSIS_SIZE = 400


class Picture:
    """A picture with its HSV planes, computed once and shared by the searches.

    The search runs on a copy at most ANALYSIS_SIZE pixels across (components, shape scores);
    `full` scales a mask found there back up, and edits refine its edge at full resolution."""

    def __init__(self, px: Float) -> None:
        self.full_px = px
        self.full_height, self.full_width = px.shape[:2]
        self.step = max(1, math.ceil(max(self.full_height, self.full_width) / ANALYSIS_SIZE))
        self.px = px[:: self.step, :: self.step]
        self.height, self.width = self.px.shape[:2]
        self.hue, self.sat, self.val = to_hsv(self.px)
        self.chroma = (self.sat > 0.3) & (self.sat * self.val > 0.14)
        self.peaks = _hue_peaks(self.hue[self.chroma])
        if self.peaks:
            distances = np.stack([hue_distance(self.hue, p) for p in self.peaks])
            nearest = distances.argmin(axis=0)
            self.family = np.where(self.chroma & (distances.min(axis=0) < 35), nearest, -1)
        else:
            self.family = np.full(self.hue.shape, -1)
        self._candidates: list[Component] | None = None

    def full(self, mask: np.ndarray) -> np.ndarray:
        if self.step == 1:
            return mask
        big = np.repeat(np.repeat(mask, self.step, axis=0), self.step, axis=1)
        return big[: self.full_height, : self.full_width]

    def full_box(self, c: Component) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = c.box
        s = self.step
        return (x0 * s, y0 * s, min(self.full_width, x1 * s), min(self.full_height, y1 * s))

    def colour_mask(self, colour: RGB, tolerance: float = 30) -> np.ndarray:
        """Pixels of the named colour: the hue family nearest to it, or value for neutrals."""
        if is_neutral(colour):
            v = max(colour) / 255
            if v > 0.8:
                return (self.sat < 0.14) & (self.val > 0.8)
            if v < 0.3:
                return self.val < 0.22
            return (self.sat < 0.14) & (np.abs(self.val - v) < 0.15)
        wanted = hue_of(colour)
        close = [k for k, p in enumerate(self.peaks) if hue_distance(p, wanted) < tolerance]
        if close:
            return np.isin(self.family, close)
        return (hue_distance(self.hue, wanted) < tolerance) & self.chroma

    def components(
        self,
        mask: np.ndarray,
        min_share: float = 0.0015,
        *,
        opened: bool = False,
        neutral: bool = False,
    ) -> list[Component]:
        if not opened:
            mask = ndimage.binary_opening(mask)
        labels, count = ndimage.label(mask)
        if count == 0:
            return []
        areas = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
        slices = ndimage.find_objects(labels)
        found = []
        min_area = min_share * self.width * self.height
        for index, (area, box) in enumerate(zip(areas, slices, strict=True), start=1):
            if area < min_area or box is None:
                continue
            ys, xs = box
            sub = labels[box] == index
            filled = ndimage.binary_fill_holes(sub)
            full = np.zeros(mask.shape, bool)
            full[box] = filled
            found.append(
                Component(
                    mask=full,
                    box=(xs.start, ys.start, xs.stop, ys.stop),
                    area=int(filled.sum()),
                    hue=_mean_hue(self.hue[box][sub]),
                    saturation=float(self.sat[box][sub].mean()),
                    value=float(self.val[box][sub].mean()),
                    neutral=neutral,
                )
            )
        return found

    def hue_tolerance(self, hue: float) -> float:
        """How far from `hue` a pixel may be and still be the same thing: at most 35 degrees,
        and never past halfway to another dominant hue (yellow apples on a brown table)."""
        others = [float(hue_distance(p, hue)) for p in self.peaks]
        others = [d for d in others if d > 8]
        return min([35.0] + [d / 2 for d in others])

    def touches_border(self, c: Component) -> int:
        x0, y0, x1, y1 = c.box
        return sum((x0 == 0, y0 == 0, x1 == self.width, y1 == self.height))

    def candidates(self) -> list[Component]:
        """Every coloured blob: saturated pixels split into hue families."""
        if self._candidates is None:
            cleaned = np.where(ndimage.binary_opening(self.family >= 0), self.family, -1)
            found = [
                c
                for k in range(len(self.peaks))
                for c in self.components(cleaned == k, opened=True)
            ]
            # White and black things have no hue: the moon, a white cup, a black cat.
            found += self.components((self.val > 0.82) & (self.sat < 0.25), neutral=True)
            found += self.components(self.val < 0.14, neutral=True)
            self._candidates = found
        return self._candidates

    def find(
        self, kind: str | None, colour: RGB | None, *, every: bool = False
    ) -> list[Component]:
        """The component(s) that best match a kind and/or a colour; [] when nothing fits."""
        pool = self.components(self.colour_mask(colour)) if colour else self.candidates()
        pool = [c for c in pool if c.area < 0.45 * self.width * self.height]
        if kind in SKY:
            pool = [c for c in pool if c.centre[1] < self.height * 0.6] or pool
        if not pool:
            return []
        scored = sorted(((self.score(c, kind, colour), c) for c in pool), key=lambda t: -t[0])
        best_score, best = scored[0]
        if best_score < -1.5:
            return []
        if kind in ("plant", "tree"):
            # Leaves are many blobs: take every green blob around the best one.
            x0, y0, x1, y1 = best.box
            mx, my = (x1 - x0) * 0.8, (y1 - y0) * 0.8
            return [
                c
                for c in pool
                if c.box[0] < x1 + mx
                and c.box[2] > x0 - mx
                and c.box[1] < y1 + my
                and c.box[3] > y0 - my
                and hue_distance(c.hue, best.hue) < 30
            ]
        if every:
            chosen = [
                c
                for s, c in scored
                if s > best_score - 2.0
                and 0.15 * best.area < c.area < 4 * best.area
                and hue_distance(c.hue, best.hue) < 12
            ]
        else:
            chosen = [best]
        # A band across a thing (a bottle's label) splits it in two: take the other half too.
        halves = [
            c
            for c in pool
            if c not in chosen
            and hue_distance(c.hue, best.hue) < 20
            and any(stacked(c, part) for part in chosen)
        ]
        return chosen + halves

    def score(self, c: Component, kind: str | None, colour: RGB | None) -> float:
        """How well a blob fits the named kind: bigger and away from the edges is better, then
        shape (round things fill pi/4 of their box and leave its corners empty, boxes fill it,
        books are wide) and the colours things usually have (green is foliage)."""
        aspect = c.width / max(1, c.height)
        score = -0.8 * self.touches_border(c) + 0.25 * math.log(
            c.area / (self.width * self.height) * 1000
        )
        green = 75 <= c.hue <= 170
        if kind == "moon":  # round or a crescent: either way its box's corners are empty
            score -= abs(math.log(aspect)) * 3 + c.corner_fill * 4
        elif kind in ("sphere", "apple", "balloon", "planet", "sun", "clock"):
            score -= abs(c.extent - 0.785) * 6 + abs(math.log(aspect)) * 3 + c.corner_fill * 4
        elif kind == "book":
            score -= max(0.0, 0.45 - c.extent) * 5 + max(0.0, 2.0 - aspect) * 1.5
        elif kind in ("cube", "sign", "house", "car", "bottle", "candle", "cup"):
            score -= max(0.0, 0.7 - c.extent) * 5
        if kind in ("plant", "tree"):
            score -= (0 if green else 3) + max(0.0, c.extent - 0.8) * 4
        elif green and colour is None and kind not in ("bottle", "apple"):
            score -= 1.2
        if kind not in SKY and c.centre[1] < self.height * 0.3:
            score -= 1.0
        if c.neutral and colour is None and kind not in USUALLY_NEUTRAL:
            score -= 0.8  # a shadowed side, not the thing; prefer a coloured blob
        return score

    def sky(self) -> np.ndarray:
        """Smooth pixels connected to the top edge: a gradient sky, not the things against it.
        Empty when the top of the picture is not smooth (an indoor wall still counts)."""
        gy, gx = np.gradient(self.val)
        smooth = ndimage.binary_opening(np.hypot(gx, gy) < 0.03)
        labels, _ = ndimage.label(smooth)
        top = labels[0][labels[0] > 0]
        if top.size < self.width * 0.3:
            return np.zeros(self.val.shape, bool)
        sky: np.ndarray = np.isin(labels, np.unique(top))
        sky &= np.arange(self.height)[:, None] < self.height * 0.8
        return sky

    def foreground(self) -> np.ndarray:
        """Pixels that differ from their row's typical colour: rendered backgrounds (sky,
        wall, table, ground) run across the picture, things stand out of them."""
        span = max(3, self.width // 4)
        typical = ndimage.uniform_filter1d(self.px, span, axis=1)
        for _ in range(2):
            # Average each row locally, leaving out what already stands out, and look again.
            usual = (np.abs(self.px - typical).max(axis=2) < 28).astype(np.float32)
            total = ndimage.uniform_filter1d(self.px * usual[..., None], span, axis=1)
            weight = ndimage.uniform_filter1d(usual, span, axis=1)[..., None]
            typical = np.where(weight > 0.05, total / np.maximum(weight, 1e-3), typical)
        distance = np.abs(self.px - typical).max(axis=2)
        standing_out: np.ndarray = ndimage.binary_opening(distance > 28)
        return standing_out

    def busyness(self) -> Float:
        """Local contrast, for placing new things where they cover nothing important."""
        return _local_contrast(self.val)

    def salient(self) -> list[Component]:
        """Things standing out from the background, biggest first: blobs of one colour, white
        or black, not spread along the picture's edges, and not tiny next to the biggest."""
        blobs = [c for c in self.candidates() if self.touches_border(c) <= 1]
        if not blobs:
            return []
        biggest = max(c.area for c in blobs)
        return sorted((c for c in blobs if c.area > 0.2 * biggest), key=lambda c: -c.area)


def _local_contrast(v: Float) -> Float:
    small = v[::4, ::4]
    mean = ndimage.uniform_filter(small, 5)
    sq = ndimage.uniform_filter(small * small, 5)
    std = np.sqrt(np.clip(sq - mean * mean, 0, None))
    return np.kron(std, np.ones((4, 4), np.float32))[: v.shape[0], : v.shape[1]]


def _mean_hue(hues: Float) -> float:
    radians = np.deg2rad(hues)
    return float(np.rad2deg(np.arctan2(np.sin(radians).mean(), np.cos(radians).mean())) % 360)


def _hue_peaks(hues: Float, limit: int = 10) -> list[float]:
    """The dominant hues, found one at a time: take the fullest 5-degree bin, refine it to the
    mean hue around it, set its neighbourhood aside, repeat. Shading keeps an object's pixels
    within one family, and a small object next to a big one of a similar hue still gets its own."""
    peaks: list[float] = []
    remaining = hues
    floor = max(40, int(0.004 * hues.size))
    while remaining.size > floor and len(peaks) < limit:
        counts, _ = np.histogram(remaining, bins=72, range=(0, 360))
        k = int(counts.argmax())
        if counts[k] < floor / 4:
            break
        near = remaining[hue_distance(remaining, k * 5 + 2.5) < 10]
        peak = _mean_hue(near)
        peaks.append(peak)
        remaining = remaining[hue_distance(remaining, peak) > 14]
    return peaks


def stacked(a: Component, b: Component) -> bool:
    """Two halves of one thing: about as wide, one directly above the other with a small gap,
    both coloured or both not."""
    overlap = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    gap = max(a.box[1], b.box[1]) - min(a.box[3], b.box[3])
    return (
        overlap > 0.6 * min(a.width, b.width)
        and max(a.width, b.width) < 1.6 * min(a.width, b.width)
        and gap < 0.3 * max(a.height, b.height)
        and a.neutral == b.neutral
    )
