"""The arena's own renditions of a generated image: same size, same format, no metadata.

Whatever a provider returns (PNG or JPEG, any size, EXIF, ICC profiles, text chunks) is redrawn
onto a fresh canvas, so nothing in the bytes or dimensions of a battle image says who made it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

# Generated images are trusted less than Pillow's default: refuse anything this large.
MAX_PIXELS = 40_000_000
PAD_COLOR = (17, 17, 20)


class UnreadableImage(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Renditions:
    image: bytes  # PNG, size x size
    thumbnail: bytes  # WebP, thumbnail_size x thumbnail_size


def decode(data: bytes) -> Image.Image:
    """Open image bytes fully, or raise UnreadableImage saying why."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise UnreadableImage(f"image is {width}x{height}, larger than allowed")
            probe.load()
            return ImageOps.exif_transpose(probe).copy()
    except UnreadableImage:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise UnreadableImage(f"not a readable image ({exc})") from None


def flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background (transparent areas would otherwise turn black)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def arena_renditions(data: bytes, *, size: int, thumbnail_size: int) -> Renditions:
    image = ImageOps.pad(flatten(decode(data)), (size, size), Image.Resampling.LANCZOS, PAD_COLOR)
    thumbnail = image.resize((thumbnail_size, thumbnail_size), Image.Resampling.LANCZOS)
    return Renditions(image=encode(image, "PNG"), thumbnail=encode(thumbnail, "WEBP"))


def encode(image: Image.Image, fmt: str) -> bytes:
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    if fmt == "WEBP":
        clean.save(buffer, format="WEBP", quality=82, method=4)
    else:
        clean.save(buffer, format=fmt)
    return buffer.getvalue()
