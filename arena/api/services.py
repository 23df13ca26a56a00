"""Writes of the images API and the playground: keys, calls through the gateway, images."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import uuid
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

import gateway
from arena.api.models import ApiKey
from arena.catalog.services import calls_record

KEY_PREFIX = "ia"
PREFIX = re.compile(r"[0-9a-f]{1,16}")  # a key's own prefix, as api_key_create makes it
LAST_USED_RESOLUTION = timedelta(minutes=1)
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def _hash(secret: str) -> str:
    # The secrets are 32 random bytes, so a plain hash is as strong as a slow one would be.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, user_id: int | None = None) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never stored."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, secret_hash=_hash(secret), user_id=user_id
    )
    return key, f"{KEY_PREFIX}-{prefix}-{secret}"


def api_key_check(*, presented: str) -> ApiKey | None:
    """The active key this text is, or None; marks it used."""
    parts = presented.split("-", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not PREFIX.fullmatch(parts[1]):
        return None  # not a key: not looked up (a NUL in it would fail the query)
    key = ApiKey.objects.filter(prefix=parts[1], active=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        # A write per request would be a hot-path write for a date shown to the minute.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def images_make(*, request: gateway.ImageRequest, edit: bool, source: str) -> gateway.ImageResult:
    """Run the request through the gateway and store every provider attempt, failed or not.

    Raises gateway.GatewayError (after storing its attempts) when no provider succeeded.
    """
    try:
        result = gateway.edit(request) if edit else gateway.generate(request)
    except gateway.GatewayError as exc:
        calls_record(attempts=exc.attempts, source=source)
        raise
    calls_record(attempts=result.attempts, source=source)
    return result


def images_save(*, images: list[bytes], folder: str) -> list[str]:
    """Store images as the providers made them, under random names (nothing in a URL says
    which model made them), with the extension of their real format."""
    return [
        default_storage.save(
            f"{folder}/{uuid.uuid4().hex}.{_extension(image)}", ContentFile(image)
        )
        for image in images
    ]


def _extension(image: bytes) -> str:
    with Image.open(io.BytesIO(image)) as opened:  # reads the header only
        return EXTENSIONS.get(opened.format or "", "png")


IMAGE_FOLDERS = ("api", "playground")


def api_images_prune(*, older_than: timedelta) -> int:
    """Delete the API's and the playground's images older than that; returns how many.

    Like OpenAI's image URLs, ours are for fetching the result, not for hosting it.
    """
    cutoff = timezone.now() - older_than
    deleted = 0
    for folder in IMAGE_FOLDERS:
        if not default_storage.exists(folder):
            continue
        for name in default_storage.listdir(folder)[1]:
            path = f"{folder}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
    return deleted
