"""Oversize request bodies are refused by their declared size, before anything reads them."""

import io
import math
import re
from pathlib import Path

import pytest
from django.test import Client

from arena.api.services import api_key_create
from arena.bodylimit import LIMITS, MB, body_limit_for
from arena.catalog.importing import MAX_ZIP_IMPORT_BYTES
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync

pytestmark = pytest.mark.django_db

NGINX = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


class Unread(io.BytesIO):
    """A request body that records whether anything read it."""

    touched = False

    def read(self, *args):
        self.touched = True
        return super().read(*args)

    def readline(self, *args):
        self.touched = True
        return super().readline(*args)


def post(path: str, declared: int | None, client: Client | None = None, **headers):
    body = Unread(b"x" * 10)
    meta = {"wsgi.input": body}
    if declared is not None:
        meta["CONTENT_LENGTH"] = str(declared)
    response = (client or Client()).generic(
        "POST", path, b"", content_type="multipart/form-data; boundary=x", headers=headers, **meta
    )
    return response, body


def test_an_oversize_playground_post_is_refused_unread_before_the_csrf_check():
    response, body = post("/playground/", 300 * MB, Client(enforce_csrf_checks=True))

    assert response.status_code == 413
    assert "the limit here is 81 MB" in response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert not body.touched


@pytest.mark.parametrize(
    ("path", "declared"),
    [("/openai/v1/images/generations", 265 * MB), ("/openai/v1/images/edits", 100 * MB)],
)
def test_an_oversize_api_request_is_an_openai_413_even_with_a_valid_key(path, declared):
    catalog_sync()
    key = api_key_create(name="tests")[1]

    response, body = post(path, declared, Authorization=f"Bearer {key}")

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert error["type"] == "invalid_request_error"
    assert "MB" in error["message"]
    assert not body.touched
    assert not ProviderCall.objects.exists()


def test_a_content_length_too_long_to_be_a_number_is_refused():
    response, body = post("/battle/t2i/", int("9" * 40))

    assert response.status_code == 413
    assert not body.touched


def test_a_chunked_body_without_a_length_is_refused_unread():
    response, body = post(
        "/openai/v1/images/generations", None, **{"Transfer-Encoding": "chunked"}
    )

    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]["message"]
    assert not body.touched


def test_bodies_within_the_limit_reach_the_view():
    response, _ = post("/openai/v1/images/generations", 1000)

    assert response.status_code == 401  # the key check, past the body limit


@pytest.mark.parametrize(
    ("path", "enough_for"),
    [
        ("/admin/catalog/prompt/import/", MAX_ZIP_IMPORT_BYTES),
        ("/admin/catalog/prompt/add/", 20 * MB),
        ("/openai/v1/images/edits", 3 * 20 * MB),
        ("/playground/", 3 * 20 * MB),
    ],
)
def test_uploads_the_app_accepts_fit_in_their_paths_limit(path, enough_for):
    assert body_limit_for(path) > enough_for
    assert body_limit_for("/openai/v1/images/generations") <= MB


def test_nginx_allows_the_same_body_sizes_as_the_app():
    config = NGINX.read_text()
    server_wide = re.search(r"^    client_max_body_size (\d+)m;", config, re.MULTILINE)
    by_location = dict(
        re.findall(r"location (\S+) \{\s*client_max_body_size (\d+)m;", config, re.MULTILINE)
    )

    for prefix, limit in LIMITS:
        nginx = by_location.get(prefix, server_wide[1])
        assert int(nginx) == math.ceil(limit / MB), prefix
