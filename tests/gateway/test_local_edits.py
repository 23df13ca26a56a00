"""The built-in editing models: they find things in the pixels and change them, with the
quality ladder the catalog promises (lumen-xl precise, sketchbook smudging everything, retouch
unable to add or remove), for a fixed seed (what a seed changes: test_local_seeds.py)."""

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from gateway import ImageRequest, Operation, default_catalog, local
from gateway.providers.local import LocalProvider, encode_png

EDITORS = ["lumen-xl", "prism-2", "sketchbook", "retouch"]
REFERENCE = (
    "A glass cube on a wooden table. Inside the cube is a small blue sphere. On top of the cube "
    "sits a red book. A green plant is behind the cube, partially visible through the glass. "
    "Soft window light from the left."
)
SIZE = 512
SEED = 1


@pytest.fixture(scope="module")
def reference() -> Image.Image:
    return local.render("lumen-xl", REFERENCE, SIZE, SIZE, seed=SEED)


@pytest.fixture(scope="module")
def landscape() -> Image.Image:
    prompt = "A small house with a red roof under a big tree, mountains in the background"
    return local.render("lumen-xl", prompt, SIZE, SIZE, seed=SEED)


def hsv(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    px = np.asarray(image.convert("HSV"), np.float32)
    return px[..., 0] * 360 / 255, px[..., 1] / 255, px[..., 2] / 255


def colour_mask(image: Image.Image, hue: float, width: float = 20) -> np.ndarray:
    h, s, v = hsv(image)
    distance = np.minimum(np.abs(h - hue), 360 - np.abs(h - hue))
    return (distance < width) & (s > 0.4) & (v > 0.25)


def sphere_mask(image: Image.Image) -> np.ndarray:
    """The blue sphere: blue pixels below the window (whose sky is blue too)."""
    mask = colour_mask(image, 225)
    mask[: image.height // 2] = False
    return mask


def changed(a: Image.Image, b: Image.Image, tolerance: int = 6) -> np.ndarray:
    return np.abs(np.asarray(a, int) - np.asarray(b, int)).max(axis=2) > tolerance


@pytest.mark.parametrize("model", EDITORS)
@pytest.mark.parametrize(
    "instruction",
    [
        "Make the sphere red",
        "Add a moon",
        "Remove the book",
        "Make it night",
        "Make it sepia",
        "?",
    ],
)
def test_edits_keep_the_source_size_and_mode(model, instruction):
    source = local.render("lumen-xl", "a red ball on the left", 320, 200, seed=SEED)
    result = local.edit(model, source, instruction, seed=SEED)
    assert result.mode == "RGB"
    assert result.size == (320, 200)


@pytest.mark.parametrize(("size", "made"), [("256x128", (256, 128)), (None, (320, 200))])
def test_the_provider_makes_an_edit_at_the_size_asked_for_else_the_sources(size, made):
    offering = replace(default_catalog().model("lumen-xl").offerings[0], options={})
    source = encode_png(local.render("lumen-xl", "a red ball", 320, 200, seed=SEED))
    request = ImageRequest(
        model="lumen-xl", prompt="Make it sepia", size=size, images=(source,), seed=SEED
    )

    response = LocalProvider(latency_scale=0).call(offering, request, Operation.EDIT)

    assert Image.open(io.BytesIO(response.images[0])).size == made


@pytest.mark.parametrize("model", EDITORS)
def test_edits_are_deterministic_for_a_seed(model, reference):
    first = local.edit(model, reference, "Make the sphere red", seed=SEED)
    second = local.edit(model, reference, "Make the sphere red", seed=SEED)
    other = local.edit(model, reference, "Make the sphere red", seed=SEED + 1)
    assert first.tobytes() == second.tobytes()
    assert first.tobytes() != other.tobytes()


@pytest.mark.parametrize("instruction", ["Make the blue sphere red", "Make the sphere red"])
def test_lumen_recolours_the_sphere_and_nothing_else(reference, instruction):
    before = sphere_mask(reference)
    result = local.edit("lumen-xl", reference, instruction, seed=SEED)
    assert before.sum() > 1000
    assert sphere_mask(result)[before].mean() < 0.05
    assert colour_mask(result, 0, 15)[before].mean() > 0.8
    outside = ~ndimage.binary_dilation(before, iterations=6)
    assert (~changed(reference, result))[outside].mean() > 0.98


def test_sketchbook_recolours_crudely_and_smudges_the_rest(reference):
    before = sphere_mask(reference)
    lumen = local.edit("lumen-xl", reference, "Make the blue sphere red", seed=SEED)
    sketchbook = local.edit("sketchbook", reference, "Make the blue sphere red", seed=SEED)
    outside = ~ndimage.binary_dilation(before, iterations=6)
    assert (
        changed(reference, sketchbook)[outside].mean()
        > 10 * changed(reference, lumen)[outside].mean()
    )
    assert (~changed(reference, sketchbook))[outside].mean() < 0.6


def test_prism_is_between_lumen_and_sketchbook(reference):
    damage = {
        model: changed(
            reference, local.edit(model, reference, "Make the blue sphere red", seed=SEED)
        ).mean()
        for model in ("lumen-xl", "prism-2", "sketchbook")
    }
    assert damage["lumen-xl"] < damage["prism-2"] < damage["sketchbook"]


def test_plural_recolours_every_apple():
    source = local.render(
        "lumen-xl", "three yellow apples on a wooden table", SIZE, SIZE, seed=SEED
    )
    result = local.edit("lumen-xl", source, "Make the apples green", seed=SEED)
    yellow = colour_mask(source, 50, 12)
    assert yellow.sum() > 3000
    assert colour_mask(result, 50, 12).sum() < 0.05 * yellow.sum()
    green = colour_mask(result, 120, 25) & yellow
    _, count = ndimage.label(ndimage.binary_opening(green, iterations=2))
    assert count == 3


@pytest.mark.parametrize("model", ["lumen-xl", "retouch", "prism-2"])
def test_black_and_white_has_no_colour_left(model, reference):
    result = local.edit(model, reference, "Convert to black and white", seed=SEED)
    px = np.asarray(result, int)
    assert (px.max(axis=2) - px.min(axis=2)).max() <= 2


def test_lumen_removes_the_book_and_fills_the_hole(reference):
    red = colour_mask(reference, 0, 12)
    red[reference.height * 2 // 3 :] = False
    # The book is the biggest red thing; a terracotta pot may show reddish beside it.
    labels, count = ndimage.label(red)
    sizes = ndimage.sum_labels(red, labels, range(1, count + 1))
    book = labels == 1 + int(np.argmax(sizes))
    assert book.sum() > 800
    result = local.edit("lumen-xl", reference, "Remove the book", seed=SEED)
    assert colour_mask(result, 0, 12)[book].mean() < 0.05
    # Filled from the surroundings, not left as a flat hole: the patch has some variation,
    # and its colour is close to the wall and glass around it.
    patch = np.asarray(result, float)[book]
    assert patch.std(axis=0).mean() > 1.0
    ring = ndimage.binary_dilation(book, iterations=15) & ~ndimage.binary_dilation(
        book, iterations=8
    )
    around = np.asarray(reference, float)[ring].mean(axis=0)
    assert np.abs(patch.mean(axis=0) - around).max() < 45
    # The sphere, elsewhere, is untouched.
    assert sphere_mask(result)[sphere_mask(reference)].mean() > 0.95


@pytest.mark.parametrize("instruction", ["Add a moon", "Remove the book", "Add a hat"])
def test_retouch_cannot_add_or_remove(reference, instruction):
    result = local.edit("retouch", reference, instruction, seed=SEED)
    assert changed(reference, result, tolerance=2).mean() < 0.001


def test_retouch_does_colour_and_light(reference):
    recoloured = local.edit("retouch", reference, "Make the blue sphere red", seed=SEED)
    assert colour_mask(recoloured, 0, 15)[sphere_mask(reference)].mean() > 0.8
    night = local.edit("retouch", reference, "Make it night", seed=SEED)
    assert np.asarray(night, float).mean() < 0.6 * np.asarray(reference, float).mean()


def test_lumen_adds_a_moon_in_the_sky(landscape):
    result = local.edit("lumen-xl", landscape, "Add a moon", seed=SEED)
    diff = changed(landscape, result, tolerance=20)
    ys, _ = np.nonzero(diff)
    assert 0.002 < diff.mean() < 0.1
    assert ys.mean() < landscape.height * 0.4


def test_lumen_adds_a_sign_with_text_in_the_foreground(landscape):
    result = local.edit("lumen-xl", landscape, "Add a sign that says 'OPEN'", seed=SEED)
    diff = changed(landscape, result, tolerance=20)
    ys, _ = np.nonzero(diff)
    assert 0.01 < diff.mean() < 0.2
    assert ys.mean() > landscape.height * 0.55


def test_lumen_puts_a_hat_on_top_of_the_cat():
    source = local.render(
        "lumen-xl", "A black cat sitting on a wooden table", SIZE, SIZE, seed=SEED
    )
    dark = (np.asarray(source.convert("L")) < 50) & ~(np.arange(SIZE)[:, None] > SIZE * 0.9)
    cat_top = np.nonzero(dark.any(axis=1))[0].min()
    result = local.edit("lumen-xl", source, "Add a hat", seed=SEED)
    ys, _ = np.nonzero(changed(source, result, tolerance=20))
    assert ys.size > 500
    # The hat sits on the head: its pixels reach above the cat and end just below its top.
    assert ys.min() < cat_top
    assert ys.max() < cat_top + SIZE * 0.12


@pytest.mark.parametrize("model", EDITORS)
def test_night_darkens(model, landscape):
    result = local.edit(model, landscape, "Make it night", seed=SEED)
    assert np.asarray(result, float).mean() < 0.75 * np.asarray(landscape, float).mean()


def test_dramatic_light_from_the_right_brightens_the_right(landscape):
    result = np.asarray(
        local.edit("lumen-xl", landscape, "Add dramatic light from the right", seed=SEED).convert(
            "L"
        ),
        float,
    )
    before = np.asarray(landscape.convert("L"), float)
    half = SIZE // 2
    gain_right = result[:, half:].mean() / before[:, half:].mean()
    gain_left = result[:, :half].mean() / before[:, :half].mean()
    assert gain_right > gain_left + 0.2


@pytest.mark.parametrize("style", ["sepia", "pencil sketch", "pixel art", "watercolor"])
def test_styles_change_the_whole_picture(reference, style):
    result = local.edit("lumen-xl", reference, f"Make it a {style}", seed=SEED)
    assert changed(reference, result).mean() > 0.3


def test_pixel_art_is_made_of_cells(reference):
    result = np.asarray(local.edit("lumen-xl", reference, "Make it pixel art", seed=SEED))
    same = (result[:, 1:] == result[:, :-1]).all(axis=2).mean()
    assert same > 0.85
