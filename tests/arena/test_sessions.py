"""Visitors' sessions: a malformed session cookie is no session, never a failed page."""

import pytest
from django.test import Client

from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def battles():
    prompt = PromptFactory(text="A red ball")
    for slug in ("alpha", "beta"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug))


@pytest.mark.parametrize("cookie", ["x" * 5000, "abcdefgh\x00\x00", "ABCDEFGH-ü", "a" * 41])
@pytest.mark.parametrize("path", ["/battle/t2i/", "/models/alpha/", "/playground/"])
def test_a_malformed_session_cookie_gets_a_fresh_session(cookie, path):
    client = Client()
    client.cookies["sessionid"] = cookie

    response = client.get(path)

    assert response.status_code == 200
    if path == "/battle/t2i/":  # the battle starts a session: a new, well-formed one
        assert response.cookies["sessionid"].value != cookie
        assert len(response.cookies["sessionid"].value) == 32


def test_a_visitor_keeps_their_session():
    client = Client()
    client.get("/battle/t2i/")
    first = client.cookies["sessionid"].value

    client.get("/battle/t2i/")

    assert client.cookies["sessionid"].value == first
