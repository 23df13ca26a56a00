"""When two prompts are the same prompt: text that reads the same, and pictures that look alike.

Two facts rest on this: importing a prompt that is already there does nothing, and the API
and the playground refuse to run a prompt that battles show now (its images, made model by
model, would tell a voter who made which battle image). Neither may be dodged by a character
that changes nothing for an image model, so text is compared by `prompt_key`: Unicode
compatibility forms folded (full-width letters, ligatures), accents and case dropped, and
punctuation, symbols, zero-width characters and white space removed. Source images of edit
prompts are compared by a perceptual hash, which one changed pixel, a re-encode or a resize
moves by a few bits at most. An edit keeps its source's layout, so a seed changes an edit
far less than a picture made from text: any edit of a battle's source (whatever the
instruction, in any orientation) would come out close to that battle's images, and is refused.
Crops and borders of more than a few percent do move a perceptual hash past the threshold.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache

import numpy as np
from PIL import Image, ImageOps

# Unicode categories that carry no meaning for an image model: punctuation (P*), symbols (S*),
# separators and white space (Z*), control and format characters (C*: zero-width spaces and
# joiners, the byte order mark, lone surrogates).
_DROPPED = frozenset("PSZC")

HASH_SIDE = 32  # the picture is reduced to this many pixels a side...
HASH_BITS_SIDE = 8  # ...and the lowest 8x8 frequencies of its DCT make the 64-bit hash
# Hamming distance at or under which two source images count as the same picture. Unrelated
# pictures sit near 32; a one-pixel change, a JPEG re-encode or a resize move a few bits.
NEAR_DUPLICATE_BITS = 10


def prompt_key(text: str) -> str:
    """The text as an image model would read it, for comparing prompts."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = unicodedata.normalize("NFKC", bare.casefold())
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in _DROPPED)


def image_phash(image: Image.Image | bytes) -> str:
    """A 64-bit perceptual hash (DCT of a 32x32 grey copy), as 16 hex digits."""
    if isinstance(image, bytes):
        with Image.open(io.BytesIO(image)) as opened:
            return image_phash(opened.convert("RGB"))
    grey = image.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    dct = _dct_matrix()
    low = (dct @ pixels @ dct.T)[:HASH_BITS_SIDE, :HASH_BITS_SIDE].ravel()
    bits = low[1:] > np.median(low[1:])  # the first coefficient is the mean brightness
    value = int("".join("1" if bit else "0" for bit in bits), 2)
    return f"{value:016x}"


def image_phashes(data: bytes) -> list[str]:
    """The perceptual hashes of a picture in each of its eight orientations (turned by quarter
    turns, and mirrored): a flipped copy of a battle's source is edited into a flipped copy of
    the battle's image."""
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    turns = [image.rotate(90 * k, expand=True) for k in range(4)]
    return [image_phash(turned) for turned in turns + [ImageOps.mirror(t) for t in turns]]


def phash_distance(a: str, b: str) -> int:
    """How many of the 64 bits differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicate(a: str, b: str) -> bool:
    return bool(a and b) and phash_distance(a, b) <= NEAR_DUPLICATE_BITS


@cache
def _dct_matrix() -> np.ndarray:
    n = HASH_SIDE
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    matrix = np.sqrt(2 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix
