"""Arbitrary input thrown at every endpoint that takes some: never a 5xx, and nothing is stored
by a request that is refused (4xx)."""

import io
import json
import re
import urllib.parse
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.api.services import api_key_create
from arena.battles.models import Vote
from arena.catalog.models import Generation, Prompt, ProviderCall
from arena.catalog.services import catalog_sync
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PNG = png_bytes(size=(64, 64))

# Text as JSON may carry it: anything, lone surrogates and NUL included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
# Text a form or a multipart body can carry (it is UTF-8 on the wire: no lone surrogates).
wire_text = st.text(st.characters(codec="utf-8"), max_size=40)
odd_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1", "²", "١", "10", "0", "-1", "1e3", " 2", "9" * 40]),
)
sizes = st.one_of(
    st.sampled_from(["64x64", "auto", "１０２４x１０２４", "64x64\n", "0x0", "99999x64", ""]),
    wire_text,
)
# Models that can be called here, and some that do not exist (one with no provider key here
# would be a 503 by design: a matter of configuration, not of input).
models = st.sampled_from(["blockworld", "lumen-xl", "retouch", "nope", "x.y", ""])
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), odd_numbers, any_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=8,
)


def rows() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Prompt, Generation, ProviderCall, Vote))


def assert_handled(response, before: tuple[int, ...]) -> None:
    assert response.status_code < 500, response.content[:300]
    if 400 <= response.status_code < 500:
        assert rows() == before, response.content[:300]


@pytest.fixture(autouse=True)
def no_caps(settings):
    settings.ARENA_PLAYGROUND_PER_HOUR = 0
    settings.ARENA_API_REQUESTS_PER_MINUTE = 0
    settings.ARENA_VOTES_PER_MINUTE = settings.ARENA_VOTES_PER_DAY = 0
    settings.ARENA_IP_VOTES_PER_MINUTE = settings.ARENA_IP_VOTES_PER_DAY = 0


@pytest.fixture
def key() -> str:
    catalog_sync()
    return api_key_create(name="fuzz")[1]


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("fuzz", "f@x.org", "pw"))
    return client


@FUZZ
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"model": models, "prompt": any_text},
            optional={
                "n": odd_numbers,
                "size": sizes,
                "quality": json_values,
                "style": json_values,
                "response_format": st.sampled_from(["url", "b64_json", "gif", 1, None]),
                "extra": json_values,
            },
        ),
        json_values,
    ).map(json.dumps)
    | st.binary(max_size=80).map(lambda raw: raw.decode("latin-1")),
)
def test_api_generations_take_any_json(key, body):
    before = rows()
    response = Client().post(
        "/openai/v1/images/generations",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert_handled(response, before)
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


upload_bytes = st.sampled_from(
    [PNG, b"", b"GIF89a", b"<svg/>", PNG[:40], b"\xff\xd8\xff" + b"\x00" * 30]
) | st.binary(max_size=60)


def named_upload(name: str, content: bytes) -> io.BytesIO:
    """An upload under any file name ("", "/", "../x"), as a raw multipart body may carry."""
    upload = io.BytesIO(content)
    upload.name = name
    return upload


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["model", "prompt", "n", "size", "response_format", "extra"]) | wire_text,
        wire_text | odd_numbers.map(str),
        max_size=6,
    ),
    model=models,
    files=st.lists(
        st.tuples(
            st.sampled_from(["image", "image[]", "mask", "other"]),
            st.sampled_from(["", "/", "../a.png", "a.jpg", "a\x00.png"]) | wire_text,
            upload_bytes,
        ),
        max_size=3,
    ),
)
def test_api_edits_take_any_multipart_body(key, fields, model, files):
    data = {"model": model, "prompt": "Make it red", **fields}
    for field, name, content in files:
        data.setdefault(field, named_upload(name, content))
    before = rows()

    response = Client().post(
        "/openai/v1/images/edits", data, headers={"Authorization": f"Bearer {key}"}
    )

    assert_handled(response, before)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["model", "prompt", "n", "size", "operation"]) | wire_text,
        wire_text | odd_numbers.map(str),
        max_size=5,
    ),
    image=st.none() | st.tuples(wire_text, upload_bytes),
)
def test_the_playground_takes_any_form(key, fields, image):
    data = {"model": "blockworld", "size": "512x512", "prompt": "a cat", **fields}
    if image is not None:
        data["image"] = named_upload(*image)
    before = rows()

    response = Client().post("/playground/", data, headers={"HX-Request": "true"})

    assert_handled(response, before)


@FUZZ
@given(query=st.binary(max_size=60), path=st.sampled_from(["/playground/", "/models/", "/"]))
def test_pages_take_any_query_string(query, path):
    response = Client().get(f"{path}?{urllib.parse.quote_from_bytes(query, safe='=&;%+')}")

    assert response.status_code < 500


@pytest.fixture
def battle_client(db):
    prompt = PromptFactory(text="A red ball")
    for slug in ("alpha", "beta"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug))
    client = Client()
    return client, open_battle(client)


@FUZZ
@given(
    token=st.none() | st.text(max_size=30),
    choice=st.sampled_from(["left", "right", "tie", "both_bad", "", "LEFT"]) | wire_text,
    extra=st.dictionaries(wire_text, wire_text, max_size=2),
)
def test_votes_take_any_token_and_choice(battle_client, token, choice, extra):
    client, battle = battle_client
    path = urllib.parse.quote(token if token is not None else battle.token, safe="")
    before = rows()

    response = client.post(f"/battle/{path}/", {**extra, "choice": choice})
    shown = [client.get(f"/battle/{path}/{suffix}") for suffix in ("", "left.png", "source.png")]

    assert_handled(response, before)
    assert all(page.status_code < 500 for page in shown)


IMPORTED = re.compile(r"Imported <strong>(\d+)</strong>")


def assert_imported_as_reported(response, before: int) -> None:
    assert response.status_code < 500
    match = IMPORTED.search(response.content.decode())
    assert Prompt.objects.count() - before == (int(match[1]) if match else 0)


text_prompts = st.lists(
    st.one_of(
        wire_text,
        st.fixed_dictionaries({"text": json_values}, optional={"tags": json_values}).map(
            json.dumps
        ),
        st.sampled_from(['"a,b",c', "text,tags", '"unclosed', "a\x00b", "x" * 4001]),
    ),
    max_size=5,
).map("\n".join)


@FUZZ
@given(
    text=text_prompts,
    name=st.sampled_from(["p.csv", "p.jsonl", "p.txt", "p.bin", None]),
    header=st.booleans(),
)
def test_admin_text_imports_take_anything(staff, text, name, header):
    before = Prompt.objects.count()
    data = {"arena": "t2i", "text": text, "generate": ""}
    if name:
        content = ("text,tags\n" if header else "") + text
        data["file"] = SimpleUploadedFile(name, content.encode("utf-8"))

    response = staff.post("/admin/catalog/prompt/import/", data)

    assert_imported_as_reported(response, before)


manifest_lines = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"image": st.sampled_from(["a.png", "../a.png", "/a.png", "b.bin", "a.png\x00"])},
            optional={"instruction": json_values, "tags": json_values},
        ).map(json.dumps),
        any_text.map(lambda t: json.dumps({"image": "a.png", "instruction": t})),
        wire_text,
    ),
    max_size=4,
)
members = st.dictionaries(
    st.sampled_from(["a.png", "b.bin", "dir/manifest.jsonl", "x/../y"]) | wire_text.filter(bool),
    upload_bytes,
    max_size=3,
)


def zipped(lines: list[str], files: dict[str, bytes], flags: int, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.jsonl", "\n".join(lines))
        for name, data in files.items():
            archive.writestr(name, data)
        for info in archive.infolist()[-1:]:
            info.flag_bits |= flags
            info.compress_type = method
    return buffer.getvalue()


@FUZZ
@given(
    lines=manifest_lines,
    files=members,
    flags=st.sampled_from([0, 0x1]),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_LZMA, 99]),
    damage=st.none() | st.integers(min_value=0, max_value=400),
)
def test_admin_zip_imports_take_anything(staff, lines, files, flags, method, damage):
    data = zipped(lines, {"a.png": PNG, **files}, flags, method)
    if damage is not None and damage < len(data):
        data = data[:damage] + bytes([data[damage] ^ 0xFF]) + data[damage + 1 :]
    before = Prompt.objects.count()

    response = staff.post(
        "/admin/catalog/prompt/import/",
        {"arena": "edit", "file": SimpleUploadedFile("p.zip", data), "generate": ""},
    )

    assert_imported_as_reported(response, before)


header_text = st.text(st.characters(codec="latin-1"), max_size=60)  # what WSGI headers hold


@FUZZ
@given(cookie=header_text, authorization=header_text)
def test_any_session_cookie_or_key_header_is_handled(key, cookie, authorization):
    client = Client()
    client.cookies["sessionid"] = cookie

    pages = [client.get(path) for path in ("/battle/t2i/", "/playground/")]
    api = client.get("/openai/v1/models", headers={"Authorization": authorization})

    assert all(response.status_code < 500 for response in [*pages, api])
