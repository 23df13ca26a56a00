"""The Image Editing arena: source-image battles, its own ratings, editing-capable models only."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from arena.battles.models import EloRating
from arena.catalog import importing
from arena.catalog.models import AIModel, Arena, Generation, Prompt
from arena.catalog.services import catalog_sync, edit_prompt_create, prompt_generate
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


def picture(color=(40, 90, 200), size=(256, 192)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (235, 230, 220))
    image.paste(color, (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def edit_prompt() -> Prompt:
    prompt, _ = edit_prompt_create(instruction="Make the blue square red", source=picture())
    for slug in ("painter", "retoucher", "smudger"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug, can_edit=True))
    return prompt


def test_edit_battle_shows_the_source_image_and_the_instruction(edit_prompt):
    client = Client()
    battle = open_battle(client, "edit")
    page = client.get(battle.get_absolute_url()).content.decode()

    assert "Make the blue square red" in page
    assert f'src="/battle/{battle.token}/source.png"' in page
    source = client.get(f"/battle/{battle.token}/source.png")
    assert source.status_code == 200
    image = Image.open(io.BytesIO(b"".join(source.streaming_content)))
    assert image.size == (256, 192)


def test_an_editing_vote_moves_only_editing_ratings(edit_prompt):
    t2i = PromptFactory()
    for slug in ("painter", "retoucher"):
        GenerationFactory(prompt=t2i, model=AIModel.objects.get(slug=slug))
    client = Client()
    battle = open_battle(client, "edit")

    client.post(battle.get_absolute_url(), {"choice": "left"})

    assert EloRating.objects.filter(arena="edit", votes=1).count() == 2
    assert not EloRating.objects.filter(arena="t2i", votes__gt=0).exists()
    assert battle.vote.arena == "edit"


def test_a_model_that_cannot_edit_is_never_paired_in_the_editing_arena(edit_prompt):
    AIModel.objects.filter(slug="smudger").update(can_edit=False)

    for _ in range(25):
        battle = open_battle(Client(), "edit")
        assert "smudger" not in {battle.left.model.slug, battle.right.model.slug}


def test_text_to_image_battles_never_show_editing_prompts(edit_prompt):
    response = Client().get("/battle/t2i/")

    assert "No Text-to-Image battles yet" in response.content.decode()


def manifest_zip(entries: list[dict], files: dict[str, bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        lines = [e if isinstance(e, str) else json.dumps(e) for e in entries]
        archive.writestr(f"{folder}manifest.jsonl", "\n".join(lines) + "\n")
        for name, data in files.items():
            archive.writestr(f"{folder}{name}", data)
    return buffer.getvalue()


BUNDLE_ENTRIES = [
    {"image": "cube.png", "instruction": "Make the cube red", "tags": ["color"]},
    {"image": "cube.png", "instruction": "Add a moon"},
    {"image": "missing.png", "instruction": "Remove the book"},
    '{"image": "cube.png", "instruction": ',
    {"image": "logo.svg", "instruction": "Make it blue"},
    {"image": "cube.png", "instruction": "   "},
]
BUNDLE_FILES = {"cube.png": picture(), "logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>'}


def test_admin_imports_editing_prompts_from_a_zip_and_reports_bad_lines():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("c", "c@x.org", "pw"))
    bundle = manifest_zip(BUNDLE_ENTRIES, BUNDLE_FILES, folder="my-prompts/")

    response = client.post(
        "/admin/catalog/prompt/import/",
        {"arena": "edit", "file": SimpleUploadedFile("prompts.zip", bundle), "generate": ""},
    )

    page = response.content.decode()
    assert "Imported <strong>2</strong> prompts" in page
    assert "Line 3: the image &#x27;missing.png&#x27; is not in the bundle" in page
    assert "Line 4: not valid JSON" in page
    assert "Line 5: logo.svg: SVG files are not accepted" in page
    assert "Line 6: the instruction is empty" in page
    assert set(Prompt.objects.values_list("text", "arena")) == {
        ("Make the cube red", "edit"),
        ("Add a moon", "edit"),
    }
    assert Prompt.objects.values("source_sha256").distinct().count() == 1


def test_admin_refuses_an_editing_import_that_is_not_a_zip():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("c", "c@x.org", "pw"))

    for upload in (SimpleUploadedFile("p.jsonl", b"{}"), SimpleUploadedFile("p.zip", b"nope")):
        response = client.post("/admin/catalog/prompt/import/", {"arena": "edit", "file": upload})
        page = response.content.decode()
        assert "come as a .zip" in page or "not a zip archive" in page
    assert not Prompt.objects.exists()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    monkeypatch.setattr(importing, "MAX_BUNDLE_BYTES", 3 * 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.jsonl", '{"image": "a.png", "instruction": "x"}\n')
        for i in range(4):
            archive.writestr(f"pad{i}.bin", b"\0" * (1024 * 1024))

    assert len(buffer.getvalue()) < 50_000  # small on the wire, large unpacked
    with pytest.raises(importing.BundleRejected, match="unpacks to more than"):
        importing.parse_edit_zip(buffer.getvalue())


def test_import_command_reads_a_folder_of_editing_prompts(tmp_path, capsys):
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "manifest.jsonl").write_text(
        "\n".join(json.dumps(entry) for entry in BUNDLE_ENTRIES[:3]) + "\n"
    )
    (folder / "cube.png").write_bytes(picture())

    call_command("import_prompts", str(folder))

    out, err = capsys.readouterr()
    assert "Imported 2 Image Editing prompts" in out
    assert "line 3: the image 'missing.png' is not in the bundle" in err
    assert Prompt.objects.filter(arena=Arena.EDIT).count() == 2


def test_edit_generation_applies_the_instruction_to_the_source(
    settings, django_capture_on_commit_callbacks
):
    settings.ARENA_IMAGE_SIZE = 256
    catalog_sync()
    prompt, _ = edit_prompt_create(
        instruction="Convert to black and white", source=picture((200, 30, 30))
    )

    with django_capture_on_commit_callbacks(execute=True):
        prompt_generate(prompt_ids=[prompt.pk])

    best = Generation.objects.get(prompt=prompt, model__slug="lumen-xl")
    assert best.status == Generation.Status.READY
    with best.image.open() as handle:
        image = Image.open(handle).convert("RGB")
    red, green, blue = image.getpixel((128, 100))
    assert abs(red - green) < 8
    assert abs(green - blue) < 8
