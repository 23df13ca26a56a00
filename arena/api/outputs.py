"""What the images API answers with: the images in the format the caller asked for, their
signed and expiring URLs, and the fields gpt-image echoes (output_format, size, background,
quality) with the tokens the providers reported as `usage`.

The API layer owns the encoding: `output_format`, `output_compression` and `background:
opaque` are applied here with Pillow to whatever bytes the provider made, so every model
answers them the same way and the stored file is what its URL declares. They are not sent to
providers (gpt-image could encode them itself, but then one provider's bytes would be
compressed twice and the others' not at all). Only `background: transparent` reaches the
providers, at the top level, since no conversion can draw a background away: OpenAI takes it
(gateway/providers/openai.py EXTRA_PARAMS), the others say in a warning that they do not, and
the echoed `background` tells what the image really is.

An image URL is `/openai/v1/files/images/<name>?expires=<unix time>&signature=<hmac>`: HMAC-
SHA256 keyed from SECRET_KEY over the name and the expiry, like S3's or Azure's presigned
URLs, which OpenAI's own are. It answers for ARENA_API_URL_MINUTES after the image was made;
then the file is deleted (by beat, or by the requests themselves where there is no beat).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from PIL import Image

FOLDER = "api"  # the only folder the signed URLs serve
OUTPUT_FORMATS = ("png", "jpeg", "webp")
BACKGROUNDS = ("transparent", "opaque", "auto")
PILLOW_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
MIME_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
# OpenAI's default: 100, no compression.
FULL_QUALITY = 100
SIGNING_SALT = "arena.api.outputs.image_url"
# A file is deleted this long after its URL expired: it was saved a moment before the job
# finished, from which the expiry counts.
PRUNE_GRACE = timedelta(minutes=1)


class OutputRefused(Exception):
    """An output parameter OpenAI would refuse; params.py words it as its ApiError."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class OutputSpec:
    """How the caller wants the images encoded; None: as the provider made them."""

    output_format: str | None = None
    output_compression: int | None = None
    background: str | None = None


def output_spec(data: Mapping[str, Any]) -> OutputSpec:
    """Check `output_format`, `output_compression` and `background` as OpenAI does."""
    output_format = _choice(data, "output_format", OUTPUT_FORMATS)
    background = _choice(data, "background", BACKGROUNDS)
    compression = data.get("output_compression")
    if isinstance(compression, str) and compression.isascii() and compression.isdigit():
        compression = int(compression)  # a multipart field
    if compression is not None and (
        isinstance(compression, bool)
        or not isinstance(compression, int)
        or not 0 <= compression <= FULL_QUALITY
    ):
        raise OutputRefused(
            "output_compression", "output_compression must be a whole number from 0 to 100."
        )
    if background == "transparent" and output_format == "jpeg":
        raise OutputRefused(
            "background",
            "Transparent backgrounds are not supported for the jpeg output format: ask for "
            "png or webp.",
        )
    if compression is not None and compression < FULL_QUALITY and output_format in (None, "png"):
        raise OutputRefused(
            "output_compression",
            "Compression less than 100 is not supported for PNG output format: ask for jpeg "
            "or webp.",
        )
    return OutputSpec(output_format, compression, background)


def _choice(data: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if value not in choices:
        raise OutputRefused(name, f"{name} must be one of {', '.join(choices)}.")
    return str(value)


def images_convert(images: list[bytes], spec: OutputSpec) -> list[bytes]:
    """The images encoded as asked; those already so (the provider did it) as they are."""
    return [_convert(image, spec) for image in images]


def _convert(image: bytes, spec: OutputSpec) -> bytes:
    with Image.open(io.BytesIO(image)) as opened:
        made = PILLOW_FORMATS.get(opened.format or "")
        target = spec.output_format or made or "png"
        alpha = _has_alpha(opened)
        flatten = alpha and (spec.background == "opaque" or target == "jpeg")
        if target == made and spec.output_compression is None and not flatten:
            return image
        picture = opened.convert("RGBA" if alpha else "RGB")
    if flatten:
        # White, as gpt-image draws an opaque background.
        backdrop = Image.new("RGB", picture.size, "white")
        backdrop.paste(picture, mask=picture.getchannel("A"))
        picture = backdrop
    buffer = io.BytesIO()
    if target == "png":
        picture.save(buffer, format="PNG")
    else:
        quality = FULL_QUALITY if spec.output_compression is None else spec.output_compression
        picture.save(buffer, format=target.upper(), quality=quality)
    return buffer.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def images_describe(images: list[bytes]) -> dict[str, str]:
    """What gpt-image echoes of the images it made, read from the (first) image served: its
    format, its size, and whether any of it is see-through."""
    if not images:
        return {}
    with Image.open(io.BytesIO(images[0])) as opened:
        width, height = opened.size
        transparent = (
            _has_alpha(opened) and opened.convert("RGBA").getchannel("A").getextrema()[0] < 255
        )
        return {
            "output_format": PILLOW_FORMATS.get(opened.format or "", "png"),
            "size": f"{width}x{height}",
            "background": "transparent" if transparent else "opaque",
        }


def response_fields(
    *, served: Mapping[str, str], quality: str, tokens: Mapping[str, int] | None
) -> dict[str, Any]:
    """The fields of a response besides `created` and `data`, as gpt-image answers them:
    what the images are (`served`, from images_describe), the quality asked for, and the
    tokens, where a provider reported any (models priced per image report none, and their
    answers have no `usage`)."""
    fields: dict[str, Any] = dict(served)
    if quality:
        fields["quality"] = quality
    if tokens:
        fields["usage"] = usage_body(tokens)
    return fields


def usage_body(tokens: Mapping[str, int]) -> dict[str, Any]:
    """The gateway's tokens by kind as OpenAI's `usage` (openai-python
    src/openai/types/images_response.py `Usage`)."""
    input_text, input_image = tokens.get("input_text", 0), tokens.get("input_image", 0)
    output_text, output_image = tokens.get("output_text", 0), tokens.get("output_image", 0)
    return {
        "input_tokens": input_text + input_image,
        "input_tokens_details": {"text_tokens": input_text, "image_tokens": input_image},
        "output_tokens": output_text + output_image,
        "output_tokens_details": {"text_tokens": output_text, "image_tokens": output_image},
        "total_tokens": input_text + input_image + output_text + output_image,
    }


# --- Signed URLs ----------------------------------------------------------------------------


def url_lifetime() -> timedelta:
    return timedelta(minutes=settings.ARENA_API_URL_MINUTES)


def image_url(name: str, *, made_at: datetime) -> str:
    """The signed path of a stored API image (`api/<name>`), good until its lifetime after
    `made_at` has passed."""
    file_name = name.removeprefix(f"{FOLDER}/")
    expires = int((made_at + url_lifetime()).timestamp())
    query = urlencode({"expires": expires, "signature": image_signature(file_name, expires)})
    return f"{reverse('api:image_file', args=[file_name])}?{query}"


def image_signature(file_name: str, expires: int) -> str:
    return salted_hmac(SIGNING_SALT, f"{file_name}:{expires}", algorithm="sha256").hexdigest()


def signature_valid(file_name: str, expires: int, signature: str) -> bool:
    return constant_time_compare(image_signature(file_name, expires), signature)


# --- Pruning without a beat -----------------------------------------------------------------

_prune_lock = threading.Lock()
_next_prune = 0.0  # time.monotonic() of this process's next prune on a request


def prune_due() -> bool:
    """Whether this request should prune expired images: where no beat does it, at most once
    every ARENA_PRUNE_EVERY_SECONDS in a process, by one thread."""
    global _next_prune
    if not settings.ARENA_PRUNE_ON_REQUEST or not _prune_lock.acquire(blocking=False):
        return False
    try:
        now = time.monotonic()
        if now < _next_prune:
            return False
        _next_prune = now + settings.ARENA_PRUNE_EVERY_SECONDS
        return True
    finally:
        _prune_lock.release()
