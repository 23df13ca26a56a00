"""The task broker (Redis) away: an API request whose job no worker will ever see is told so at
once, a 503 with Retry-After in OpenAI's shape, rather than after its whole wait. The job is
marked failed, its inputs removed, nothing is charged, and a retry with the same
Idempotency-Key once the broker is back makes the images. The shared Redis is never stopped:
Celery is pointed at a port where nothing listens."""

import json
import time
from types import SimpleNamespace

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from arena.api import partials, services
from arena.api.models import ImageJob
from arena.catalog.models import ProviderCall
from arena.celery import app
from tests.arena.helpers import DEAD_REDIS, broker_unreachable
from tests.factories import png_bytes

# Real commits: a job is sent to the queue when the request's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

GENERATIONS = "/openai/v1/images/generations"
BODY = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}


@pytest.fixture
def broker_away(monkeypatch, local_gateway):
    """Celery sends for real, to a broker that is not there; the web must not wait on it."""
    broker_unreachable(monkeypatch)
    local_gateway.timeout = 180  # the wait a caller would sit through: the default's
    monkeypatch.setattr(services, "time", SimpleNamespace(monotonic=time.monotonic, sleep=_waited))


def _waited(seconds: float) -> None:
    raise AssertionError("the web waited for a worker that will never see the job")


def post(key, body=BODY, path=GENERATIONS, **headers):
    return Client().post(
        path,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", **headers},
    )


def test_a_generation_is_refused_at_once_with_retry_after(key, broker_away):
    response = post(key)

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["error"]["type"] == "server_error"
    assert response.json()["error"]["code"] == "service_unavailable"
    job = ImageJob.objects.get()
    assert (job.status, job.error_kind, job.cost) == ("failed", "queue_unavailable", 0)
    assert not ProviderCall.objects.exists()


def test_an_edits_inputs_are_removed_when_its_job_cannot_be_queued(key, broker_away, media_root):
    response = Client().post(
        "/openai/v1/images/edits",
        {"model": "lumen-xl", "prompt": "Make it sepia", "image": _upload()},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 503
    assert ImageJob.objects.get().sources == []
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def test_an_async_request_is_refused_rather_than_queued_for_nobody(key, broker_away):
    response = post(key, {**BODY, "async": True})

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert ImageJob.objects.get().status == "failed"


def test_a_streamed_request_is_refused_at_once_too(key, broker_away, monkeypatch):
    # the partial images' list is in the Redis that is away, like the broker
    monkeypatch.setattr(partials, "_redis", lambda: redis.Redis.from_url(DEAD_REDIS))

    response = post(key, {**BODY, "stream": True, "partial_images": 1})

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["error"]["code"] == "service_unavailable"


def test_a_retry_with_the_same_idempotency_key_makes_the_images_once_the_broker_is_back(
    key, broker_away, monkeypatch
):
    refused = post(key, **{"Idempotency-Key": "retry-me"})
    monkeypatch.setitem(app.conf, "task_always_eager", True)  # back: the embedded default

    retried = post(key, **{"Idempotency-Key": "retry-me"})

    assert refused.status_code == 503
    assert retried.status_code == 200
    assert len(retried.json()["data"]) == 1
    assert ProviderCall.objects.count() == 1


def _upload():
    return SimpleUploadedFile("source.png", png_bytes(size=(64, 64)), content_type="image/png")
