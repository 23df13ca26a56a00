"""Reading an editing instruction: what to do (recolour, add, remove, restyle, relight), to what,
and with which colour, text or direction. Shares the prompt parser's tagger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gateway.local import colours
from gateway.local.colours import RGB
from gateway.local.parse import LightDirection, ObjectSpec, Token, parse_prompt, tokenize
from gateway.local.vocab import ALIASES

Action = Literal["recolour", "add", "remove", "style", "light", "tint", "enhance"]
Region = Literal["sky", "background", "wall", "table", "ground", "water"]
Relight = Literal[
    "night", "sunset", "day", "brighter", "darker", "warmer", "cooler", "dramatic", "neon"
]


@dataclass(frozen=True)
class EditSpec:
    action: Action
    kind: str | None = None  # the object acted on or added
    region: Region | None = None
    plural: bool = False
    source_colour: RGB | None = None  # "the blue sphere"
    colour: RGB | None = None  # the new colour, or the added thing's colour
    style: str | None = None  # a key of effects.STYLES
    light: Relight | None = None
    direction: LightDirection | None = None
    added: ObjectSpec | None = None
    anchor: str | None = None  # where an added thing goes: "add a hat to the cat"


STYLE_WORDS = [
    (r"black[\s-]*(and|&|n)[\s-]*white|b&w|gr[ae]yscale|monochrome|desaturate", "bw"),
    (r"sepia|vintage|old photo", "sepia"),
    (r"sketch|pencil|line art|drawing", "sketch"),
    (r"pixel|8[\s-]?bit|16[\s-]?bit|retro game", "pixel"),
    (r"water ?colou?r", "watercolor"),
    (r"oil paint|painterly|impasto", "oil"),
]
LIGHT_WORDS: list[tuple[str, Relight]] = [
    (r"night|midnight|moonlight", "night"),
    (r"sunset|golden hour|dusk|evening", "sunset"),
    (r"neon|cyberpunk", "neon"),
    (r"dramatic|spotlight|moody|chiaroscuro", "dramatic"),
    (r"daytime|daylight|\bday\b|midday|noon", "day"),
    (r"bright|lighter|lighten|more light|sunnier|exposure", "brighter"),
    (r"dark|dim|less light", "darker"),
    (r"warm", "warmer"),
    (r"cool|cold|blue hour", "cooler"),
]
ADD = re.compile(
    r"^\s*(please\s+)?(add|put|place|insert|draw|include|paint in|give (it|him|her|them) an?)\b"
)
REMOVE = re.compile(r"\b(remove|delete|erase|take away|take out|get rid of|eliminate|without)\b")
REGIONS: dict[str, Region] = {
    "sky": "sky",
    "background": "background",
    "wall": "wall",
    "walls": "wall",
    "table": "table",
    "desk": "table",
    "ground": "ground",
    "grass": "ground",
    "floor": "ground",
    "water": "water",
    "sea": "water",
    "lake": "water",
    "ocean": "water",
}
REGION_KINDS: dict[str, Region] = {"lake": "water", "table": "table"}
DIRECTIONS: dict[str, LightDirection] = {
    "left": "left",
    "right": "right",
    "above": "top",
    "top": "top",
    "behind": "back",
}


def parse_instruction(text: str) -> EditSpec:
    lowered = text.lower()
    tokens, _ = tokenize(text)
    if ADD.search(lowered):
        objects = parse_prompt(text).objects
        if objects:
            added = objects[0]
            anchor = objects[1].kind if len(objects) > 1 else None
            return EditSpec(
                action="add", kind=added.kind, colour=added.colour, added=added, anchor=anchor
            )
    if REMOVE.search(lowered):
        target = _target(tokens)
        if target is not None:
            kind, plural, colour = target
            return EditSpec(action="remove", kind=kind, plural=plural, source_colour=colour)
    for pattern, style in STYLE_WORDS:
        if re.search(pattern, lowered):
            return EditSpec(action="style", style=style)
    recolour = _recolour(tokens, lowered)
    if recolour is not None:
        return recolour
    for pattern, light in LIGHT_WORDS:
        if re.search(pattern, lowered):
            direction = next(
                (
                    d
                    for word, d in DIRECTIONS.items()
                    if re.search(rf"from (the )?{word}", lowered)
                ),
                None,
            )
            return EditSpec(action="light", light=light, direction=direction)
    return EditSpec(action="enhance")


def _target(tokens: list[Token]) -> tuple[str, bool, RGB | None] | None:
    for i, token in enumerate(tokens):
        if token.tag == "obj":
            alias, plural = token.pair()
            return ALIASES[alias], plural, _colour_before(tokens, i)
    return None


def _colour_before(tokens: list[Token], i: int) -> RGB | None:
    j = i - 1
    while j >= 0 and tokens[j].tag in ("size", "material", "mod", "word"):
        j -= 1
    if j >= 0 and tokens[j].tag == "colour":
        name = str(tokens[j].value)
        colour = colours.COMPOUND.get(name) or colours.NAMED[name]
        if j > 0 and tokens[j - 1].tag == "mod":
            colour = colours.modified(colour, str(tokens[j - 1].value))
        return colour
    return None


def _recolour(tokens: list[Token], lowered: str) -> EditSpec | None:
    """The new colour is the last colour word that is not an adjective of the target."""
    target = _target(tokens)
    new: RGB | None = None
    for i, token in enumerate(tokens):
        if token.tag != "colour":
            continue
        follows_object = any(t.tag == "obj" for t in tokens[i + 1 : i + 3])
        if follows_object and i < len(tokens) - 1:
            continue
        name = str(token.value)
        new = colours.COMPOUND.get(name) or colours.NAMED[name]
        if i > 0 and tokens[i - 1].tag == "mod":
            new = colours.modified(new, str(tokens[i - 1].value))
    if new is None:
        return None
    if target is not None and target[0] in REGION_KINDS:
        return EditSpec(action="recolour", region=REGION_KINDS[target[0]], colour=new)
    if target is not None:
        kind, plural, source = target
        if source == new:
            source = None
        return EditSpec(
            action="recolour", kind=kind, plural=plural, source_colour=source, colour=new
        )
    region = next((REGIONS[w] for w in re.findall(r"[a-z]+", lowered) if w in REGIONS), None)
    if region is not None:
        return EditSpec(action="recolour", region=region, colour=new)
    return EditSpec(action="tint", colour=new)
