"""Checking the source images curators upload for editing prompts.

An upload is kept only if it really is a still PNG, JPEG or WebP image of a sensible size, and
is what its name says it is. What is kept is a fresh PNG: the EXIF orientation applied, every
piece of metadata (EXIF, GPS, ICC, text chunks) left behind.
"""

from __future__ import annotations

import io
import warnings
from pathlib import PurePath

from PIL import Image, ImageOps

from arena.catalog.images import encode, flatten

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 64
FORMATS = {"PNG": {".png"}, "JPEG": {".jpg", ".jpeg"}, "WEBP": {".webp"}}
ALLOWED = "PNG, JPEG or WebP"


class UploadRejected(ValueError):
    """An upload that is not kept, with a sentence that says why."""


def source_image_clean(data: bytes, filename: str = "") -> bytes:
    """Return the upload as a clean PNG, or raise UploadRejected saying what is wrong with it."""
    return encode(flatten(_checked(data, filename)), "PNG")


def mask_image_clean(data: bytes, filename: str = "") -> bytes:
    """Like source_image_clean, but the transparency is kept: it marks where to edit."""
    image = _checked(data, filename).convert("RGBA")
    clean = Image.new("RGBA", image.size)  # a fresh image: no metadata comes along
    clean.paste(image)
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG")
    return buffer.getvalue()


def _checked(data: bytes, filename: str) -> Image.Image:
    """The upload, fully loaded and upright, or UploadRejected."""
    if len(data) > MAX_BYTES:
        raise UploadRejected(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 2**20} MB."
        )
    if not data:
        raise UploadRejected("The file is empty.")
    if _looks_like_svg(data):
        raise UploadRejected(f"SVG files are not accepted; upload a {ALLOWED} image.")
    image = _open(data)
    suffix = PurePath(filename).suffix.lower()
    if suffix and suffix not in FORMATS[image.format or ""]:
        raise UploadRejected(
            f"The file is named '{PurePath(filename).name}' but is really a {image.format} image;"
            " rename it or export it again."
        )
    if getattr(image, "is_animated", False):
        raise UploadRejected("Animated images are not accepted; upload a single still frame.")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise UploadRejected(
            f"The image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {MAX_PIXELS // 1_000_000} megapixels."
        )
    if min(width, height) < MIN_SIDE:
        raise UploadRejected(f"The image is {width}x{height}; each side needs {MIN_SIDE}+ pixels.")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise UploadRejected(f"The image is damaged or cut short ({exc}).") from None
    return ImageOps.exif_transpose(image)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<svg", b"<?xml")) or b"<svg" in head


def _open(data: bytes) -> Image.Image:
    """Read the header only (no pixels yet), refusing what is not an allowed image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(
            f"The image is too large to open safely; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels."
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise UploadRejected(f"This file is not a {ALLOWED} image.") from None
    return image
