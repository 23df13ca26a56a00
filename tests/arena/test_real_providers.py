"""An arena model backed by a real provider (here Google's, on a loopback fake of its wire
format): configured by environment variables, generated, measured and charged like any other."""

import threading
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

import gateway
from arena.catalog.models import AIModel, Generation, ProviderCall
from arena.catalog.services import catalog_sync, prompt_generate
from tests.factories import PromptFactory
from tests.gateway.fakes import FakeGemini, fails

pytestmark = pytest.mark.django_db
MODEL = "gemini-3.1-flash-lite-image"


@pytest.fixture
def google(settings):
    """Gemini and Vertex keys in the environment, both pointing at a loopback fake."""
    settings.ARENA_IMAGE_SIZE = 128
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    fake = FakeGemini(server, release)
    # No exploration: one call in twenty would try Vertex first, and these tests pin the order.
    ranked = gateway.Router(gateway.MemoryWindow(), policy=gateway.RoutingPolicy(exploration=0))
    router = gateway.Gateway(environ=fake.env(), router=ranked, timeout=5)
    gateway.set_default_gateway(router)
    catalog_sync()
    yield fake
    release.set()
    router.close()
    server.clear()
    server.stop()


def generate_one(django_capture_on_commit_callbacks) -> Generation:
    prompt = PromptFactory(text="A red cube on a blue table")
    with django_capture_on_commit_callbacks(execute=True):
        prompt_generate(prompt_ids=[prompt.pk])
    return Generation.objects.get(prompt=prompt, model__slug=MODEL)


def test_a_configured_provider_makes_its_model_compete(google, django_capture_on_commit_callbacks):
    google.on(google.path(MODEL), google.image(MODEL))
    model = AIModel.objects.get(slug=MODEL)
    assert model.active  # routable at sync: its key is set
    assert not AIModel.objects.get(slug="gpt-image-1").active  # no OpenAI key here

    generation = generate_one(django_capture_on_commit_callbacks)

    assert generation.status == Generation.Status.READY
    (call,) = ProviderCall.objects.filter(generation=generation)
    assert (call.provider.slug, call.ok, call.http_status, call.images) == ("gemini", True, 200, 1)
    # priced from the answer's usageMetadata (12 tokens in, 1120 image and 20 text tokens out),
    # stored to four places
    assert call.cost == Decimal("0.0337")
    assert call.ttfb_ms is not None
    assert call.ttfb_ms <= call.total_ms
    (sent,) = google.seen(google.path(MODEL))
    assert sent.headers["x-goog-api-key"] == "gemini-test"


def test_a_rate_limited_provider_falls_back_and_both_attempts_are_kept(
    google, django_capture_on_commit_callbacks
):
    google.on(
        google.path(MODEL), fails("gemini/error_resource_exhausted", 429, {"Retry-After": "30"})
    )
    google.on(google.path(MODEL, "vertex"), google.image(MODEL))

    generation = generate_one(django_capture_on_commit_callbacks)

    assert generation.status == Generation.Status.READY
    calls = list(ProviderCall.objects.filter(generation=generation).order_by("started_at"))
    assert [(c.provider.slug, c.ok, c.http_status, c.error_kind) for c in calls] == [
        ("gemini", False, 429, "rate_limited"),
        ("vertex", True, 200, ""),
    ]
    assert [c.cost for c in calls] == [Decimal("0"), Decimal("0.0337")]  # from usageMetadata


def test_a_provider_refusing_the_prompt_fails_the_generation_with_its_reason(
    google, django_capture_on_commit_callbacks
):
    google.on(google.path(MODEL), fails("gemini/error_invalid_argument", 400))

    generation = generate_one(django_capture_on_commit_callbacks)

    assert generation.status == Generation.Status.FAILED
    assert generation.error
    (call,) = ProviderCall.objects.filter(generation=generation)
    assert (call.ok, call.http_status, call.error_kind) == (False, 400, "invalid_request")
    assert google.seen(google.path(MODEL, "vertex")) == []  # a 400 is not retried elsewhere
