"""`stream: true`: the images API answers server-sent events in OpenAI's shapes, partial images
first, so the official SDK's `stream=True` yields them."""

import base64
import io
import json
import threading

import httpx
import numpy as np
import openai
import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from pytest_httpserver import HTTPServer

import gateway
from arena.api import partials
from arena.api.models import ImageJob
from arena.api.services import api_key_create
from arena.catalog.services import catalog_sync
from tests.factories import png_bytes
from tests.gateway.fakes import IMAGE, FakeOpenAI, png

# Committed for real: running eagerly, a streamed job is made and run in a thread of its own,
# which sees only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server):
    catalog_sync()
    return openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1",
        api_key=api_key_create(name="stream")[1],
        max_retries=0,
    )


def picture(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"), np.float32)


def test_the_sdk_yields_two_partial_images_then_the_completed_one(client):
    events = list(
        client.images.generate(
            model="lumen-xl",
            prompt="A red cube beside a blue sphere on a table",
            size="256x256",
            stream=True,
            partial_images=2,
        )
    )

    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert [event.partial_image_index for event in events[:2]] == [0, 1]
    assert {(e.size, e.output_format, e.quality, e.background) for e in events} == {
        ("256x256", "png", "auto", "auto")
    }
    final = picture(events[-1].b64_json)
    assert final.shape == (256, 256, 3)
    # real stages of the render, coming closer to the final picture, not copies of it
    distances = [np.abs(picture(event.b64_json) - final).mean() for event in events[:2]]
    assert distances[0] > distances[1] > 0
    assert events[-1].usage.total_tokens == 0


def test_an_edit_streams_its_stages_then_the_edited_image(client):
    source = png_bytes(color=(120, 120, 120), size=(128, 128))

    events = list(
        client.images.edit(
            model="lumen-xl",
            image=("grey.png", source),
            prompt="Make it red",
            stream=True,
            partial_images=2,
        )
    )

    assert [event.type for event in events] == [
        "image_edit.partial_image",
        "image_edit.partial_image",
        "image_edit.completed",
    ]
    assert np.array_equal(picture(events[0].b64_json), picture(base64.b64encode(source)))
    assert picture(events[-1].b64_json)[..., 0].mean() > 120


@pytest.fixture
def openai_fake(client):
    """An OpenAI key in the gateway's environment, pointing at a loopback fake."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    fake = FakeOpenAI(server, release)
    relay = gateway.Gateway(environ=fake.env(), timeout=10)
    gateway.set_default_gateway(relay)
    catalog_sync()
    yield fake
    release.set()
    relay.close()
    server.clear()
    server.stop()


def test_openai_s_own_partial_images_are_relayed_as_they_come(client, openai_fake):
    partials = [png((40 * k, 90, 160)) for k in range(1, 4)]
    openai_fake.on("/v1/images/generations", openai_fake.streamed_images(partials))

    events = list(
        client.images.generate(
            model="gpt-image-1", prompt="A lighthouse", stream=True, partial_images=2
        )
    )

    assert [base64.b64decode(event.b64_json) for event in events] == [*partials[:2], IMAGE]
    assert events[-1].type == "image_generation.completed"
    # the provider's own usage, not zeros
    usage = events[-1].usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (10, 1056, 1066)
    (sent,) = openai_fake.seen("/v1/images/generations")
    assert (sent.get_json()["stream"], sent.get_json()["partial_images"]) == (True, 2)


def test_no_partial_images_asked_sends_the_final_image_alone(client):
    events = list(
        client.images.generate(model="daydream", prompt="A harbour", size="128x128", stream=True)
    )

    assert [event.type for event in events] == ["image_generation.completed"]


def test_every_image_of_a_streamed_request_comes_as_a_completed_event(client):
    events = list(
        client.images.generate(
            model="prism-2", prompt="A green cone", size="128x128", n=2, stream=True,
            partial_images=1,
        )
    )  # fmt: skip

    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
        "image_generation.completed",
    ]


def test_a_failure_before_the_first_event_is_an_ordinary_error(client, monkeypatch):
    def fail(request, **options):
        raise gateway.GatewayError(gateway.ErrorKind.SERVER_ERROR, "The provider broke.")

    monkeypatch.setattr(gateway, "generate", fail)

    with pytest.raises(openai.APIStatusError) as failed:
        list(client.images.generate(model="prism-2", prompt="A cone", stream=True))

    assert failed.value.status_code == 502
    assert failed.value.body["code"] == "upstream_error"


def test_a_failure_after_the_first_event_is_an_error_event_the_sdk_raises(client, monkeypatch):
    def shown_then_failed(request, *, partials, **options):
        partials.emit(png_bytes())
        raise gateway.GatewayError(gateway.ErrorKind.SERVER_ERROR, "The provider broke.")

    monkeypatch.setattr(gateway, "generate", shown_then_failed)
    stream = client.images.generate(
        model="prism-2", prompt="A cone", stream=True, partial_images=2
    )

    first = next(stream)
    with pytest.raises(openai.APIError) as failed:
        next(stream)

    assert first.type == "image_generation.partial_image"
    assert failed.value.body["code"] == "upstream_error"
    assert "The provider broke." in failed.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"stream": True, "partial_images": 7}, "partial_images"),
        ({"stream": True, "partial_images": "2"}, "partial_images"),
        ({"stream": True, "partial_images": True}, "partial_images"),
        ({"stream": "yes"}, "stream"),
        ({"stream": "true"}, "stream"),
        ({"stream": 1}, "stream"),
        ({"stream": 0}, "stream"),
        ({"stream": ""}, "stream"),
    ],
)
def test_bad_stream_values_are_refused_with_the_parameter_named(live_server, body, param):
    catalog_sync()
    response = httpx.post(
        f"{live_server.url}/openai/v1/images/generations",
        json={"model": "prism-2", "prompt": "A cone"} | body,
        headers={"Authorization": f"Bearer {api_key_create(name='raw')[1]}"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["message"].startswith(param)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10),
    st.text(max_size=6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.booleans(), max_size=2),
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stream=VALUES, partial_images=VALUES)
def test_arbitrary_stream_values_are_never_a_server_error(settings, stream, partial_images):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 0
    catalog_sync()
    body = {"model": "blockworld", "prompt": "A cone", "size": "64x64", "stream": stream}
    body["partial_images"] = partial_images

    response = Client().post(
        "/openai/v1/images/generations",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key_create(name='fuzz')[1]}"},
    )

    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["error"]["param"] in ("stream", "partial_images")
    elif response.streaming:
        assert b"".join(response.streaming_content).count(b"event: ") >= 1


def test_an_edit_takes_stream_and_partial_images_as_form_text_and_refuses_others(live_server):
    catalog_sync()
    headers = {"Authorization": f"Bearer {api_key_create(name='raw')[1]}"}

    def edit(**fields):
        return httpx.post(
            f"{live_server.url}/openai/v1/images/edits",
            data={"model": "lumen-xl", "prompt": "Make it red"} | fields,
            files={"image": ("grey.png", png_bytes(size=(96, 96)), "image/png")},
            headers=headers,
        )

    refused = edit(stream="yes")
    streamed = edit(stream="true", partial_images="1")

    assert (refused.status_code, refused.json()["error"]["param"]) == (400, "stream")
    assert streamed.status_code == 200
    assert streamed.headers["content-type"] == "text/event-stream"
    assert streamed.headers["cache-control"] == "no-cache"
    kinds = [line for line in streamed.text.splitlines() if line.startswith("event: ")]
    assert kinds == ["event: image_edit.partial_image", "event: image_edit.completed"]


def test_partial_images_without_stream_answers_plain_json(live_server):
    catalog_sync()
    response = httpx.post(
        f"{live_server.url}/openai/v1/images/generations",
        json={"model": "prism-2", "prompt": "A cone", "size": "128x128", "partial_images": 2},
        headers={"Authorization": f"Bearer {api_key_create(name='raw')[1]}"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert len(response.json()["data"]) == 1


@pytest.mark.worker
def test_a_worker_s_partial_images_reach_the_caller_through_redis(worker, client, monkeypatch):
    published = []
    publish = partials._publish
    monkeypatch.setattr(partials, "_publish", lambda *args: published.append(publish(*args)))

    events = list(
        client.images.generate(
            model="lumen-xl", prompt="A yellow star over a hill", size="256x256", stream=True,
            partial_images=3,
        )
    )  # fmt: skip

    assert [event.type for event in events] == [
        *["image_generation.partial_image"] * 3,
        "image_generation.completed",
    ]
    assert [event.partial_image_index for event in events[:3]] == [0, 1, 2]
    assert len(published) == 3  # by the worker's thread, onto the job's Redis list


def test_a_stream_says_who_made_the_images_and_at_what_cost_in_comments(live_server):
    """A stream's headers leave before the job is done: what a whole answer's X-Arena headers
    say comes as SSE comments before the completed event, which event readers pass over."""
    catalog_sync()
    with httpx.stream(
        "POST",
        f"{live_server.url}/openai/v1/images/generations",
        json={"model": "prism-2", "prompt": "A cone", "size": "128x128", "stream": True},
        headers={"Authorization": f"Bearer {api_key_create(name='raw')[1]}"},
    ) as response:
        body = response.read().decode()

    comments = dict(line[2:].split(": ", 1) for line in body.splitlines() if line.startswith(": "))
    assert comments["X-Arena-Provider"] == "local"
    assert comments["X-Arena-Attempts"] == "1"
    assert float(comments["X-Arena-Cost-USD"]) > 0
    assert body.index(": X-Arena-Provider") < body.index("event: image_generation.completed")


@pytest.mark.parametrize(
    ("extra_body", "headers", "param"),
    [
        ({"async": True}, {}, "stream"),
        ({"webhook": "https://example.com/hook"}, {}, "stream"),
        ({}, {"Idempotency-Key": "retry-me"}, "Idempotency-Key"),
    ],
)
def test_a_stream_refuses_the_options_it_cannot_honour_and_stores_nothing(
    extra_body, headers, param
):
    catalog_sync()
    key = api_key_create(name="raw")[1]
    body = {"model": "prism-2", "prompt": "A cone", "size": "128x128", "stream": True}

    response = Client().post(
        "/openai/v1/images/generations",
        {**body, **extra_body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", **headers},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not ImageJob.objects.exists()
