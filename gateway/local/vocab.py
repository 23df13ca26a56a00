"""The drawable things the built-in models know: names, default colours and real-world sizes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.local.colours import RGB

# Where a kind of thing belongs in a picture: standing on the ground, up in the sky, hung on a
# wall, or spread across the backdrop (mountains, lakes, roads).
Place = Literal["ground", "sky", "wall", "backdrop"]


@dataclass(frozen=True, kw_only=True)
class Kind:
    name: str
    aliases: tuple[str, ...]
    colour: RGB
    size: float  # the larger dimension in metres; layout compresses the range
    aspect: float  # width / height
    place: Place


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            name="sphere",
            aliases=("sphere", "ball", "orb", "marble", "globe"),
            colour=(210, 60, 56),
            size=0.22,
            aspect=1.0,
            place="ground",
        ),
        Kind(
            name="cube",
            aliases=("cube", "box", "block", "crate", "dice"),
            colour=(210, 170, 110),
            size=0.35,
            aspect=1.0,
            place="ground",
        ),
        Kind(
            name="book",
            aliases=("book", "novel", "notebook"),
            colour=(150, 40, 40),
            size=0.28,
            aspect=3.6,
            place="ground",
        ),
        Kind(
            name="plant",
            aliases=(
                "plant",
                "houseplant",
                "potted plant",
                "fern",
                "succulent",
                "cactus",
                "seaweed",
            ),
            colour=(56, 140, 60),
            size=0.55,
            aspect=0.8,
            place="ground",
        ),
        Kind(
            name="tree",
            aliases=(
                "tree",
                "pine",
                "oak",
                "palm tree",
                "pine tree",
                "oak tree",
                "apple tree",
                "maple tree",
                "birch tree",
                "cherry tree",
                "christmas tree",
            ),
            colour=(50, 130, 60),
            size=7.0,
            aspect=0.75,
            place="ground",
        ),
        Kind(
            name="house",
            aliases=("house", "cottage", "cabin", "home", "hut", "barn"),
            colour=(226, 206, 170),
            size=8.0,
            aspect=1.1,
            place="ground",
        ),
        Kind(
            name="sun", aliases=("sun",), colour=(255, 208, 80), size=1.0, aspect=1.0, place="sky"
        ),
        Kind(
            name="moon",
            aliases=("moon", "crescent moon", "full moon"),
            colour=(236, 232, 210),
            size=1.0,
            aspect=1.0,
            place="sky",
        ),
        Kind(
            name="star",
            aliases=("star",),
            colour=(255, 240, 180),
            size=1.0,
            aspect=1.0,
            place="sky",
        ),
        Kind(
            name="cloud",
            aliases=("cloud",),
            colour=(246, 246, 250),
            size=1.0,
            aspect=2.0,
            place="sky",
        ),
        Kind(
            name="mountain",
            aliases=("mountain", "hill", "peak", "volcano"),
            colour=(110, 120, 150),
            size=1.0,
            aspect=3.0,
            place="backdrop",
        ),
        Kind(
            name="lake",
            aliases=("lake", "sea", "ocean", "pond", "river", "water"),
            colour=(60, 120, 190),
            size=1.0,
            aspect=4.0,
            place="backdrop",
        ),
        Kind(
            name="boat",
            aliases=("boat", "sailboat", "ship", "canoe", "yacht"),
            colour=(200, 70, 50),
            size=5.0,
            aspect=1.1,
            place="ground",
        ),
        Kind(
            name="car",
            aliases=("car", "taxi", "truck", "van"),
            colour=(200, 40, 40),
            size=4.2,
            aspect=2.4,
            place="ground",
        ),
        Kind(
            name="cat",
            aliases=("cat", "kitten", "kitty"),
            colour=(226, 140, 60),
            size=0.45,
            aspect=1.1,
            place="ground",
        ),
        Kind(
            name="dog",
            aliases=("dog", "puppy", "corgi"),
            colour=(176, 120, 70),
            size=0.7,
            aspect=1.2,
            place="ground",
        ),
        Kind(
            name="bird",
            aliases=("bird", "seagull", "gull", "crow", "parrot", "sparrow"),
            colour=(60, 90, 160),
            size=0.3,
            aspect=1.6,
            place="sky",
        ),
        Kind(
            name="fish",
            aliases=("fish", "goldfish"),
            colour=(250, 140, 40),
            size=0.4,
            aspect=1.8,
            place="sky",
        ),
        Kind(
            name="flower",
            aliases=("flower", "rose", "tulip", "daisy", "sunflower", "blossom"),
            colour=(230, 60, 110),
            size=0.4,
            aspect=0.5,
            place="ground",
        ),
        Kind(
            name="apple",
            aliases=("apple", "pear", "lemon", "fruit", "peach", "cherry"),
            colour=(196, 30, 40),
            size=0.09,
            aspect=1.0,
            place="ground",
        ),
        Kind(
            name="cup",
            aliases=("cup", "mug", "teacup", "coffee cup", "coffee mug"),
            colour=(236, 236, 230),
            size=0.11,
            aspect=1.0,
            place="ground",
        ),
        Kind(
            name="table",
            aliases=("table", "desk"),
            colour=(140, 90, 50),
            size=1.2,
            aspect=1.6,
            place="ground",
        ),
        Kind(
            name="chair",
            aliases=("chair", "stool", "armchair"),
            colour=(150, 96, 56),
            size=0.95,
            aspect=0.6,
            place="ground",
        ),
        Kind(
            name="lamp",
            aliases=("lamp", "lantern", "streetlight", "street lamp"),
            colour=(60, 60, 64),
            size=0.6,
            aspect=0.6,
            place="ground",
        ),
        Kind(
            name="window",
            aliases=("window",),
            colour=(240, 240, 236),
            size=1.0,
            aspect=0.8,
            place="wall",
        ),
        Kind(
            name="candle",
            aliases=("candle",),
            colour=(246, 240, 220),
            size=0.22,
            aspect=0.35,
            place="ground",
        ),
        Kind(
            name="clock",
            aliases=("clock", "alarm clock", "wall clock"),
            colour=(200, 60, 50),
            size=0.25,
            aspect=0.85,
            place="ground",
        ),
        Kind(
            name="hat",
            aliases=("hat", "cap", "top hat", "beanie"),
            colour=(40, 40, 48),
            size=0.2,
            aspect=1.3,
            place="ground",
        ),
        Kind(
            name="sign",
            aliases=("sign", "signpost", "billboard", "banner", "placard"),
            colour=(238, 226, 196),
            size=3.0,
            aspect=1.0,
            place="ground",
        ),
        Kind(
            name="person",
            aliases=(
                "person",
                "man",
                "woman",
                "girl",
                "boy",
                "child",
                "kid",
                "figure",
                "astronaut",
                "people",
            ),
            colour=(60, 110, 190),
            size=1.75,
            aspect=0.4,
            place="ground",
        ),
        Kind(
            name="robot",
            aliases=("robot", "android"),
            colour=(170, 180, 190),
            size=1.5,
            aspect=0.6,
            place="ground",
        ),
        Kind(
            name="rocket",
            aliases=("rocket", "spaceship", "spacecraft"),
            colour=(230, 230, 236),
            size=12.0,
            aspect=0.35,
            place="sky",
        ),
        Kind(
            name="planet",
            aliases=("planet", "saturn", "jupiter", "mars", "earth"),
            colour=(220, 160, 100),
            size=1.0,
            aspect=1.0,
            place="sky",
        ),
        Kind(
            name="castle",
            aliases=("castle", "tower", "palace", "fortress"),
            colour=(170, 164, 150),
            size=18.0,
            aspect=1.2,
            place="ground",
        ),
        Kind(
            name="bridge",
            aliases=("bridge",),
            colour=(150, 80, 50),
            size=1.0,
            aspect=4.0,
            place="backdrop",
        ),
        Kind(
            name="road",
            aliases=("road", "path", "street", "highway", "trail"),
            colour=(90, 90, 96),
            size=1.0,
            aspect=1.0,
            place="backdrop",
        ),
        Kind(
            name="fence",
            aliases=("fence",),
            colour=(236, 232, 222),
            size=1.0,
            aspect=8.0,
            place="backdrop",
        ),
        Kind(
            name="umbrella",
            aliases=("umbrella", "parasol"),
            colour=(220, 50, 60),
            size=2.0,
            aspect=1.1,
            place="ground",
        ),
        Kind(
            name="kite",
            aliases=("kite",),
            colour=(230, 60, 60),
            size=1.0,
            aspect=0.75,
            place="sky",
        ),
        Kind(
            name="balloon",
            aliases=("balloon", "hot air balloon"),
            colour=(230, 60, 70),
            size=1.0,
            aspect=0.8,
            place="sky",
        ),
        Kind(
            name="guitar",
            aliases=("guitar", "ukulele"),
            colour=(196, 120, 50),
            size=1.0,
            aspect=0.38,
            place="ground",
        ),
        Kind(
            name="bottle",
            aliases=("bottle", "vase", "jar", "flask", "wine bottle"),
            colour=(50, 130, 80),
            size=0.3,
            aspect=0.38,
            place="ground",
        ),
        Kind(
            name="lighthouse",
            aliases=("lighthouse",),
            colour=(236, 236, 236),
            size=16.0,
            aspect=0.35,
            place="ground",
        ),
        Kind(
            name="snowman",
            aliases=("snowman",),
            colour=(246, 248, 252),
            size=1.6,
            aspect=0.6,
            place="ground",
        ),
        Kind(
            name="mushroom",
            aliases=("mushroom", "toadstool"),
            colour=(210, 50, 40),
            size=0.2,
            aspect=1.0,
            place="ground",
        ),
    )
}

# Plurals that the simple suffix rules below get wrong.
IRREGULAR_PLURALS = {
    "people": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "kids": "kid",
    "fish": "fish",
    "fishes": "fish",
    "cherries": "cherry",
    "puppies": "puppy",
    "kitties": "kitty",
    "shelves": "shelf",
    "leaves": "leaf",
    "peaches": "peach",
}

# Alias-level colours where the name says more than the kind ("a lemon", "a rose").
ALIAS_COLOURS: dict[str, RGB] = {
    "lemon": (248, 222, 60),
    "pear": (180, 200, 70),
    "peach": (250, 170, 120),
    "sunflower": (250, 200, 30),
    "daisy": (250, 250, 246),
    "rose": (210, 30, 50),
    "box": (200, 160, 110),
    "crate": (176, 130, 80),
    "dice": (240, 240, 236),
    "crow": (34, 34, 40),
    "seagull": (236, 236, 236),
    "gull": (236, 236, 236),
    "parrot": (40, 170, 70),
    "taxi": (246, 200, 30),
    "cactus": (70, 150, 80),
    "seaweed": (50, 140, 90),
    "pine": (36, 100, 56),
    "pine tree": (36, 100, 56),
    "christmas tree": (30, 110, 50),
    "mars": (200, 90, 50),
    "earth": (60, 120, 200),
    "jupiter": (214, 170, 120),
    "saturn": (226, 196, 130),
    "globe": (60, 130, 200),
    "astronaut": (236, 236, 236),
    "barn": (170, 40, 36),
    "corgi": (220, 140, 70),
    "top hat": (30, 30, 34),
    "vase": (60, 110, 170),
    "wine bottle": (40, 80, 50),
    "jar": (200, 220, 220),
}

ALIASES: dict[str, str] = {alias: kind.name for kind in KINDS.values() for alias in kind.aliases}


def plural_forms(word: str) -> list[str]:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return [word[:-1] + "ies"]
    if word.endswith(("s", "x", "ch", "sh")):
        return [word + "es"]
    return [word + "s"]


def alias_table() -> dict[str, tuple[str, bool]]:
    """Every surface form -> (alias, is_plural), including regular and irregular plurals."""
    table: dict[str, tuple[str, bool]] = {}
    for alias in ALIASES:
        table[alias] = (alias, False)
        head, _, last = alias.rpartition(" ")
        for plural in plural_forms(last):
            table[f"{head} {plural}".strip()] = (alias, True)
    for plural, singular in IRREGULAR_PLURALS.items():
        if singular in ALIASES:
            table[plural] = (singular, plural != singular)
    return table
