"""Source images for editing prompts: every kind of bad upload is refused and nothing is kept."""

import io
import random
import re
import struct
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from arena.catalog.models import Prompt
from arena.catalog.uploads import UploadRejected, source_image_clean


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noisy(size=(800, 600)) -> Image.Image:
    """A picture that does not compress, so cutting its file short really truncates it."""
    return Image.frombytes("RGB", size, random.Random(3).randbytes(size[0] * size[1] * 3))


def photo(size=(320, 200)) -> Image.Image:
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((240, 200, 20), (0, 0, size[0] // 2, size[1] // 3))
    return image


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be width x height: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (128, 128), color) for color in ((255, 0, 0), (0, 0, 255))]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


BAD_UPLOADS = {
    "oversize": (
        "big.png",
        encoded(photo(), "PNG") + b"\0" * (20 * 1024 * 1024),
        "limit is 20 MB",
    ),
    "empty": ("empty.png", b"", "empty"),
    "not an image": ("notes.png", b"hello, this is text\n" * 20, "not a PNG, JPEG or WebP image"),
    "truncated": ("cut.png", encoded(noisy(), "PNG")[:50_000], "damaged or cut short"),
    "bomb": ("bomb.png", png_header_only(50_000, 50_000), "too large to open safely"),
    "over 40 megapixels": ("huge.png", png_header_only(8_000, 6_000), "limit is 40 megapixels"),
    "svg": (
        "logo.svg",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "SVG files are not accepted",
    ),
    "svg named png": ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    "gif": ("anim.gif", animated("GIF"), "not a PNG, JPEG or WebP image"),
    "animated webp": ("anim.webp", animated("WEBP"), "Animated images are not accepted"),
    "animated png": ("anim.png", animated("PNG"), "Animated images are not accepted"),
    "lies about its type": ("photo.jpg", encoded(photo(), "PNG"), "really a PNG image"),
    "too small": ("dot.png", encoded(Image.new("RGB", (16, 16)), "PNG"), "64+ pixels"),
}


@pytest.mark.parametrize("kind", BAD_UPLOADS)
def test_bad_uploads_are_refused_with_a_reason(kind):
    name, data, reason = BAD_UPLOADS[kind]

    with pytest.raises(UploadRejected, match=re.escape(reason)):
        source_image_clean(data, name)


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "a.png"), ("JPEG", "a.jpeg"), ("WEBP", "a.webp")]
)
def test_allowed_formats_are_kept_as_clean_png(fmt, name):
    clean = source_image_clean(encoded(photo(), fmt), name)

    image = Image.open(io.BytesIO(clean))
    assert image.format == "PNG"
    assert image.size == (320, 200)


def test_exif_orientation_is_applied_and_metadata_removed():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    exif[0x010F] = "SecretCam"  # Make
    exif[0x013B] = "Jane Photographer"  # Artist
    data = encoded(photo((300, 100)), "JPEG", exif=exif, quality=90)

    clean = source_image_clean(data, "phone.jpg")

    image = Image.open(io.BytesIO(clean))
    assert image.size == (100, 300)
    assert set(image.info) <= {"dpi"}
    assert b"SecretCam" not in clean
    assert b"Jane" not in clean
    assert not image.getexif()


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("curator", "c@x.org", "pw"))
    return client


@pytest.mark.parametrize("kind", ["truncated", "svg", "lies about its type", "animated webp"])
def test_admin_refuses_a_bad_source_image_and_stores_nothing(staff, media_root, kind):
    name, data, reason = BAD_UPLOADS[kind]

    response = staff.post(
        "/admin/catalog/prompt/add/",
        {
            "arena": "edit",
            "text": "Make the sky purple",
            "tags": "[]",
            "active": "on",
            "source_upload": SimpleUploadedFile(name, data),
        },
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Prompt.objects.exists()
    assert not (media_root / "sources").exists() or not any((media_root / "sources").iterdir())


def test_admin_stores_a_good_source_image_as_clean_png(staff):
    response = staff.post(
        "/admin/catalog/prompt/add/",
        {
            "arena": "edit",
            "text": "Make the sky purple",
            "tags": '["color"]',
            "active": "on",
            "source_upload": SimpleUploadedFile("sky.webp", encoded(photo(), "WEBP")),
        },
    )

    assert response.status_code == 302
    prompt = Prompt.objects.get()
    assert prompt.source_image.name.endswith(".png")
    assert len(prompt.source_sha256) == 64
    with prompt.source_image.open() as handle:
        assert Image.open(handle).format == "PNG"


def test_admin_requires_a_source_image_for_editing_prompts(staff):
    response = staff.post(
        "/admin/catalog/prompt/add/",
        {"arena": "edit", "text": "Add a moon", "tags": "[]", "active": "on"},
    )

    assert "needs a source image" in response.content.decode()
    assert not Prompt.objects.exists()


def test_admin_refuses_a_duplicate_prompt(staff):
    data = {"arena": "t2i", "text": "A red fox", "tags": "[]", "active": "on"}
    staff.post("/admin/catalog/prompt/add/", data)

    response = staff.post("/admin/catalog/prompt/add/", data)

    assert "already in the arena" in response.content.decode()
    assert Prompt.objects.count() == 1
