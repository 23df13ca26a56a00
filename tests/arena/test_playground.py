"""The playground: any model, no key, limited per visitor, with the API's checks."""

import io
import re

import pytest
from django.core.files.storage import default_storage
from django.test import Client

import gateway
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from tests.factories import png_bytes

# Committed for real: a request's job reaches the (eager) queue on commit.
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def models():
    catalog_sync()


def play(client, **fields):
    return client.post(
        "/playground/", {"operation": "generate", **fields}, headers={"HX-Request": "true"}
    )


def test_the_page_offers_every_model_and_explains_the_api():
    page = Client().get("/playground/").content.decode()

    assert 'value="lumen-xl"' in page
    assert 'value="retouch"' in page
    assert "(edits only)" in page
    assert re.search(r'value="flux-1.1-pro"\s+disabled>[^<]*no provider key set', page)
    assert "/openai/v1" in page
    assert 'aria-current="page">Playground' in page


def test_a_run_shows_the_images_the_provider_time_and_the_cost():
    response = play(Client(), model="prism-2", prompt="Three yellow apples", size="512x512", n="2")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="result"')  # only the result, swapped by htmx
    assert html.count("<img ") == 2
    assert "via <code>local</code>" in html
    assert "$0.0500" in html  # 2 images at $0.025
    assert ProviderCall.objects.filter(source="playground", ok=True).count() >= 1
    assert len(default_storage.listdir("playground")[1]) == 2


def test_only_the_forms_own_fields_reach_the_gateway(monkeypatch):
    seen = []
    real = gateway.generate
    monkeypatch.setattr(
        gateway,
        "generate",
        lambda request, **options: seen.append(request) or real(request, **options),
    )

    play(Client(), model="blockworld", prompt="a cat", size="512x512", n="1", extra_field="x")

    assert seen[0].extra == {}  # not the CSRF token, not "operation", not extra_field
    assert seen[0].size == "512x512"


def test_every_run_gets_a_fresh_secret_seed_that_no_visitor_chooses_or_sees(monkeypatch):
    seen = []
    real = gateway.generate
    monkeypatch.setattr(
        gateway,
        "generate",
        lambda request, **options: seen.append(request) or real(request, **options),
    )
    fields = {"model": "blockworld", "prompt": "a cat", "size": "512x512", "n": "1"}

    pages = [play(Client(), **fields, seed="42").content.decode() for _ in range(3)]

    seeds = [request.seed for request in seen]
    assert len(set(seeds)) == 3
    assert 42 not in seeds
    assert all(str(seed) not in page for seed, page in zip(seeds, pages, strict=True))
    assert 'name="seed"' not in Client().get("/playground/").content.decode()


def test_an_edit_runs_on_the_uploaded_image():
    source = io.BytesIO(png_bytes(size=(200, 200)))
    source.name = "mine.png"

    response = play(
        Client(),
        operation="edit",
        model="lumen-xl",
        prompt="Make it sepia",
        size="1024x1024",
        n="1",
        image=source,
    )

    assert response.status_code == 200
    assert response.content.decode().count("<img ") == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"operation": "edit", "model": "lumen-xl", "prompt": "Make it sepia"},
            "image is required",
        ),
        (
            {"model": "lumen-xl", "prompt": "a cat", "n": "5"},
            "n must be a whole number from 1 to 4",
        ),
        ({"model": "nope", "prompt": "a cat"}, "does not exist"),
        ({"model": "lumen-xl", "prompt": "a cat", "size": "2048x2048"}, "for other sizes, use"),
        ({"model": "lumen-xl", "prompt": "a cat", "size": "64x64"}, "1024x1024, 1536x1024"),
    ],
)
def test_a_bad_request_shows_the_reason_and_makes_nothing(fields, reason):
    response = play(Client(), **fields)

    assert response.status_code in (400, 404)
    assert reason in response.content.decode()
    assert not ProviderCall.objects.exists()


def test_each_visitor_has_an_hourly_allowance(settings):
    settings.ARENA_PLAYGROUND_PER_HOUR = 2
    visitor = Client()
    fields = {"model": "blockworld", "prompt": "a cat", "size": "512x512", "n": "1"}

    statuses = [play(visitor, **fields).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert "at most 2 requests an hour" in play(visitor, **fields).content.decode()


def test_posting_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/playground/", {"model": "blockworld", "prompt": "a cat"})

    assert response.status_code == 403
    assert not ProviderCall.objects.exists()


def test_the_prompt_box_takes_the_longest_prompt_a_model_takes_and_each_model_its_own():
    page = Client().get("/playground/").content.decode()
    longest = max(spec.max_prompt_chars for spec in gateway.default_catalog().models.values())

    too_long_for_blockworld = play(Client(), model="blockworld", prompt="a" * 4001, size="512x512")

    assert re.search(rf'name="prompt"[^>]*maxlength="{longest}"', page)
    assert longest > 4000  # gpt-image's 32,000: the box does not cut those short
    assert too_long_for_blockworld.status_code == 400
    assert "4,000" in too_long_for_blockworld.content.decode()
    assert not default_storage.exists("playground") or not default_storage.listdir("playground")[1]
