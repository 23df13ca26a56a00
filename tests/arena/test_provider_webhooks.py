"""With GATEWAY_WEBHOOK_BASE_URL set, a generation on fal or Replicate submits its job with our
webhook and returns; the provider's signed call to /hooks/<provider>/ sends it back to a worker
that collects the same job (one submission, one charge). Calls not signed by the provider are
refused; repeats change nothing; a webhook that never comes leaves the job to the requeue pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from arena.catalog.models import AIModel, Generation, ProviderCall
from arena.catalog.services import catalog_sync, generation_execute, generations_requeue_stale
from tests.arena.helpers import (
    JOB_MODEL,
    JOB_MODEL_ON_FAL,
    JOB_MODEL_ON_REPLICATE,
    job_providers,
)
from tests.factories import PromptFactory

pytestmark = pytest.mark.django_db
MODEL, FAL_MODEL, REPLICATE_MODEL = JOB_MODEL, JOB_MODEL_ON_FAL, JOB_MODEL_ON_REPLICATE
SECRET = "whsec_" + base64.b64encode(b"replicate signing secret, tests").decode()
FAL_KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def providers(settings):
    settings.ARENA_IMAGE_SIZE = 128
    settings.REPLICATE_WEBHOOK_SECRET = SECRET
    with job_providers(GATEWAY_WEBHOOK_BASE_URL="https://arena.example/hooks") as fakes:
        fal, _ = fakes
        raw = FAL_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        fal.server.expect_request("/.well-known/jwks.json").respond_with_json(
            {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "test"}]}
        )
        settings.FAL_WEBHOOK_JWKS_URL = f"{fal.url}/.well-known/jwks.json"
        catalog_sync()
        yield fakes


def detached() -> Generation:
    generation = Generation.objects.create(
        prompt=PromptFactory(), model=AIModel.objects.get(slug=MODEL)
    )
    assert generation_execute(generation_id=generation.pk) is None
    generation.refresh_from_db()
    return generation


def replicate_call(client, body: dict, *, secret: str = SECRET, sent: int | None = None):
    raw = json.dumps(body).encode()
    webhook_id, timestamp = "msg_1", str(int(time.time()) if sent is None else sent)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256)
    return client.post(
        "/hooks/replicate/",
        raw,
        content_type="application/json",
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(signed.digest()).decode(),
        },
    )


def fal_call(client, request_id: str, *, body: bytes | None = None):
    raw = json.dumps({"request_id": request_id, "status": "OK", "payload": {}}).encode()
    timestamp = str(int(time.time()))
    message = "\n".join([request_id, "user-1", timestamp, hashlib.sha256(raw).hexdigest()])
    return client.post(
        "/hooks/fal/",
        raw if body is None else body,
        content_type="application/json",
        headers={
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": "user-1",
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": FAL_KEY.sign(message.encode()).hex(),
        },
    )


def test_with_webhooks_the_worker_submits_the_job_and_does_not_wait(fal) -> None:
    generation = detached()

    assert generation.status == Generation.Status.RUNNING
    assert generation.job["job_id"] == "req-1"
    assert generation.job["webhook"] is True
    assert fal.seen(r"/fal-ai/imagen4/requests/.*", "GET") == []
    assert not ProviderCall.objects.exists()


def test_a_job_left_to_the_webhook_is_not_taken_over_before_the_requests_deadline(
    fal, settings
) -> None:
    settings.ARENA_GENERATION_LEASE_SECONDS = 1  # shorter than the gateway's 5 s deadline

    generation = detached()

    assert generation.leased_until == generation.started_at + timedelta(seconds=5)
    assert not Generation.objects.claimable().filter(pk=generation.pk).exists()


def test_fals_signed_webhook_finishes_the_generation_through_the_same_job(
    fal, client, django_capture_on_commit_callbacks
) -> None:
    generation = detached()

    with django_capture_on_commit_callbacks(execute=True):
        response = fal_call(client, "req-1")

    assert response.status_code == 204
    generation.refresh_from_db()
    assert generation.status == Generation.Status.READY
    assert len(fal.submitted(FAL_MODEL)) == 1
    (call,) = ProviderCall.objects.filter(generation=generation)
    assert (call.ok, call.cost, call.provider_request_id) == (True, Decimal("0.04"), "req-1")


def test_replicates_signed_webhook_finishes_the_generation_and_a_repeat_changes_nothing(
    replicate, client, django_capture_on_commit_callbacks
) -> None:
    generation = detached()
    assert generation.job["job_id"] == "p1"
    prediction = {"id": "p1", "status": "succeeded"}

    with django_capture_on_commit_callbacks(execute=True):
        first = replicate_call(client, prediction)
    with django_capture_on_commit_callbacks(execute=True):
        repeat = replicate_call(client, prediction)

    assert (first.status_code, repeat.status_code) == (204, 204)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.READY
    assert len(replicate.created(REPLICATE_MODEL)) == 1
    assert ProviderCall.objects.filter(generation=generation).count() == 1


def test_an_unsigned_or_tampered_or_stale_call_is_refused_and_changes_nothing(
    fal, replicate, client
) -> None:
    generation = detached()
    prediction = {"id": "p1", "status": "succeeded"}

    tampered = fal_call(client, "req-1", body=b'{"request_id": "req-1", "status": "OK"}')
    wrong_secret = replicate_call(
        client, prediction, secret="whsec_" + base64.b64encode(b"not it").decode()
    )
    stale = replicate_call(client, prediction, sent=int(time.time()) - 3600)
    unsigned = client.post("/hooks/replicate/", prediction, content_type="application/json")

    assert [r.status_code for r in (tampered, wrong_secret, stale, unsigned)] == [
        401,
        401,
        401,
        400,
    ]
    assert "five minutes" in stale.content.decode()
    assert "webhook-signature" in unsigned.content.decode()
    generation.refresh_from_db()
    assert generation.status == Generation.Status.RUNNING


def test_a_webhook_for_a_job_no_generation_waits_on_is_acknowledged_and_ignored(
    fal, client
) -> None:
    response = fal_call(client, "req-unknown")

    assert response.status_code == 204
    assert not Generation.objects.exists()


def test_a_job_whose_webhook_never_came_is_collected_by_the_requeue_pass(
    fal, settings, django_capture_on_commit_callbacks
) -> None:
    generation = detached()
    ended = timezone.now() - timedelta(seconds=1)
    Generation.objects.filter(pk=generation.pk).update(leased_until=ended)

    with django_capture_on_commit_callbacks(execute=True):
        assert generations_requeue_stale() == 1

    generation.refresh_from_db()
    assert generation.status == Generation.Status.READY
    assert len(fal.submitted(FAL_MODEL)) == 1


header_value = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=60)


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.binary(max_size=200),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "X-Fal-Webhook-Request-Id",
                "X-Fal-Webhook-User-Id",
                "X-Fal-Webhook-Timestamp",
                "X-Fal-Webhook-Signature",
            ]
        ),
        header_value,
    ),
    signed_json=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=6,
    ),
)
def test_arbitrary_webhook_calls_never_get_a_server_error(
    providers, client, body, headers, signed_json
) -> None:
    for path in ("/hooks/fal/", "/hooks/replicate/"):
        response = client.post(path, body, content_type="application/json", headers=headers)
        assert response.status_code in (400, 401), response.content[:200]
    # signed, so the body itself is read: whatever JSON it is
    assert replicate_call(client, signed_json).status_code in (204, 400)
