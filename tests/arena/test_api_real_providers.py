"""The images API in front of real providers (loopback fakes of their wire formats), through
the real view: a value a model does not take is sent as the nearest it does and the answer's
X-Arena-Warnings says so; what a provider told of its images (the prompt it drew, the seed it
chose, what its safety checks flagged) comes back where an OpenAI client looks for it."""

import json
import threading

import pytest
from django.test import Client
from pytest_httpserver import HTTPServer

import gateway
from arena.api.services import api_key_create
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from tests.gateway.fakes import IMAGE, Fake, FakeFal, FakeGemini, FakeOpenAI, b64, fixture, reply

pytestmark = pytest.mark.django_db

GEMINI = "gemini-3.1-flash-lite-image"
SEEDREAM_ON_FAL = "fal-ai/bytedance/seedream/v4/text-to-image"


@pytest.fixture
def server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    yield server, release
    release.set()
    server.clear()
    server.stop()


@pytest.fixture
def serve(server):
    """Make the API call these fakes, and no other remote provider; the API key to call with."""
    routers = []

    def use(*kinds: type[Fake]) -> tuple[list[Fake], str]:
        fakes = [kind(*server) for kind in kinds]
        environ = {name: value for fake in fakes for name, value in fake.env().items()}
        ranked = gateway.Router(
            gateway.MemoryWindow(), policy=gateway.RoutingPolicy(exploration=0)
        )
        router = gateway.Gateway(environ=environ, router=ranked, timeout=5, poll_interval=0.01)
        routers.append(router)
        gateway.set_default_gateway(router)
        catalog_sync()
        return fakes, api_key_create(name="providers")[1]

    yield use
    for router in routers:
        router.close()


def generate(key: str, body: dict) -> Client:
    response = Client().post(
        "/openai/v1/images/generations",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.content[:500]
    return response


def test_gpt_image_is_sent_high_for_hd_and_the_answer_says_so(serve):
    (openai,), key = serve(FakeOpenAI)
    openai.on("/v1/images/generations", openai.images())

    response = generate(key, {"model": "gpt-image-1", "prompt": "A lighthouse", "quality": "hd"})

    (sent,) = openai.seen("/v1/images/generations")
    assert sent.get_json()["quality"] == "high"
    assert "not 'hd'; it was sent as high" in response["X-Arena-Warnings"]


def test_gemini_is_sent_the_2k_tier_for_a_1536_image_and_the_answer_says_so(serve):
    (google,), key = serve(FakeGemini)
    google.on(google.path(GEMINI), google.image(GEMINI))

    response = generate(key, {"model": GEMINI, "prompt": "A lighthouse", "size": "1536x1536"})

    (sent,) = google.seen(google.path(GEMINI))
    assert sent.get_json()["generationConfig"]["imageConfig"]["imageSize"] == "2K"
    assert "Size 1536x1536 was sent as the model's image size 2K" in response["X-Arena-Warnings"]


def test_seedream_is_sent_a_size_scaled_into_its_sides_and_the_answer_says_so(serve):
    (fal,), key = serve(FakeFal)
    fal.model(SEEDREAM_ON_FAL)

    response = generate(key, {"model": "seedream-4", "prompt": "A lighthouse", "size": "512x768"})

    (sent,) = fal.submitted(SEEDREAM_ON_FAL)
    assert sent["image_size"] == {"width": 1024, "height": 1536}
    assert "Size 512x768 was sent as 1024x1536" in response["X-Arena-Warnings"]


def test_the_prompt_gpt_image_drew_is_each_images_revised_prompt(serve):
    (openai,), key = serve(FakeOpenAI)
    openai.on("/v1/images/generations", openai.images())

    response = generate(key, {"model": "gpt-image-1", "prompt": "A lighthouse", "n": 2})

    # the fake answers each item's revised_prompt with the prompt it was sent
    assert [item["revised_prompt"] for item in response.json()["data"]] == ["A lighthouse"] * 2
    (call,) = ProviderCall.objects.all()
    assert call.revised_prompt == "A lighthouse"


def test_a_seed_the_provider_chose_comes_back_in_a_header_and_on_the_call_row(serve):
    (fal,), key = serve(FakeFal)
    fal.model(SEEDREAM_ON_FAL)

    response = generate(
        key, {"model": "seedream-4", "prompt": "A lighthouse", "size": "1024x1024"}
    )

    assert response["X-Arena-Seed"] == "42"  # fal/result.json's seed, not one we sent
    assert "revised_prompt" not in response.json()["data"][0]  # fal rewrites nothing
    assert ProviderCall.objects.get().seed == 42


def test_the_seed_sent_for_a_caller_who_chose_none_stays_secret(serve):
    (fal,), key = serve(FakeFal)

    def echoes_the_seed(request):
        sent = fal.inputs[request.path.split("/")[-1]]
        body = fixture("fal/result", base=fal.url, request_id="r", prompt=sent["prompt"])
        return reply(body | {"seed": sent["seed"]})

    fal.model(SEEDREAM_ON_FAL, result=echoes_the_seed)

    response = generate(
        key, {"model": "seedream-4", "prompt": "A lighthouse", "size": "1024x1024"}
    )

    (sent,) = fal.submitted(SEEDREAM_ON_FAL)
    assert str(sent["seed"]) not in str(response.headers)
    assert "X-Arena-Seed" not in response
    assert ProviderCall.objects.get().seed is None


def test_what_the_safety_checks_flagged_comes_back_in_a_header_and_on_the_call_row(serve):
    (google,), key = serve(FakeGemini)

    def flagged(request):
        body = fixture("gemini/generate_image", image_b64=b64(IMAGE), model=GEMINI)
        body["candidates"][0]["safetyRatings"] = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "MEDIUM"},
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        ]
        return reply(body)

    google.on(google.path(GEMINI), flagged)

    response = generate(key, {"model": GEMINI, "prompt": "A lighthouse"})

    assert response["X-Arena-Safety-Flags"] == "HARM_CATEGORY_DANGEROUS_CONTENT: MEDIUM"
    assert ProviderCall.objects.get().safety_flags == ["HARM_CATEGORY_DANGEROUS_CONTENT: MEDIUM"]
