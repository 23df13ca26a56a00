"""The prompt and instruction parsers behind the built-in models."""

import pytest

from gateway.local.colours import NAMED
from gateway.local.instruction import parse_instruction
from gateway.local.parse import parse_prompt

REFERENCE = (
    "A glass cube on a wooden table. Inside the cube is a small blue sphere. On top of the cube "
    "sits a red book. A green plant is behind the cube, partially visible through the glass. "
    "Soft window light from the left."
)


def luminance(colour: tuple[int, int, int]) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def test_reference_prompt_reads_objects_relations_and_light():
    spec = parse_prompt(REFERENCE)
    cube, sphere, book, plant = spec.objects
    assert [cube.kind, sphere.kind, book.kind, plant.kind] == ["cube", "sphere", "book", "plant"]
    assert cube.material == "glass"
    assert (sphere.colour_name, sphere.relation, sphere.anchor) == ("blue", "inside", 0)
    assert sphere.scale < 1
    assert (book.colour_name, book.relation, book.anchor) == ("red", "on", 0)
    assert (plant.colour_name, plant.relation, plant.anchor) == ("green", "behind", 0)
    assert spec.setting == "tabletop"
    assert spec.surface == "wood"
    assert spec.lighting.direction == "left"
    assert spec.lighting.window
    assert spec.lighting.quality == "soft"


def test_a_repeated_definite_mention_is_the_same_object():
    spec = parse_prompt("A box on the left. A cat sits in front of the box.")
    assert [o.kind for o in spec.objects] == ["cube", "cat"]
    assert spec.objects[1].anchor == 0


@pytest.mark.parametrize(
    ("text", "kind", "count"),
    [
        ("three yellow apples", "apple", 3),
        ("2 cats on a sofa", "cat", 2),
        ("a pair of candles", "candle", 2),
        ("a dozen balloons", "balloon", 12),
        ("some flowers", "flower", 3),
        ("a single tree", "tree", 1),
        ("five purple flowers in a row", "flower", 5),
    ],
)
def test_counts(text, kind, count):
    (obj,) = parse_prompt(text).objects
    assert (obj.kind, obj.count) == (kind, count)


def test_colours_attach_to_their_own_nouns():
    spec = parse_prompt("a red ball next to a light blue cup and a dark green bottle")
    ball, cup, bottle = spec.objects
    assert ball.colour == NAMED["red"]
    assert cup.colour_name == "light blue"
    assert luminance(cup.colour) > luminance(NAMED["blue"])
    assert bottle.colour_name == "dark green"
    assert luminance(bottle.colour) < luminance(NAMED["green"])
    assert spec.colours[0] == NAMED["red"]


def test_positions_and_depth():
    ball, cube = parse_prompt("A red ball on the left and a blue cube on the right").objects
    assert (ball.position, cube.position) == ("left", "right")
    (house,) = parse_prompt("a house in the background").objects
    assert house.depth == "background"
    (moon,) = parse_prompt("a crescent moon in the top left").objects
    assert (moon.position, moon.height) == ("left", "top")


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("a cat under a tree", "under"),
        ("a dog next to a car", "next_to"),
        ("a dog in front of a house", "in_front"),
        ("a cat to the left of a dog", "left_of"),
        ("a balloon above a house", "above"),
        ("a fish in a bottle", "inside"),
        ("a black cat wearing a top hat", "on"),
    ],
)
def test_relations(text, relation):
    objects = parse_prompt(text).objects
    related = [o for o in objects if o.relation]
    assert [o.relation for o in related] == [relation]
    assert related[0].anchor is not None
    assert related[0].anchor != objects.index(related[0])


@pytest.mark.parametrize("quoted", ['"OPEN"', "'OPEN'", "“OPEN”"])
def test_sign_text_in_any_quotes(quoted):
    (sign,) = parse_prompt(f"A wooden sign that says {quoted} by the road").objects[:1]
    assert sign.kind == "sign"
    assert sign.text == "OPEN"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("three fish, underwater", "setting", "underwater"),
        ("a rocket in outer space", "setting", "space"),
        ("a house at night", "time", "night"),
        ("a boat at sunset", "time", "sunset"),
        ("a snowy field with a tree", "ground", "snow"),
        ("a cup and a book on a table", "setting", "tabletop"),
        ("a watercolor of a tree", "style", "watercolor"),
        ("pixel art of a house", "style", "pixel"),
        ("a pencil sketch of a cat", "style", "sketch"),
        ("an oil painting of a boat", "style", "oil"),
        ("a person walking in the rain", "weather", "rain"),
    ],
)
def test_scene_words(text, field, value):
    assert getattr(parse_prompt(text), field) == value


@pytest.mark.parametrize(
    ("text", "direction", "quality"),
    [
        ("a bottle, dramatic light from the right", "right", "dramatic"),
        ("a street at night, neon", None, "neon"),
        ("a mug by candlelight", None, "candle"),
        ("a tree, backlit", "back", "backlit"),
    ],
)
def test_lighting(text, direction, quality):
    lighting = parse_prompt(text).lighting
    assert (lighting.direction, lighting.quality) == (direction, quality)


def test_words_it_does_not_know_draw_nothing():
    spec = parse_prompt("a melancholy abstraction of entropy")
    assert spec.objects == ()


@pytest.mark.parametrize(
    ("text", "action", "detail"),
    [
        ("Make the blue sphere red", "recolour", ("sphere", NAMED["blue"], NAMED["red"])),
        ("Make the sphere red", "recolour", ("sphere", None, NAMED["red"])),
        ("Change the cube to yellow", "recolour", ("cube", None, NAMED["yellow"])),
        ("Make the apples green", "recolour", ("apple", None, NAMED["green"])),
    ],
)
def test_instruction_recolour(text, action, detail):
    spec = parse_instruction(text)
    assert spec.action == action
    assert (spec.kind, spec.source_colour, spec.colour) == detail


def test_instruction_plural_targets_every_match():
    assert parse_instruction("Make the apples green").plural
    assert not parse_instruction("Make the apple green").plural


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Convert to black and white", ("style", "bw")),
        ("make it greyscale", ("style", "bw")),
        ("Make it sepia", ("style", "sepia")),
        ("Turn it into a pencil sketch", ("style", "sketch")),
        ("Make it pixel art", ("style", "pixel")),
        ("Make it night", ("light", "night")),
        ("Give it warm sunset light", ("light", "sunset")),
        ("Make it brighter", ("light", "brighter")),
        ("Make it warmer", ("light", "warmer")),
    ],
)
def test_instruction_style_and_light(text, expected):
    spec = parse_instruction(text)
    assert (spec.action, spec.style or spec.light) == expected


def test_instruction_add_reads_the_thing_its_text_and_where_it_goes():
    spec = parse_instruction("Add a sign that says 'OPEN'")
    assert (spec.action, spec.kind) == ("add", "sign")
    assert spec.added is not None
    assert spec.added.text == "OPEN"
    hat = parse_instruction("add a red hat to the cat")
    assert (hat.kind, hat.colour, hat.anchor) == ("hat", NAMED["red"], "cat")


def test_instruction_remove_and_dramatic_light_direction():
    remove = parse_instruction("Remove the book")
    assert (remove.action, remove.kind) == ("remove", "book")
    light = parse_instruction("Add dramatic light from the right")
    assert (light.action, light.light, light.direction) == ("light", "dramatic", "right")


def test_instruction_region_recolour():
    spec = parse_instruction("make the sky orange")
    assert (spec.action, spec.region, spec.colour) == ("recolour", "sky", NAMED["orange"])
