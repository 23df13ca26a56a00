"""Imports that cannot be read in full: every unreadable part is a reported problem with its
line, and a bundle is imported all or nothing; never a 500 and never half an import."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from arena.catalog import importing, services
from arena.catalog.models import Prompt
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

CUBE = png_bytes(size=(96, 96))


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("c", "c@x.org", "pw"))
    return client


def bundle(manifest: str, files: dict[str, bytes], *, tamper=None) -> bytes:
    """A zip with this manifest and these files; `tamper(archive)` may change the directory
    (flags, methods) before it is written."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.jsonl", manifest)
        for name, data in files.items():
            archive.writestr(name, data)
        if tamper:
            tamper(archive)
    return buffer.getvalue()


def line(instruction: str, image: str = "cube.png") -> str:
    return json.dumps({"image": image, "instruction": instruction})


def import_zip(staff: Client, data: bytes) -> str:
    response = staff.post(
        "/admin/catalog/prompt/import/",
        {"arena": "edit", "file": SimpleUploadedFile("p.zip", data), "generate": ""},
    )
    assert response.status_code == 200
    return response.content.decode()


def encrypted(name):
    def tamper(archive):
        archive.getinfo(name).flag_bits |= 0x1  # "encrypted": needs a password

    return tamper


def compressed_with(method, name):
    def tamper(archive):
        archive.getinfo(name).compress_type = method

    return tamper


def test_a_manifest_over_20_mb_refuses_the_bundle_and_stores_nothing(staff):
    manifest = (line("Make it red") + "\n") * (21 * 2**20 // len(line("Make it red")))

    page = import_zip(staff, bundle(manifest, {"cube.png": CUBE}))

    assert "manifest.jsonl cannot be read: it is larger than 20 MB" in page
    assert not Prompt.objects.exists()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (encrypted("manifest.jsonl"), "it is encrypted"),
        (compressed_with(99, "manifest.jsonl"), "it is compressed with a method"),
    ],
)
def test_an_unreadable_manifest_refuses_the_bundle(staff, tamper, reason):
    page = import_zip(staff, bundle(line("Make it red") + "\n", {"cube.png": CUBE}, tamper=tamper))

    assert f"manifest.jsonl cannot be read: {reason}" in page
    assert not Prompt.objects.exists()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (encrypted("bad.png"), "it is encrypted"),
        (compressed_with(99, "bad.png"), "it is compressed with a method"),
        (
            compressed_with(zipfile.ZIP_LZMA, "bad.png"),
            "it is damaged",
        ),  # deflate data read as LZMA
    ],
)
def test_an_unreadable_image_is_a_problem_of_its_line_and_the_rest_is_imported(
    staff, tamper, reason
):
    manifest = "\n".join([line("Make it red"), line("Add a moon", "bad.png")]) + "\n"

    page = import_zip(staff, bundle(manifest, {"cube.png": CUBE, "bad.png": CUBE}, tamper=tamper))

    assert f"Line 2: the image &#x27;bad.png&#x27; cannot be read: {reason}" in page
    assert list(Prompt.objects.values_list("text", flat=True)) == ["Make it red"]


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [
        ('"Make it \\ud800 red"', "lone surrogate"),
        ('"Make it\\u0000red"', "NUL character"),
        (json.dumps("Make it red " * 400), "longer than 4000 characters"),
    ],
)
def test_instructions_that_cannot_be_stored_or_run_are_refused_with_their_line(
    staff, instruction, reason
):
    manifest = line("Make it blue") + '\n{"image": "cube.png", "instruction": ' + instruction + "}"

    page = import_zip(staff, bundle(manifest, {"cube.png": CUBE}))

    assert "Line 2: the instruction" in page
    assert reason in page
    assert list(Prompt.objects.values_list("text", flat=True)) == ["Make it blue"]


@pytest.mark.parametrize(
    "tags", ['["\\ud800"]', '["a\\u0000b"]', '"sky, \\udfff"', '[["nested"]]', "7"]
)
def test_tags_that_cannot_be_stored_are_refused_with_their_line(staff, tags):
    manifest = '{"image": "cube.png", "instruction": "Make it red", "tags": ' + tags + "}\n"

    page = import_zip(staff, bundle(manifest, {"cube.png": CUBE}))

    assert "Line 1: tags must be" in page
    assert not Prompt.objects.exists()


def test_a_zip_whose_names_are_not_utf8_is_refused_as_damaged(staff):
    data = bundle(line("Make it red", "é.png"), {"é.png": CUBE})

    page = import_zip(staff, data.replace("é".encode(), b"\xff\xfe"))

    assert "not a zip archive, or it is damaged" in page
    assert not Prompt.objects.exists()


def test_a_zip_that_needs_a_newer_reader_is_refused_as_damaged(staff):
    data = bytearray(bundle(line("Make it red"), {"cube.png": CUBE}))
    directory = data.index(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = b"\xff\xff"  # version needed to extract: 6553.5

    page = import_zip(staff, bytes(data))

    assert "not a zip archive, or it is damaged" in page
    assert not Prompt.objects.exists()


def test_a_bundle_is_imported_all_or_nothing(monkeypatch):
    parsed = importing.parse_edit_zip(
        bundle(
            "\n".join([line("Make it red"), line("Add a moon"), line("Remove the cube")]),
            {"cube.png": CUBE},
        )
    )
    create = services.edit_prompt_create
    made = []

    def failing_on_the_third(**kwargs):
        if len(made) == 2:
            raise RuntimeError("the disk is full")
        made.append(create(**kwargs)[0])
        return made[-1], True

    monkeypatch.setattr(services, "edit_prompt_create", failing_on_the_third)

    with pytest.raises(RuntimeError):
        services.edit_prompts_import(rows=parsed.rows)

    assert not Prompt.objects.exists()
    assert len(made) == 2
    assert not default_storage.listdir("sources")[1]  # their images went with them


GOOD_FIRST_LINE = {
    ".jsonl": b'{"text": "A good one"}\n',
    ".csv": b"text,tags\nA good one,\n",
    ".txt": b"A good one\n",
}


@pytest.mark.parametrize(
    ("suffix", "bad_line", "reason"),
    [
        (".jsonl", b'{"text": "a \\ud800 cat"}', "lone surrogate"),
        (".jsonl", b'{"text": "a \\u0000 cat"}', "NUL character"),
        (".jsonl", b'{"text": "a cat", "tags": ["\\ud800"]}', "tags must be"),
        (".jsonl", b'{"text": "' + b"a cat " * 700 + b'"}', "longer than 4000"),
        (".jsonl", b'{"text": "a cat", "n": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (".jsonl", b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (".csv", b"a \x00 cat,\n", "NUL character"),
        (".csv", b'"' + b"x" * 200_000 + b'",\n', "cannot be read"),
        (".txt", b"a \x00 cat\n", "NUL character"),
        (".txt", b"a cat " * 700 + b"\n", "longer than 4000"),
    ],
)
def test_text_prompts_that_cannot_be_stored_are_refused_with_their_line(
    staff, suffix, bad_line, reason
):
    data = GOOD_FIRST_LINE[suffix] + bad_line

    response = staff.post(
        "/admin/catalog/prompt/import/",
        {"arena": "t2i", "file": SimpleUploadedFile(f"p{suffix}", data), "generate": ""},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Line {3 if suffix == '.csv' else 2}: " in page
    assert reason in page
    assert list(Prompt.objects.values_list("text", flat=True)) == ["A good one"]


def test_the_import_command_reports_an_unreadable_bundle(tmp_path):
    path = tmp_path / "p.zip"
    path.write_bytes(
        bundle(line("Make it red"), {"cube.png": CUBE}, tamper=encrypted("manifest.jsonl"))
    )

    with pytest.raises(CommandError, match="it is encrypted"):
        call_command("import_prompts", str(path))
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import_prompts", str(tmp_path), arena="t2i")
