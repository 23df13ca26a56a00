"""The drawable things the built-in models know: names, default colours and real-world sizes."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.local.colours import RGB


@dataclass(frozen=True)
class Kind:
    name: str
    aliases: tuple[str, ...]
    colour: RGB
    size: float  # the larger dimension in metres; layout compresses the range
    aspect: float  # width / height
    place: str  # "ground", "sky", "wall" or "backdrop"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "sphere",
            ("sphere", "ball", "orb", "marble", "globe"),
            (210, 60, 56),
            0.22,
            1.0,
            "ground",
        ),
        Kind(
            "cube", ("cube", "box", "block", "crate", "dice"), (210, 170, 110), 0.35, 1.0, "ground"
        ),
        Kind("book", ("book", "novel", "notebook"), (150, 40, 40), 0.28, 3.6, "ground"),
        Kind(
            "plant",
            ("plant", "houseplant", "potted plant", "fern", "succulent", "cactus", "seaweed"),
            (56, 140, 60),
            0.55,
            0.8,
            "ground",
        ),
        Kind(
            "tree",
            (
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
            (50, 130, 60),
            7.0,
            0.75,
            "ground",
        ),
        Kind(
            "house",
            ("house", "cottage", "cabin", "home", "hut", "barn"),
            (226, 206, 170),
            8.0,
            1.1,
            "ground",
        ),
        Kind("sun", ("sun",), (255, 208, 80), 1.0, 1.0, "sky"),
        Kind("moon", ("moon", "crescent moon", "full moon"), (236, 232, 210), 1.0, 1.0, "sky"),
        Kind("star", ("star",), (255, 240, 180), 1.0, 1.0, "sky"),
        Kind("cloud", ("cloud",), (246, 246, 250), 1.0, 2.0, "sky"),
        Kind(
            "mountain",
            ("mountain", "hill", "peak", "volcano"),
            (110, 120, 150),
            1.0,
            3.0,
            "backdrop",
        ),
        Kind(
            "lake",
            ("lake", "sea", "ocean", "pond", "river", "water"),
            (60, 120, 190),
            1.0,
            4.0,
            "backdrop",
        ),
        Kind(
            "boat",
            ("boat", "sailboat", "ship", "canoe", "yacht"),
            (200, 70, 50),
            5.0,
            1.1,
            "ground",
        ),
        Kind("car", ("car", "taxi", "truck", "van"), (200, 40, 40), 4.2, 2.4, "ground"),
        Kind("cat", ("cat", "kitten", "kitty"), (226, 140, 60), 0.45, 1.1, "ground"),
        Kind("dog", ("dog", "puppy", "corgi"), (176, 120, 70), 0.7, 1.2, "ground"),
        Kind(
            "bird",
            ("bird", "seagull", "gull", "crow", "parrot", "sparrow"),
            (60, 90, 160),
            0.3,
            1.6,
            "sky",
        ),
        Kind("fish", ("fish", "goldfish"), (250, 140, 40), 0.4, 1.8, "sky"),
        Kind(
            "flower",
            ("flower", "rose", "tulip", "daisy", "sunflower", "blossom"),
            (230, 60, 110),
            0.4,
            0.5,
            "ground",
        ),
        Kind(
            "apple",
            ("apple", "pear", "lemon", "fruit", "peach", "cherry"),
            (196, 30, 40),
            0.09,
            1.0,
            "ground",
        ),
        Kind(
            "cup",
            ("cup", "mug", "teacup", "coffee cup", "coffee mug"),
            (236, 236, 230),
            0.11,
            1.0,
            "ground",
        ),
        Kind("table", ("table", "desk"), (140, 90, 50), 1.2, 1.6, "ground"),
        Kind("chair", ("chair", "stool", "armchair"), (150, 96, 56), 0.95, 0.6, "ground"),
        Kind(
            "lamp",
            ("lamp", "lantern", "streetlight", "street lamp"),
            (60, 60, 64),
            0.6,
            0.6,
            "ground",
        ),
        Kind("window", ("window",), (240, 240, 236), 1.0, 0.8, "wall"),
        Kind("candle", ("candle",), (246, 240, 220), 0.22, 0.35, "ground"),
        Kind("clock", ("clock", "alarm clock", "wall clock"), (200, 60, 50), 0.25, 0.85, "ground"),
        Kind("hat", ("hat", "cap", "top hat", "beanie"), (40, 40, 48), 0.2, 1.3, "ground"),
        Kind(
            "sign",
            ("sign", "signpost", "billboard", "banner", "placard"),
            (238, 226, 196),
            3.0,
            1.0,
            "ground",
        ),
        Kind(
            "person",
            (
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
            (60, 110, 190),
            1.75,
            0.4,
            "ground",
        ),
        Kind("robot", ("robot", "android"), (170, 180, 190), 1.5, 0.6, "ground"),
        Kind("rocket", ("rocket", "spaceship", "spacecraft"), (230, 230, 236), 12.0, 0.35, "sky"),
        Kind(
            "planet",
            ("planet", "saturn", "jupiter", "mars", "earth"),
            (220, 160, 100),
            1.0,
            1.0,
            "sky",
        ),
        Kind(
            "castle",
            ("castle", "tower", "palace", "fortress"),
            (170, 164, 150),
            18.0,
            1.2,
            "ground",
        ),
        Kind("bridge", ("bridge",), (150, 80, 50), 1.0, 4.0, "backdrop"),
        Kind(
            "road",
            ("road", "path", "street", "highway", "trail"),
            (90, 90, 96),
            1.0,
            1.0,
            "backdrop",
        ),
        Kind("fence", ("fence",), (236, 232, 222), 1.0, 8.0, "backdrop"),
        Kind("umbrella", ("umbrella", "parasol"), (220, 50, 60), 2.0, 1.1, "ground"),
        Kind("kite", ("kite",), (230, 60, 60), 1.0, 0.75, "sky"),
        Kind("balloon", ("balloon", "hot air balloon"), (230, 60, 70), 1.0, 0.8, "sky"),
        Kind("guitar", ("guitar", "ukulele"), (196, 120, 50), 1.0, 0.38, "ground"),
        Kind(
            "bottle",
            ("bottle", "vase", "jar", "flask", "wine bottle"),
            (50, 130, 80),
            0.3,
            0.38,
            "ground",
        ),
        Kind("lighthouse", ("lighthouse",), (236, 236, 236), 16.0, 0.35, "ground"),
        Kind("snowman", ("snowman",), (246, 248, 252), 1.6, 0.6, "ground"),
        Kind("mushroom", ("mushroom", "toadstool"), (210, 50, 40), 0.2, 1.0, "ground"),
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
