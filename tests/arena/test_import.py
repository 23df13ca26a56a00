"""Bulk import of prompts: pasted lines, CSV and JSON Lines, bad lines reported and skipped."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from arena.catalog import importing
from arena.catalog.models import Generation, Prompt
from arena.catalog.services import catalog_sync, prompts_import
from tests.factories import PromptFactory

CSV = (
    b"text,tags\n"
    b'"A red fox in the snow",animals;winter\n'
    b'"Two boats on a calm lake at sunset",water|sunset\n'
    b",empty\n"
    b'"Three yellow apples",food,extra-column\n'
    b'"A lighthouse at night",\n'
)

JSONL = (
    b'{"text": "A castle on a hill", "tags": ["architecture"]}\n'
    b'{"text": "A robot holding an umbrella"\n'
    b"\n"
    b'["not", "an", "object"]\n'
    b'{"text": "A cat on a windowsill", "tags": "animals, indoor"}\n'
    b'{"tags": ["no text"]}\n'
    b'{"text": "A kite", "tags": [1, 2]}\n'
)


def test_csv_rows_are_read_with_tags_and_bad_rows_are_reported():
    parsed = importing.parse_upload("prompts.csv", CSV)

    assert [(row.text, row.tags) for row in parsed.rows] == [
        ("A red fox in the snow", ("animals", "winter")),
        ("Two boats on a calm lake at sunset", ("water", "sunset")),
        ("A lighthouse at night", ()),
    ]
    assert parsed.problems == [
        (4, "the prompt text is empty"),
        (5, "this row has more columns than the header"),
    ]


def test_jsonl_lines_are_read_and_every_malformed_line_is_named():
    parsed = importing.parse_upload("prompts.jsonl", JSONL)

    assert [(row.line, row.text, row.tags) for row in parsed.rows] == [
        (1, "A castle on a hill", ("architecture",)),
        (5, "A cat on a windowsill", ("animals", "indoor")),
    ]
    lines = dict(parsed.problems)
    assert set(lines) == {2, 4, 6, 7}
    assert "not valid JSON" in lines[2]
    assert "must be an object" in lines[4]
    assert "empty" in lines[6]
    assert "tags" in lines[7]


def test_a_csv_without_a_text_column_is_refused_as_a_whole():
    parsed = importing.parse_upload("p.csv", b"prompt,tags\nA fox,animals\n")

    assert parsed.rows == []
    assert "'text' column" in parsed.problems[0][1]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("p.xlsx", b"PK\x03\x04", "not supported"),
        ("p.csv", b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_unsupported_or_binary_files_are_refused(name, data, message):
    parsed = importing.parse_upload(name, data)

    assert parsed.rows == []
    assert message in parsed.problems[0][1]


@pytest.mark.django_db
def test_importing_the_same_prompts_twice_creates_them_once():
    rows = importing.parse_lines("A red fox\n  A   red fox  \nA blue whale\n").rows

    first = prompts_import(arena="t2i", rows=rows)
    second = prompts_import(arena="t2i", rows=rows)

    assert len(first.created) == 2
    assert len(first.duplicates) == 1
    assert second.created == []
    assert Prompt.objects.count() == 2


@pytest.fixture
def staff_client(db) -> Client:
    user = get_user_model().objects.create_superuser("curator", "c@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_admin_import_of_a_csv_reports_the_bad_lines_and_imports_the_rest(staff_client):
    response = staff_client.post(
        "/admin/catalog/prompt/import/",
        {"arena": "t2i", "file": SimpleUploadedFile("prompts.csv", CSV), "generate": ""},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Imported <strong>3</strong> prompts" in page
    assert "Line 4: the prompt text is empty" in page
    assert "Line 5: this row has more columns than the header" in page
    assert set(Prompt.objects.values_list("text", flat=True)) == {
        "A red fox in the snow",
        "Two boats on a calm lake at sunset",
        "A lighthouse at night",
    }


def test_admin_import_of_jsonl_can_generate_the_new_prompts(
    staff_client, django_capture_on_commit_callbacks, settings
):
    settings.ARENA_IMAGE_SIZE = 128
    catalog_sync()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/catalog/prompt/import/",
            {"arena": "t2i", "file": SimpleUploadedFile("p.jsonl", JSONL), "generate": "on"},
            follow=True,
        )

    assert "Imported <strong>2</strong> prompts" in response.content.decode()
    assert Prompt.objects.count() == 2
    assert Generation.objects.ready().count() == 2 * 6


def test_admin_import_of_pasted_lines_links_to_just_the_new_prompts(staff_client):
    PromptFactory(text="An older prompt")
    response = staff_client.post(
        "/admin/catalog/prompt/import/",
        {"arena": "t2i", "text": "A red fox\n\nA blue whale\n"},
    )

    page = response.content.decode()
    assert "Imported <strong>2</strong> prompts" in page
    assert "A red fox" not in page  # a fresh form: pressing Import again sends nothing twice
    link = re.search(r'<a href="([^"]+)">See the imported prompts</a>', page)
    assert link
    listed = staff_client.get(html.unescape(link[1])).content.decode()
    assert "A red fox" in listed
    assert "A blue whale" in listed
    assert "An older prompt" not in listed


def test_admin_import_counts_in_words_that_agree(staff_client):
    PromptFactory(text="A red fox")
    response = staff_client.post(
        "/admin/catalog/prompt/import/", {"arena": "t2i", "text": "A red fox\nA blue whale\n"}
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Imported 1 prompt; 1 was already there; 0 lines had problems."]


def test_admin_import_needs_something_to_import(staff_client):
    response = staff_client.post("/admin/catalog/prompt/import/", {"arena": "t2i"})

    assert "Paste some prompts or choose a file." in response.content.decode()
    assert not Prompt.objects.exists()


@pytest.mark.parametrize(
    ("arena", "text", "upload", "reason"),
    [
        (
            "t2i",
            "A fox",
            ("p.csv", b"text\nA whale\n"),
            "Paste prompts or choose a file, not both.",
        ),
        (
            "edit",
            "Make it red",
            ("p.zip", b"PK\x03\x04"),
            "Paste prompts or choose a file, not both.",
        ),
        ("t2i", "", ("p.zip", b"PK\x03\x04"), "A .zip holds Image Editing prompts: set the arena"),
        ("t2i", "", ("p.csv", b""), "The submitted file is empty."),
        ("t2i", "A fox\x00", None, "Null characters are not allowed."),
    ],
)
def test_admin_import_refuses_unclear_input_with_one_reason_and_stores_nothing(
    staff_client, arena, text, upload, reason
):
    data = {"arena": arena, "text": text}
    if upload:
        data["file"] = SimpleUploadedFile(*upload)

    page = staff_client.post("/admin/catalog/prompt/import/", data).content.decode()

    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>\s*<li>(.*?)</li>', page)
    assert len(errors) == 1
    assert errors[0].startswith(reason)
    assert not Prompt.objects.exists()


def test_admin_import_is_for_staff_only(db):
    response = Client().get("/admin/catalog/prompt/import/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
