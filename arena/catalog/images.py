"""The arena's own renditions of a generated image: same size, same format, no metadata.

Whatever a provider returns (PNG or JPEG, any size, EXIF, ICC profiles, text chunks) is redrawn
onto a fresh canvas, so nothing in the bytes or dimensions of a battle image says who made it.

Nor in their length: PNG sizes follow a model's style (a blocky model's images weigh a few KB,
a textured one's several hundred), so a battle's two images are served padded to one length
with an ancillary chunk that decoders skip. Stored images are already padded to a multiple of
`pad_step` bytes, so most battles need no padding at serving time, and the length served says
at most which band of `pad_step` bytes the larger image falls in.
"""

from __future__ import annotations

import io
import struct
import zlib
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


def arena_renditions(
    data: bytes, *, size: int, thumbnail_size: int, pad_step: int = 0
) -> Renditions:
    image = ImageOps.pad(flatten(decode(data)), (size, size), Image.Resampling.LANCZOS, PAD_COLOR)
    thumbnail = image.resize((thumbnail_size, thumbnail_size), Image.Resampling.LANCZOS)
    png = encode(image, "PNG")
    if pad_step > 0:
        png = png_padded(png, padded_length(len(png), step=pad_step))
    return Renditions(image=png, thumbnail=encode(thumbnail, "WEBP"))


def encode(image: Image.Image, fmt: str) -> bytes:
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    if fmt == "WEBP":
        clean.save(buffer, format="WEBP", quality=82, method=2)  # 2.5x method 4's speed, same size
    else:
        # Level 1 deflates a 1024x1024 picture in a quarter of level 6's time for about a
        # fifth more bytes, and the bytes are padded to a band anyway.
        clean.save(buffer, format=fmt, compress_level=1)
    return buffer.getvalue()


# --- Equal lengths ------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Ancillary (lower-case first letter, so decoders skip it), private, safe to copy.
PAD_CHUNK = b"prVt"
CHUNK_OVERHEAD = 12  # length, type and CRC around the chunk's data


def padded_length(*lengths: int, step: int = 1) -> int:
    """The length every one of these PNGs can be padded to: at least the longest, a multiple
    of `step`, and never less than a whole chunk longer than any shorter one."""
    longest = max(lengths)
    target = -(-longest // step) * step
    while any(0 < target - length < CHUNK_OVERHEAD for length in lengths):
        target += step if step >= CHUNK_OVERHEAD else CHUNK_OVERHEAD
    return target


def png_padded(png: bytes, length: int) -> bytes:
    """The same picture, `length` bytes long: a padding chunk goes just before IEND."""
    missing = length - len(png)
    if missing == 0:
        return png
    if missing < CHUNK_OVERHEAD or not png.startswith(PNG_SIGNATURE) or not png.endswith(IEND):
        raise ValueError(f"cannot pad a {len(png)}-byte PNG to {length} bytes")
    data = bytes(missing - CHUNK_OVERHEAD)
    chunk = struct.pack(">I", len(data)) + PAD_CHUNK + data
    chunk += struct.pack(">I", zlib.crc32(PAD_CHUNK + data))
    return png[: -len(IEND)] + chunk + IEND
