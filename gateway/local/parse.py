"""A small prompt parser: objects with colour, count, size, material, place and relations, plus
the scene-wide setting, time of day, lighting and style.

It tags the prompt with a greedy longest-phrase match over a fixed vocabulary, then attaches
each modifier to the object it belongs to within its clause. It is deliberately shallow: the
goal is to read what a person would write in an arena prompt, not English in general.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from gateway.local import colours
from gateway.local.colours import RGB
from gateway.local.vocab import ALIAS_COLOURS, ALIASES, KINDS, alias_table

Position = Literal["left", "center", "right"]
Depth = Literal["background", "foreground"]
Height = Literal["top", "bottom"]  # for things in the sky
Relation = Literal[
    "on", "inside", "under", "behind", "in_front", "next_to", "left_of", "right_of", "above"
]
Material = Literal["glass", "wood", "metal"]
LightDirection = Literal["left", "right", "top", "back", "front", "below"]
LightQuality = Literal["soft", "dramatic", "neon", "candle", "backlit"]
Setting = Literal["tabletop", "room", "outdoor", "space", "underwater", "studio"]
TimeOfDay = Literal["day", "sunset", "night", "dawn"]
Ground = Literal["grass", "snow", "sand", "moon"]  # moon: the lunar surface, in space
Style = Literal["watercolor", "pixel", "flat", "photo", "sketch", "oil"]
Weather = Literal["rain", "fog"]
Season = Literal["autumn"]  # turns the trees


@dataclass(frozen=True)
class ObjectSpec:
    kind: str
    alias: str
    count: int = 1
    colour: RGB | None = None
    colour_name: str | None = None
    material: Material | None = None
    scale: float = 1.0
    position: Position | None = None
    depth: Depth | None = None
    height: Height | None = None
    relation: Relation | None = None
    anchor: int | None = None  # index of the related object in PromptSpec.objects
    text: str | None = None
    stacked: bool = False  # "a stack of books"
    multicolour: bool = False  # "colourful balloons": each one a different colour

    @property
    def drawn_colour(self) -> RGB:
        if self.colour is not None:
            return self.colour
        if self.material == "wood":
            return (150, 100, 58)
        if self.material == "metal":
            return (188, 192, 198)
        if self.material == "glass":
            return (220, 236, 240)
        return ALIAS_COLOURS.get(self.alias, KINDS[self.kind].colour)


@dataclass(frozen=True)
class Lighting:
    direction: LightDirection | None = None
    quality: LightQuality | None = None
    window: bool = False


@dataclass(frozen=True)
class PromptSpec:
    text: str
    objects: tuple[ObjectSpec, ...] = ()
    colours: tuple[RGB, ...] = ()
    setting: Setting = "outdoor"
    time: TimeOfDay = "day"
    ground: Ground = "grass"
    surface: Material | None = None  # of the table in a tabletop scene
    lighting: Lighting = field(default_factory=Lighting)
    style: Style | None = None
    weather: Weather | None = None
    season: Season | None = None

    def kinds(self) -> set[str]:
        return {obj.kind for obj in self.objects}


NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "a single": 1,
    "two": 2,
    "a pair of": 2,
    "pair of": 2,
    "a couple of": 2,
    "twin": 2,
    "both": 2,
    "three": 3,
    "a few": 3,
    "few": 3,
    "several": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "many": 6,
    "lots of": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a dozen": 12,
    "dozen": 12,
}
SIZES = {
    "tiny": 0.5,
    "little": 0.7,
    "small": 0.7,
    "miniature": 0.55,
    "big": 1.3,
    "large": 1.3,
    "tall": 1.25,
    "huge": 1.6,
    "giant": 1.7,
    "enormous": 1.7,
}
MATERIALS: dict[str, Material] = {
    "glass": "glass",
    "crystal": "glass",
    "transparent": "glass",
    "translucent": "glass",
    "wooden": "wood",
    "wood": "wood",
    "metal": "metal",
    "metallic": "metal",
    "steel": "metal",
    "chrome": "metal",
    "silver": "metal",
}
RELATIONS = {
    "on top of": "on",
    "on": "on",
    "onto": "on",
    "upon": "on",
    "atop": "on",
    "inside": "inside",
    "inside of": "inside",
    "in": "in",
    "within": "inside",
    "under": "under",
    "underneath": "under",
    "beneath": "under",
    "below": "under",
    "behind": "behind",
    "in back of": "behind",
    "in front of": "in_front",
    "next to": "next_to",
    "beside": "next_to",
    "besides": "next_to",
    "alongside": "next_to",
    "near": "next_to",
    "by": "next_to",
    "close to": "next_to",
    "to the left of": "left_of",
    "left of": "left_of",
    "to the right of": "right_of",
    "right of": "right_of",
    "above": "above",
    "over": "above",
    # Reversed: the thing after the phrase relates to the thing before it.
    "wearing": "~on",
    "wears": "~on",
    "holding": "~next_to",
    "holds": "~next_to",
    "with": "~with",
    "filled with": "~inside",
    "full of": "~inside",
    "containing": "~inside",
}
POSITIONS: dict[
    str,
    tuple[Literal["position"], Position]
    | tuple[Literal["depth"], Depth]
    | tuple[Literal["height"], Height],
] = {
    "on the left": ("position", "left"),
    "to the left": ("position", "left"),
    "at the left": ("position", "left"),
    "on the left side": ("position", "left"),
    "left side": ("position", "left"),
    "left": ("position", "left"),
    "on the right": ("position", "right"),
    "to the right": ("position", "right"),
    "at the right": ("position", "right"),
    "on the right side": ("position", "right"),
    "right side": ("position", "right"),
    "right": ("position", "right"),
    "in the center": ("position", "center"),
    "in the centre": ("position", "center"),
    "in the middle": ("position", "center"),
    "center": ("position", "center"),
    "centre": ("position", "center"),
    "centered": ("position", "center"),
    "middle": ("position", "center"),
    "in the background": ("depth", "background"),
    "in the distance": ("depth", "background"),
    "background": ("depth", "background"),
    "distant": ("depth", "background"),
    "far away": ("depth", "background"),
    "in the foreground": ("depth", "foreground"),
    "foreground": ("depth", "foreground"),
    "up close": ("depth", "foreground"),
    "close up": ("depth", "foreground"),
    "on top": ("height", "top"),
    "top": ("height", "top"),
    "upper": ("height", "top"),
    "high": ("height", "top"),
    "bottom": ("height", "bottom"),
    "lower": ("height", "bottom"),
    "low": ("height", "bottom"),
}
LIGHT_DIRECTIONS: dict[str, LightDirection] = {
    "from the left": "left",
    "from left": "left",
    "from the right": "right",
    "from right": "right",
    "from above": "top",
    "from the top": "top",
    "overhead": "top",
    "from behind": "back",
    "from the back": "back",
    "from the front": "front",
    "from below": "below",
    "from beneath": "below",
}
FLAGS: dict[
    str,
    tuple[Literal["setting"], Setting]
    | tuple[Literal["ground"], Ground]
    | tuple[Literal["weather"], Weather]
    | tuple[Literal["season"], Season]
    | tuple[Literal["time"], TimeOfDay]
    | tuple[Literal["light"], LightQuality | Literal["window"]]
    | tuple[Literal["style"], Style],
] = {
    # setting
    "underwater": ("setting", "underwater"),
    "under water": ("setting", "underwater"),
    "under the sea": ("setting", "underwater"),
    "ocean floor": ("setting", "underwater"),
    "seabed": ("setting", "underwater"),
    "coral": ("setting", "underwater"),
    "reef": ("setting", "underwater"),
    "space": ("setting", "space"),
    "outer space": ("setting", "space"),
    "galaxy": ("setting", "space"),
    "cosmos": ("setting", "space"),
    "orbit": ("setting", "space"),
    "nebula": ("setting", "space"),
    "studio": ("setting", "studio"),
    "room": ("setting", "room"),
    "indoors": ("setting", "room"),
    "indoor": ("setting", "room"),
    "interior": ("setting", "room"),
    "kitchen": ("setting", "room"),
    "living room": ("setting", "room"),
    "bedroom": ("setting", "room"),
    "still life": ("setting", "tabletop"),
    "shelf": ("setting", "tabletop"),
    "windowsill": ("setting", "tabletop"),
    "counter": ("setting", "tabletop"),
    "outdoors": ("setting", "outdoor"),
    "outside": ("setting", "outdoor"),
    "landscape": ("setting", "outdoor"),
    "field": ("setting", "outdoor"),
    "meadow": ("setting", "outdoor"),
    "garden": ("setting", "outdoor"),
    "park": ("setting", "outdoor"),
    "forest": ("setting", "outdoor"),
    "countryside": ("setting", "outdoor"),
    "village": ("setting", "outdoor"),
    "city": ("setting", "outdoor"),
    "grass": ("setting", "outdoor"),
    "beach": ("ground", "sand"),
    "desert": ("ground", "sand"),
    "sand": ("ground", "sand"),
    "sandy": ("ground", "sand"),
    "dunes": ("ground", "sand"),
    "snow": ("ground", "snow"),
    "snowy": ("ground", "snow"),
    "winter": ("ground", "snow"),
    "snowfall": ("ground", "snow"),
    "snowing": ("ground", "snow"),
    "rain": ("weather", "rain"),
    "rainy": ("weather", "rain"),
    "raining": ("weather", "rain"),
    "storm": ("weather", "rain"),
    "stormy": ("weather", "rain"),
    "fog": ("weather", "fog"),
    "foggy": ("weather", "fog"),
    "mist": ("weather", "fog"),
    "misty": ("weather", "fog"),
    "hazy": ("weather", "fog"),
    "autumn": ("season", "autumn"),
    "autumnal": ("season", "autumn"),
    # time of day
    "night": ("time", "night"),
    "at night": ("time", "night"),
    "nighttime": ("time", "night"),
    "midnight": ("time", "night"),
    "starry": ("time", "night"),
    "moonlit": ("time", "night"),
    "moonlight": ("time", "night"),
    "sunset": ("time", "sunset"),
    "dusk": ("time", "sunset"),
    "golden hour": ("time", "sunset"),
    "evening": ("time", "sunset"),
    "twilight": ("time", "sunset"),
    "sunrise": ("time", "dawn"),
    "dawn": ("time", "dawn"),
    "morning": ("time", "dawn"),
    "daytime": ("time", "day"),
    "sunny": ("time", "day"),
    "noon": ("time", "day"),
    # lighting
    "soft light": ("light", "soft"),
    "soft lighting": ("light", "soft"),
    "soft window light": ("light", "window"),
    "soft shadows": ("light", "soft"),
    "diffuse": ("light", "soft"),
    "dramatic": ("light", "dramatic"),
    "spotlight": ("light", "dramatic"),
    "chiaroscuro": ("light", "dramatic"),
    "moody": ("light", "dramatic"),
    "neon": ("light", "neon"),
    "cyberpunk": ("light", "neon"),
    "candlelight": ("light", "candle"),
    "candle light": ("light", "candle"),
    "candlelit": ("light", "candle"),
    "candle lit": ("light", "candle"),
    "firelight": ("light", "candle"),
    "backlit": ("light", "backlit"),
    "back lit": ("light", "backlit"),
    "backlight": ("light", "backlit"),
    "backlighting": ("light", "backlit"),
    "rim light": ("light", "backlit"),
    "silhouette": ("light", "backlit"),
    "silhouetted": ("light", "backlit"),
    "window light": ("light", "window"),
    # style
    "watercolor": ("style", "watercolor"),
    "watercolour": ("style", "watercolor"),
    "pixel art": ("style", "pixel"),
    "pixel": ("style", "pixel"),
    "pixelated": ("style", "pixel"),
    "8 bit": ("style", "pixel"),
    "16 bit": ("style", "pixel"),
    "flat": ("style", "flat"),
    "flat design": ("style", "flat"),
    "vector": ("style", "flat"),
    "minimalist": ("style", "flat"),
    "photo": ("style", "photo"),
    "photograph": ("style", "photo"),
    "photorealistic": ("style", "photo"),
    "realistic": ("style", "photo"),
    "photography": ("style", "photo"),
    "sketch": ("style", "sketch"),
    "pencil": ("style", "sketch"),
    "pencil drawing": ("style", "sketch"),
    "line art": ("style", "sketch"),
    "drawing": ("style", "sketch"),
    "oil painting": ("style", "oil"),
    "oil": ("style", "oil"),
    "impasto": ("style", "oil"),
}
LOOKS = {
    "stack of": "stacked",
    "pile of": "stacked",
    "tower of": "stacked",
    "colourful": "multicolour",
    "colorful": "multicolour",
    "multicoloured": "multicolour",
    "multicolored": "multicolour",
    "rainbow": "multicolour",
    "assorted": "multicolour",
}
# Words that keep an adjective walk going without carrying meaning ("a beautiful red apple").
DETERMINERS = {"a", "an", "the", "some", "its", "his", "her", "their", "this", "that", "of"}
REFERRING = {"the", "this", "that", "its"}

Tag = tuple[str, object]


def _phrase_table() -> dict[tuple[str, ...], Tag]:
    table: dict[tuple[str, ...], Tag] = {}

    def put(phrase: str, tag: Tag) -> None:
        table.setdefault(tuple(phrase.split()), tag)

    # Order sets priority: lighting and positions before relations ("on the left" vs "on").
    for phrase, direction in LIGHT_DIRECTIONS.items():
        put(phrase, ("lightdir", direction))
    for phrase, flag in FLAGS.items():
        put(phrase, ("flag", flag))
    for phrase, where in POSITIONS.items():
        put(phrase, ("pos", where))
    for phrase, look in LOOKS.items():
        put(phrase, ("look", look))
    for phrase, relation in RELATIONS.items():
        put(phrase, ("rel", relation))
    for form, (alias, plural) in alias_table().items():
        put(form, ("obj", (alias, plural)))
    for phrase, count in NUMBERS.items():
        put(phrase, ("count", count))
    for phrase, factor in SIZES.items():
        put(phrase, ("size", factor))
    for phrase, material in MATERIALS.items():
        put(phrase, ("material", material))
    for name in colours.COMPOUND:
        put(name, ("colour", name))
    for name in colours.NAMED:
        put(name, ("colour", name))
    for modifier in (*colours.LIGHTER, *colours.DARKER, *colours.BRIGHTER):
        put(modifier, ("mod", modifier))
    return table


PHRASES = _phrase_table()
LONGEST = max(len(key) for key in PHRASES)
QUOTED = re.compile(r"[\"“”'‘’«»]([^\"“”‘’«»]{1,40}?)[\"“”'‘’«»](?![a-z])")
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.;!?,]")


@dataclass
class Token:
    tag: str
    value: object
    clause: int

    def pair(self) -> tuple[str, Any]:
        """The value of the tags that carry two parts: objects, positions and flags."""
        first, second = cast(tuple[str, Any], self.value)
        return first, second


def tokenize(text: str) -> tuple[list[Token], list[str]]:
    """Tag the prompt; quoted text (a sign's words) is lifted out first."""
    quotes = [match.group(1).strip() for match in QUOTED.finditer(text)]
    plain = QUOTED.sub(" quoted ", text).lower().replace("-", " ")
    words = WORD.findall(plain)
    tokens: list[Token] = []
    clause = 0
    i = 0
    while i < len(words):
        if words[i] in ".;!?,":
            clause += 1
            i += 1
            continue
        for length in range(min(LONGEST, len(words) - i), 0, -1):
            tag = PHRASES.get(tuple(words[i : i + length]))
            if tag is not None:
                tokens.append(Token(tag[0], tag[1], clause))
                i += length
                break
        else:
            if words[i].isdigit():
                tokens.append(Token("count", int(words[i]), clause))
            elif words[i] in DETERMINERS:
                tokens.append(Token("det", words[i], clause))
            else:
                tokens.append(Token("word", words[i], clause))
            i += 1
    return tokens, quotes


@dataclass
class _Draft:
    alias: str
    plural: bool
    token: int
    count: int | None = None
    colour: RGB | None = None
    colour_name: str | None = None
    material: Material | None = None
    scale: float = 1.0
    position: Position | None = None
    depth: Depth | None = None
    height: Height | None = None
    relation: str | None = None  # a RELATIONS word; "in" and "with" are resolved at the end
    anchor: int | None = None
    text: str | None = None
    stacked: bool = False
    multicolour: bool = False


def _describe(draft: _Draft, tokens: list[Token]) -> None:
    """Walk back from the noun over its adjectives: colour, count, size, material."""
    unknown = 0
    j = draft.token - 1
    pending_colour: str | None = None
    while j >= 0 and tokens[j].clause == tokens[draft.token].clause:
        token = tokens[j]
        if token.tag == "colour" and draft.colour is None:
            pending_colour = str(token.value)
            draft.colour_name = pending_colour
            draft.colour = colours.COMPOUND.get(pending_colour) or colours.NAMED[pending_colour]
        elif token.tag == "mod" and draft.colour is not None and pending_colour is not None:
            modifier = str(token.value)
            draft.colour = colours.modified(draft.colour, modifier)
            draft.colour_name = f"{modifier} {pending_colour}"
            pending_colour = None
        elif token.tag == "look":
            setattr(draft, str(token.value), True)
        elif token.tag == "size":
            draft.scale *= float(str(token.value))
        elif token.tag == "material" and draft.material is None:
            draft.material = cast(Material, token.value)
        elif token.tag == "count":
            if draft.count is None:
                draft.count = int(str(token.value))
            # "a stack of three books": the look comes before the number.
            k = j - 1
            while k >= 0 and tokens[k].tag in ("det", "count"):
                k -= 1
            if k >= 0 and tokens[k].tag == "look":
                setattr(draft, str(tokens[k].value), True)
            break
        elif token.tag == "det":
            if token.value == "of":
                j -= 1
                continue
            break
        elif token.tag == "word" and unknown < 2:
            unknown += 1
        elif token.tag != "mod":
            break
        j -= 1
    # A plural with no number ("flowers", "a field of flowers") means a few.
    if draft.count is None or (draft.plural and draft.count == 1):
        draft.count = 3 if draft.plural else 1


def _mentions(tokens: list[Token]) -> tuple[list[_Draft], dict[int, int]]:
    """One draft per new object; "the cube" after "a cube" is the same cube again."""
    drafts: list[_Draft] = []
    at: dict[int, int] = {}
    for i, token in enumerate(tokens):
        if token.tag != "obj":
            continue
        alias, plural = token.pair()
        definite = i > 0 and tokens[i - 1].tag == "det" and tokens[i - 1].value in REFERRING
        earlier = [n for n, d in enumerate(drafts) if ALIASES[d.alias] == ALIASES[alias]]
        if definite and earlier:
            at[i] = earlier[-1]
            continue
        at[i] = len(drafts)
        drafts.append(_Draft(alias=alias, plural=plural, token=i))
    return drafts, at


def _attach(drafts: list[_Draft], at: dict[int, int], tokens: list[Token]) -> None:
    """Positions and relations attach to the nearest object before them in the clause, or to
    the first one after when the clause starts with them ("On top of the cube sits a book")."""

    def objects_in(clause: int, start: int, stop: int) -> list[int]:
        return [at[i] for i in range(start, stop) if i in at and tokens[i].clause == clause]

    for i, token in enumerate(tokens):
        if token.tag not in ("pos", "rel"):
            continue
        before = objects_in(token.clause, 0, i)
        after = objects_in(token.clause, i + 1, len(tokens))
        if token.tag == "pos":
            target = before[-1] if before else (after[0] if after else None)
            if target is None:
                continue
            attribute, value = token.pair()
            setattr(drafts[target], attribute, value)
            continue
        relation = str(token.value)
        if relation.startswith("~"):
            if not (before and after):
                continue
            subject, anchor, relation = after[0], before[-1], relation[1:]
        elif before and after:
            subject, anchor = before[-1], after[0]
        elif len(after) >= 2:
            anchor, subject = after[0], after[1]
        else:
            continue
        if drafts[subject].relation is None and subject != anchor:
            drafts[subject].relation = relation
            drafts[subject].anchor = anchor


CONTAINERS = {"cube", "cup", "bottle", "house", "window", "castle", "car", "boat"}
TABLETOP_KINDS = {
    "sphere",
    "cube",
    "book",
    "plant",
    "apple",
    "cup",
    "candle",
    "clock",
    "hat",
    "bottle",
    "flower",
    "lamp",
    "mushroom",
    "guitar",
    "cat",
    "sign",
}
SEEN_THROUGH_WINDOW = {"table", "window", "sun", "moon", "star", "cloud"}
OUTDOOR_KINDS = {
    "tree",
    "house",
    "sun",
    "moon",
    "star",
    "cloud",
    "mountain",
    "lake",
    "boat",
    "car",
    "bird",
    "castle",
    "bridge",
    "road",
    "fence",
    "kite",
    "balloon",
    "lighthouse",
    "umbrella",
}


def parse_prompt(text: str) -> PromptSpec:
    tokens, quotes = tokenize(text)
    drafts, at = _mentions(tokens)
    for draft in drafts:
        _describe(draft, tokens)
    _attach(drafts, at, tokens)

    flags: dict[str, list[Any]] = {}  # a FLAGS field -> its values, as FLAGS types them
    direction: LightDirection | None = None
    for token in tokens:
        if token.tag == "flag":
            kind, value = token.pair()
            flags.setdefault(kind, []).append(value)
        elif token.tag == "lightdir" and direction is None:
            direction = cast(LightDirection, token.value)

    kinds = [ALIASES[d.alias] for d in drafts]
    setting = _setting(flags.get("setting", []), kinds)
    ground: Ground = (flags.get("ground") or ["grass"])[0]
    dropped: set[int] = set()
    surface: Material | None = None
    window = "window" in flags.get("light", [])
    for n, draft in enumerate(drafts):
        kind = kinds[n]
        standing_on = draft.anchor is not None and draft.relation in ("on", "in")
        if standing_on and kinds[draft.anchor or 0] == "moon":
            # "An astronaut on the moon": the moon is the ground, out in space.
            setting, ground = "space", "moon"
            dropped.add(draft.anchor or 0)
        if kind == "table" and setting == "tabletop":
            surface = draft.material or "wood"
            dropped.add(n)
        if kind == "window" and setting in ("tabletop", "room"):
            dropped.add(n)
            window = window or "light" in text.lower()
    window_in_wall = "window" in kinds and setting in ("tabletop", "room")

    quality: LightQuality | None = next((q for q in flags.get("light", []) if q != "window"), None)
    if window and quality is None:
        quality = "soft"
    if quality == "backlit" and direction is None:
        direction = "back"
    if window and direction is None:
        direction = "left"
    time: TimeOfDay = "night" if setting == "space" else (flags.get("time") or ["day"])[0]

    kept = [n for n in range(len(drafts)) if n not in dropped]
    renumber = {n: k for k, n in enumerate(kept)}
    signs = iter(quotes)
    objects: list[ObjectSpec] = []
    for n in kept:
        objects.append(_finish(drafts[n], kinds, drafts, dropped, renumber, signs))
    leftover = list(signs)
    if leftover and not any(o.kind == "sign" for o in objects):
        objects.append(ObjectSpec(kind="sign", alias="sign", text=leftover[0]))
    return PromptSpec(
        text=text,
        objects=tuple(objects),
        colours=tuple(_palette(tokens)),
        setting=setting,
        time=time,
        ground=ground,
        surface=surface or ("wood" if setting == "tabletop" else None),
        lighting=Lighting(direction=direction, quality=quality, window=window or window_in_wall),
        style=next(iter(flags.get("style", [])), None),
        weather=next(iter(flags.get("weather", [])), None),
        season=next(iter(flags.get("season", [])), None),
    )


def _finish(
    draft: _Draft,
    kinds: list[str],
    drafts: list[_Draft],
    dropped: set[int],
    renumber: dict[int, int],
    signs: Iterator[str],
) -> ObjectSpec:
    kind = ALIASES[draft.alias]
    relation: Relation | None = None
    anchor = draft.anchor
    if anchor is not None and anchor in dropped:
        anchor = None
    elif draft.relation in ("in", "with") and anchor is not None:
        relation = _resolve(kind, kinds[anchor], draft.height == "top")
    else:
        relation = cast(Relation | None, draft.relation)  # every other word is final
    count = draft.count or 1
    if kind == "star" and draft.plural and count == 3:
        count = 40
    if kind in ("sun", "moon", "lake", "road", "bridge", "fence"):
        count = 1
    return ObjectSpec(
        kind=kind,
        alias=draft.alias,
        count=max(1, min(count, 80 if kind == "star" else 12)),
        colour=draft.colour,
        colour_name=draft.colour_name,
        material=draft.material,
        scale=draft.scale,
        position=draft.position,
        depth=draft.depth,
        height=draft.height,
        relation=relation,
        anchor=renumber[anchor] if anchor is not None else None,
        text=next(signs, None) if kind == "sign" else None,
        stacked=draft.stacked,
        multicolour=draft.multicolour,
    )


def _resolve(kind: str, anchor_kind: str, on_top: bool) -> Relation:
    """ "In" and "with" mean different things for different pairs of things."""
    if on_top or anchor_kind in ("lake", "table") or kind == "hat":
        return "on"
    if anchor_kind in CONTAINERS:
        return "inside"
    return "next_to"


def _palette(tokens: list[Token]) -> list[RGB]:
    found = []
    for i, token in enumerate(tokens):
        if token.tag == "colour":
            name = str(token.value)
            colour = colours.COMPOUND.get(name) or colours.NAMED[name]
            if i > 0 and tokens[i - 1].tag == "mod":
                colour = colours.modified(colour, str(tokens[i - 1].value))
            found.append(colour)
    return found


def _setting(named: list[Setting], kinds: list[str]) -> Setting:
    if "underwater" in named:
        return "underwater"
    if "space" in named:
        return "space"
    if "tabletop" in named:
        return "tabletop"
    if "table" in kinds and all(k in TABLETOP_KINDS | SEEN_THROUGH_WINDOW for k in kinds):
        return "tabletop"
    if "room" in named or "studio" in named:
        return "studio" if "studio" in named else "room"
    if "outdoor" in named:
        return "outdoor"
    if "fish" in kinds and not any(k in OUTDOOR_KINDS for k in kinds):
        return "underwater"
    if "planet" in kinds or ("rocket" in kinds and "star" in kinds):
        return "space"
    if any(k in OUTDOOR_KINDS for k in kinds):
        return "outdoor"
    if {"table", "chair", "window"} & set(kinds):
        return "room"
    if kinds and all(k in TABLETOP_KINDS for k in kinds):
        return "studio"
    return "outdoor"
