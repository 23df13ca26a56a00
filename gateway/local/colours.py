"""Named colours and the small colour arithmetic the painters and editors share."""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]

NAMED: dict[str, RGB] = {
    "red": (206, 40, 44),
    "crimson": (180, 20, 50),
    "scarlet": (228, 42, 30),
    "maroon": (118, 26, 36),
    "burgundy": (128, 22, 48),
    "orange": (240, 128, 30),
    "amber": (240, 170, 30),
    "yellow": (246, 204, 40),
    "gold": (222, 176, 52),
    "golden": (222, 176, 52),
    "lime": (150, 210, 50),
    "green": (52, 150, 64),
    "olive": (120, 128, 44),
    "emerald": (24, 150, 96),
    "mint": (150, 222, 180),
    "teal": (20, 130, 130),
    "turquoise": (40, 196, 190),
    "cyan": (40, 190, 220),
    "aqua": (60, 200, 220),
    "blue": (40, 88, 206),
    "azure": (60, 140, 230),
    "navy": (24, 36, 110),
    "cobalt": (30, 70, 180),
    "indigo": (70, 40, 150),
    "purple": (126, 56, 170),
    "violet": (140, 80, 200),
    "lavender": (176, 156, 220),
    "lilac": (190, 160, 214),
    "magenta": (210, 40, 160),
    "pink": (240, 130, 170),
    "rose": (224, 90, 120),
    "coral": (246, 120, 96),
    "peach": (250, 180, 140),
    "brown": (120, 74, 40),
    "chocolate": (96, 56, 30),
    "tan": (200, 160, 110),
    "beige": (220, 200, 160),
    "cream": (244, 232, 200),
    "ivory": (246, 240, 220),
    "white": (240, 240, 236),
    "silver": (190, 194, 200),
    "grey": (128, 128, 132),
    "gray": (128, 128, 132),
    "charcoal": (54, 56, 60),
    "black": (30, 30, 34),
    "copper": (190, 110, 60),
    "bronze": (170, 120, 60),
}

# Modifiers mix towards white or black, or push saturation; "light blue" is a colour of its own.
LIGHTER = ("light", "pale", "pastel", "soft")
DARKER = ("dark", "deep")
BRIGHTER = ("bright", "vivid", "neon", "hot")
COMPOUND: dict[str, RGB] = {
    "sky blue": (110, 180, 236),
    "baby blue": (150, 200, 240),
    "royal blue": (50, 80, 200),
    "forest green": (34, 100, 44),
    "sea green": (46, 150, 110),
    "lemon yellow": (250, 230, 60),
    "blood red": (150, 10, 20),
    "cherry red": (200, 20, 40),
    "off white": (236, 230, 216),
}


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def scale(colour: RGB, factor: float) -> RGB:
    return (
        min(255, round(colour[0] * factor)),
        min(255, round(colour[1] * factor)),
        min(255, round(colour[2] * factor)),
    )


def saturate(colour: RGB, amount: float) -> RGB:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in colour))
    r, g, b = colorsys.hsv_to_rgb(h, min(1.0, s * amount), v)
    return (round(r * 255), round(g * 255), round(b * 255))


def modified(colour: RGB, modifier: str | None) -> RGB:
    if modifier in LIGHTER:
        return mix(colour, (255, 255, 255), 0.45)
    if modifier in DARKER:
        return scale(colour, 0.55)
    if modifier in BRIGHTER:
        return saturate(scale(colour, 1.1), 1.25)
    return colour


def hue_of(colour: RGB) -> float:
    """Hue in degrees, for matching a named colour against pixels."""
    return colorsys.rgb_to_hsv(*(c / 255 for c in colour))[0] * 360


def is_neutral(colour: RGB) -> bool:
    return colorsys.rgb_to_hsv(*(c / 255 for c in colour))[1] < 0.2
