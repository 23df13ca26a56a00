"""The built-in models draw each rendition from a caller's seed: the same seed gives the same
bytes, another seed a picture that is not a near-duplicate, so nobody can redraw a battle image
by running its prompt again.

"Near-duplicate" is measured with a 64-bit DCT perceptual hash (the pHash idea: a 32x32 grey
box-filtered thumbnail, its 2-D DCT, the 8x8 lowest frequencies without the DC term, one bit
for each coefficient above their median) and the Hamming distance between two hashes. Copies,
re-encodings and small retouches of one picture stay within a few bits of each other.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy.fft import dctn

from gateway import Catalog, Gateway, ImageRequest, default_catalog, local
from gateway.local import samples
from gateway.local.contact_sheet import EDIT_MODELS, T2I_MODELS
from gateway.local.instruction import parse_instruction
from gateway.providers import LocalProvider

SIZE = 256
SEEDS = (11, 12)
# A near-duplicate is within this many bits; every t2i pair must be further apart, bar a few
# prompts whose two renditions happened to frame the scene alike.
NEAR = 10
ALLOWED_NEAR = 3
# One pixel changed by a full step moves the mean absolute difference by 255 / (256*256*3),
# about 0.0013: a new rendition must differ far more than that.
MIN_MEAN_DIFFERENCE = 0.02

PROMPTS, EDITS = samples.load()


def phash(image: Image.Image) -> np.ndarray:
    grey = image.convert("L").resize((32, 32), Image.Resampling.BOX)
    low = dctn(np.asarray(grey, np.float64), norm="ortho")[:8, :8].ravel()[1:]
    bits: np.ndarray = low > np.median(low)
    return bits


def distance(a: Image.Image, b: Image.Image) -> int:
    return int((phash(a) != phash(b)).sum())


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


def test_the_hash_sees_a_copy_as_a_near_duplicate_and_another_picture_as_not() -> None:
    picture = local.render("lumen-xl", PROMPTS[0], SIZE, SIZE, seed=1)
    brighter = Image.eval(picture, lambda v: min(255, v + 12))
    other = local.render("lumen-xl", "a red car on a road at night", SIZE, SIZE, seed=1)

    assert distance(picture, picture) == 0
    assert distance(picture, brighter) <= 4
    assert distance(picture, other) > 2 * NEAR


@pytest.mark.parametrize("model", T2I_MODELS)
def test_another_seed_draws_another_picture_for_every_sample_prompt(model: str) -> None:
    distances, differences = [], []
    # Every generation has a seed of its own: so does every prompt here.
    for k, prompt in enumerate(PROMPTS):
        pair = (SEEDS[0] + 2 * k, SEEDS[1] + 2 * k)
        first, second = (local.render(model, prompt, SIZE, SIZE, seed=s) for s in pair)
        distances.append(distance(first, second))
        differences.append(mean_difference(first, second))

    near = [(d, p[:60]) for d, p in zip(distances, PROMPTS, strict=True) if d <= NEAR]
    assert len(near) <= ALLOWED_NEAR, near
    assert statistics.median(distances) > 2 * NEAR
    assert min(differences) > 10 * MIN_MEAN_DIFFERENCE


@pytest.mark.parametrize("model", T2I_MODELS)
def test_the_same_seed_draws_the_same_bytes(model: str) -> None:
    for prompt in PROMPTS[:6]:
        first, second = (local.render(model, prompt, SIZE, SIZE, seed=7) for _ in range(2))
        assert first.tobytes() == second.tobytes()


def test_daydream_varies_with_the_seed_not_with_the_prompt() -> None:
    prompts = ("a red car on a road at night", "three yellow apples on a wooden table")
    same_seed = [local.render("daydream", p, SIZE, SIZE, seed=3) for p in prompts]
    same_prompt = [local.render("daydream", prompts[0], SIZE, SIZE, seed=s) for s in SEEDS]

    assert distance(*same_seed) <= NEAR // 2
    assert distance(*same_prompt) > NEAR


@pytest.fixture(scope="module")
def sources() -> dict[str, Image.Image]:
    return {p: local.render("lumen-xl", p, SIZE, SIZE, seed=0) for p, _ in EDITS}


def cannot(model: str, instruction: str) -> bool:
    """Retouch cannot add or remove things: it hands the source back, whatever the seed."""
    return model == "retouch" and parse_instruction(instruction).action in ("add", "remove")


@pytest.mark.parametrize("model", EDIT_MODELS)
def test_another_seed_gives_another_edit_and_the_same_seed_the_same_bytes(
    model: str, sources: dict[str, Image.Image]
) -> None:
    for source_prompt, instruction in EDITS:
        source = sources[source_prompt]
        first, second, again = (
            local.edit(model, source, instruction, seed=s) for s in (*SEEDS, SEEDS[0])
        )
        assert first.tobytes() == again.tobytes()
        if cannot(model, instruction):
            assert first.tobytes() == second.tobytes() == source.tobytes()
        else:
            assert mean_difference(first, second) > MIN_MEAN_DIFFERENCE, instruction


def test_the_local_provider_draws_from_the_request_seed_or_a_fresh_secret_one() -> None:
    # prism-2's catalog entry fails 2% of its calls on purpose (a simulated overload): not here.
    shipped = default_catalog()
    spec = shipped.model("prism-2")
    steady = replace(spec.offerings[0], options={**spec.offerings[0].options, "fail_rate": 0})
    catalog = Catalog(models={**shipped.models, "prism-2": replace(spec, offerings=(steady,))})
    gateway = Gateway(
        catalog=catalog, environ={}, providers={"local": LocalProvider(latency_scale=0)}
    )
    unseeded_request = ImageRequest(model="prism-2", prompt=PROMPTS[1], size="128x128")
    seeded = replace(unseeded_request, seed=5)

    first, again = (gateway.generate(seeded).images[0] for _ in range(2))
    unseeded = [gateway.generate(unseeded_request).images[0] for _ in range(2)]
    batch = gateway.generate(replace(seeded, n=2)).images

    assert first == again
    assert unseeded[0] != unseeded[1]
    assert first not in unseeded
    assert batch[0] == first
    assert batch[1] != first
