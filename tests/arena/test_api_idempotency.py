"""Idempotent requests: a retry with the first request's Idempotency-Key gets its answer, with
no second provider call and no second charge."""

import base64
import json
import threading
from datetime import timedelta

import httpx2
import openai
import pytest
from django.db import connection
from django.test import Client

from arena.api.models import IdempotentRequest, ImageJob
from arena.api.services import api_key_create
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from tests.arena.helpers import use_local_gateway
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
BODY = {"model": "prism-2", "prompt": "A blue cube", "size": "256x256"}
DESCRIBED = ["X-Arena-Provider", "X-Arena-Attempts", "X-Arena-Cost-USD"]


def post(key, body, idempotency_key=None):
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return Client().post(
        GENERATIONS, json.dumps(body), content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("response_format", ["url", "b64_json"])
def test_a_retry_with_the_same_key_gets_the_first_answer_without_a_second_call(
    key, response_format
):
    body = {**BODY, "response_format": response_format}

    first = post(key, body, "retry-1")
    again = post(key, body, "retry-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert [again[name] for name in DESCRIBED] == [first[name] for name in DESCRIBED]
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert ImageJob.objects.count() == 1
    assert ProviderCall.objects.count() == 1


def test_without_a_key_every_request_is_its_own(key):
    post(key, BODY)
    post(key, BODY)

    assert ImageJob.objects.count() == 2


def test_the_same_key_with_another_body_is_a_422(key):
    post(key, BODY, "retry-2")

    response = post(key, {**BODY, "prompt": "A red cube"}, "retry-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert ImageJob.objects.count() == 1


def test_keys_are_remembered_per_api_key(key):
    other = api_key_create(name="other")[1]

    post(key, BODY, "shared")
    response = post(other, BODY, "shared")

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert ImageJob.objects.count() == 2


def test_a_key_is_forgotten_after_a_day(key):
    post(key, BODY, "old")
    IdempotentRequest.objects.update(
        created_at=IdempotentRequest.objects.get().created_at - timedelta(hours=25)
    )

    response = post(key, {**BODY, "prompt": "Another body, now allowed"}, "old")

    assert response.status_code == 200
    assert ImageJob.objects.count() == 2


def test_a_first_request_that_failed_upstream_does_not_hold_the_key(key):
    use_local_gateway(fail_rates={"prism-2": 1.0})
    failed = post(key, BODY, "flaky")
    use_local_gateway()

    retried = post(key, BODY, "flaky")

    assert failed.status_code == 502
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    assert IdempotentRequest.objects.get().job.status == ImageJob.Status.READY


def test_a_refused_request_is_replayed_as_refused(key):
    """A 4xx of the provider would fail again: the retry is told so without another call."""
    use_local_gateway(fail_rates={"prism-2": 1.0})
    post(key, BODY, "will-fail")
    calls = ProviderCall.objects.count()
    ImageJob.objects.update(error_kind="invalid_request", error="The provider refused it.")
    use_local_gateway()

    again = post(key, BODY, "will-fail")

    assert again.status_code == 400
    assert again.json()["error"]["message"] == "The provider refused it."
    assert ProviderCall.objects.count() == calls


def test_an_edit_is_recognised_though_its_multipart_boundary_changes(key):
    source = png_bytes(size=(128, 128))

    fields = {"model": "lumen-xl", "prompt": "Make it sepia", "response_format": "b64_json"}

    def edit(boundary):
        head = f"--{boundary}\r\nContent-Disposition: form-data; name="
        body = b"".join(
            f'{head}"{name}"\r\n\r\n{value}\r\n'.encode() for name, value in fields.items()
        )
        body += f'{head}"image"; filename="a.png"\r\n\r\n'.encode() + source
        body += f"\r\n--{boundary}--\r\n".encode()
        return Client().post(
            "/openai/v1/images/edits",
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "edit-1"},
        )

    first, again = edit("one"), edit("two")

    assert first.status_code == again.status_code == 200, first.content
    assert again.json() == first.json()
    assert ImageJob.objects.count() == 1


@pytest.mark.parametrize("bad", ["", "a key with spaces", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400(key, bad):
    response = Client().post(
        GENERATIONS,
        json.dumps(BODY),
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {key}",
            "Idempotency-Key": bad.encode().decode("latin-1"),
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert not ImageJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_job_and_one_call(key):
    start = threading.Barrier(2)
    responses = []

    def send():
        try:
            start.wait()
            responses.append(post(key, {**BODY, "response_format": "b64_json"}, "together"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [response.status_code for response in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert ImageJob.objects.count() == 1
    assert ProviderCall.objects.count() == 1


class DropsTheFirstAnswer(httpx2.HTTPTransport):
    """The connection dies after the server answered, before the client read the answer."""

    def __init__(self):
        super().__init__()
        self.dropped = []

    def handle_request(self, request):
        response = super().handle_request(request)
        if self.dropped:
            return response
        response.read()
        self.dropped.append(response)
        raise httpx2.RemoteProtocolError("Server disconnected", request=request)


def test_the_sdks_retry_after_a_dropped_connection_gets_the_first_result(live_server):
    """The SDK makes up an idempotency key for its retries but does not send it
    (openai/_base_client.py: `_idempotency_header` is None): the caller sends one."""
    catalog_sync()
    transport = DropsTheFirstAnswer()
    client = openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1",
        api_key=api_key_create(name="sdk")[1],
        http_client=openai.DefaultHttpxClient(transport=transport),
        max_retries=1,
    )

    made = client.images.generate(
        **BODY, response_format="b64_json", extra_headers={"Idempotency-Key": "sdk-1"}
    )

    (dropped,) = transport.dropped
    assert dropped.status_code == 200
    assert made.data[0].b64_json == dropped.json()["data"][0]["b64_json"]
    assert base64.b64decode(made.data[0].b64_json)
    assert ImageJob.objects.count() == 1
    assert ProviderCall.objects.count() == 1
