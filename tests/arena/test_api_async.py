"""Async jobs: answered at once, polled at /openai/v1/images/jobs/<id>, and POSTed when done to a
webhook signed with the key's secret, retried until the receiver takes it."""

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
from datetime import timedelta

import openai
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from werkzeug import Response

from arena.api import services, webhooks
from arena.api.models import ApiKey, ImageJob, JobDelivery
from arena.api.params import ApiError
from arena.api.services import api_key_create, image_job_images
from arena.api.tasks import image_job_run, webhooks_due_send_run
from arena.api.webhooks import async_options, webhook_deliver
from arena.catalog.services import catalog_sync
from tests.arena.helpers import use_local_gateway

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
BODY = {"model": "prism-2", "prompt": "A blue cube", "size": "256x256"}


@pytest.fixture
def held(monkeypatch):
    """Jobs stay queued until the test runs them, as they do until a worker takes them."""
    monkeypatch.setattr(services, "_enqueue", lambda job_id: None)


def post(key, body):
    return Client().post(
        GENERATIONS,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def poll(key, job_id):
    return Client().get(
        f"/openai/v1/images/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}
    )


def verified(request, secret):
    """What a receiver does (README): check the signature over "<t>.<body>"."""
    fields = dict(part.split("=", 1) for part in request.headers["X-Arena-Signature"].split(","))
    signed = f"{fields['t']}.".encode() + request.get_data()
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_async_request_is_answered_at_once_and_polled_until_it_succeeds(key, held):
    queued = post(key, {**BODY, "async": True, "response_format": "b64_json"})
    job_id = queued.json()["id"]
    before = poll(key, job_id)
    image_job_run(job_id)
    done = poll(key, job_id)

    assert queued.status_code == 202
    assert queued.json()["object"] == "image.job"
    assert queued.json()["status"] == before.json()["status"] == "queued"
    assert "data" not in before.json()
    assert done.status_code == 200
    assert done.json()["status"] == "succeeded"
    (row,) = done.json()["data"]
    job = ImageJob.objects.get(pk=job_id)
    assert base64.b64decode(row["b64_json"]) == image_job_images(job=job)[0]
    assert done["X-Arena-Provider"] == "local"


def test_a_polled_job_gives_urls_when_asked_for_them(key, held):
    job_id = post(key, {**BODY, "async": "true"}).json()["id"]
    image_job_run(job_id)

    (row,) = poll(key, job_id).json()["data"]

    assert row["url"].startswith("http://testserver/openai/v1/files/images/")
    served = Client().get(row["url"].removeprefix("http://testserver"))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"


def test_a_failed_job_is_polled_with_openais_error(key, held):
    use_local_gateway(fail_rates={"prism-2": 1.0})
    job_id = post(key, {**BODY, "async": True}).json()["id"]
    image_job_run(job_id)

    failed = poll(key, job_id).json()

    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "upstream_error"
    assert failed["error"]["type"] == "server_error"
    assert "data" not in failed


def test_a_job_is_polled_only_with_the_key_that_made_it(key, held):
    job_id = post(key, {**BODY, "async": True}).json()["id"]
    other = api_key_create(name="other")[1]
    post(key, BODY)  # a synchronous job's id is never given out, and is not polled
    synchronous = ImageJob.objects.exclude(pk=job_id).get().pk

    for response in (poll(other, job_id), poll(key, synchronous), poll(key, "nope")):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"async": "maybe"}, "async"),
        ({"webhook": "file:///etc/passwd"}, "webhook"),
        ({"webhook": "ftp://example.com/hook"}, "webhook"),
        ({"webhook": "http://"}, "webhook"),
        ({"webhook": "http://example.com:99999/"}, "webhook"),
        ({"webhook": 5}, "webhook"),
        ({"webhook": "http://a\u0000b/hook"}, "webhook"),
        ({"webhook": "http://" + "a" * 2000}, "webhook"),
        ({"webhook": "http://127.0.0.1:9/hook", "async": False}, "webhook"),
    ],
)
def test_bad_async_options_are_refused(key, extra, param):
    response = post(key, {**BODY, **extra})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not ImageJob.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://192.168.0.1/",
    ],
)
def test_webhooks_to_private_addresses_are_refused_in_production(key, settings, url):
    settings.ARENA_WEBHOOK_ALLOW_PRIVATE = False

    response = post(key, {**BODY, "webhook": url})

    assert response.status_code == 400
    assert "private" in response.json()["error"]["message"]
    assert not ImageJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_sdk_gets_a_job_whose_webhook_arrives_signed(live_server, httpserver):
    catalog_sync()
    client = openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1", api_key=api_key_create(name="sdk")[1]
    )
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks")

    queued = client.images.with_raw_response.generate(
        **BODY, extra_body={"webhook": httpserver.url_for("/hook")}
    )
    job_id = queued.http_response.json()["id"]
    polled = client.get(f"/images/jobs/{job_id}", cast_to=object)

    assert queued.status_code == 202
    ((request, _),) = httpserver.log
    assert verified(request, ApiKey.objects.get().webhook_secret)
    assert request.headers["X-Arena-Job"] == job_id
    assert json.loads(request.get_data()) == polled
    assert polled["status"] == "succeeded"
    assert polled["data"][0]["url"].startswith(f"{live_server.url}/openai/v1/files/images/")
    delivery = JobDelivery.objects.get()
    assert delivery.webhook_delivered_at is not None
    assert delivery.webhook_due_at is None
    assert delivery.webhook_attempts == 1


def test_a_refused_webhook_is_retried_later_with_a_growing_pause(key, held, httpserver):
    answers = iter([500, 503, 200])
    httpserver.expect_request("/hook").respond_with_handler(
        lambda request: Response("", status=next(answers))
    )
    job_id = post(key, {**BODY, "webhook": httpserver.url_for("/hook")}).json()["id"]

    image_job_run(job_id)
    first = JobDelivery.objects.get()
    JobDelivery.objects.update(webhook_due_at=timezone.now())  # as if the pause had passed
    webhooks_due_send_run()
    second = JobDelivery.objects.get()
    JobDelivery.objects.update(webhook_due_at=timezone.now())
    webhooks_due_send_run()
    third = JobDelivery.objects.get()

    assert first.webhook_error == "The receiver answered 500."
    assert second.webhook_error == "The receiver answered 503."
    # Due 30 s after the first attempt, 60 s after the second (each measured from a bit later).
    assert timedelta(seconds=20) < first.webhook_due_at - timezone.now() <= timedelta(seconds=30)
    assert timedelta(seconds=50) < second.webhook_due_at - timezone.now() <= timedelta(seconds=60)
    assert third.webhook_delivered_at is not None
    assert third.webhook_attempts == 3
    assert len(httpserver.log) == 3
    assert all(
        verified(request, ApiKey.objects.get().webhook_secret) for request, _ in httpserver.log
    )


def test_an_unreachable_receiver_is_retried_and_given_up_after_a_day(key, held):
    job_id = post(key, {**BODY, "webhook": f"http://127.0.0.1:{free_port()}/hook"}).json()["id"]

    image_job_run(job_id)
    retried = JobDelivery.objects.get()
    ImageJob.objects.update(finished_at=timezone.now() - timedelta(hours=23, minutes=59))
    JobDelivery.objects.update(webhook_due_at=timezone.now())
    webhook_deliver(job_id=job_id)
    given_up = JobDelivery.objects.get()

    assert retried.webhook_due_at is not None
    assert "ConnectError" in retried.webhook_error
    assert given_up.webhook_due_at is None
    assert given_up.webhook_delivered_at is None


def test_a_webhook_not_yet_due_or_of_an_unfinished_job_is_not_sent(key, held, httpserver):
    job_id = post(key, {**BODY, "webhook": httpserver.url_for("/hook")}).json()["id"]

    unfinished = webhook_deliver(job_id=job_id)
    image_job_run(job_id)
    again = webhook_deliver(job_id=job_id)  # already taken on the job's run

    assert unfinished is None
    assert again is None
    assert len(httpserver.log) == 1


def test_a_name_that_resolves_elsewhere_by_delivery_time_is_not_called(
    key, held, settings, httpserver
):
    job_id = post(key, {**BODY, "webhook": httpserver.url_for("/hook")}).json()["id"]
    settings.ARENA_WEBHOOK_ALLOW_PRIVATE = False

    image_job_run(job_id)

    assert "private" in JobDelivery.objects.get().webhook_error
    assert not httpserver.log


def test_a_name_that_rebinds_between_the_check_and_the_connection_reaches_the_checked_address(
    key, held, settings, httpserver, monkeypatch
):
    """DNS rebinding: the name answers the check with an address it may call, and anything
    after with one it may not. The attempt connects to the address it checked, as the name."""
    port = httpserver.port
    job_id = post(key, {**BODY, "webhook": f"http://hooks.example:{port}/hook"}).json()["id"]
    settings.ARENA_WEBHOOK_ALLOW_PRIVATE = False
    # The receiver listens on loopback: here, for this test, loopback counts as public.
    monkeypatch.setattr(
        webhooks, "address_public", lambda address: address == ipaddress.ip_address("127.0.0.1")
    )
    lookups = []  # the name's answers: first the checked address, then one nothing listens on
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "hooks.example":
            return real(host, *args, **kwargs)
        lookups.append("127.0.0.1" if not lookups else "10.255.255.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (lookups[-1], port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    httpserver.expect_request("/hook", method="POST").respond_with_data("taken")

    delivered = image_job_run(job_id)

    assert delivered is None  # the task returns nothing; the row says how it went
    assert JobDelivery.objects.get().webhook_delivered_at is not None
    ((request, _),) = httpserver.log
    assert request.headers["Host"] == f"hooks.example:{port}"
    assert lookups == ["127.0.0.1"]  # the name was resolved once, by the check


def test_the_admin_shows_a_keys_webhook_secret_and_rotates_it(key):
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("staff", "s@x.org", "pw"))
    api_key = ApiKey.objects.get()
    secret = api_key.webhook_secret

    page = admin.get(f"/admin/api/apikey/{api_key.pk}/change/")
    admin.post(
        "/admin/api/apikey/",
        {"action": "rotate_webhook_secret", "_selected_action": [api_key.pk]},
    )

    assert secret.startswith("whsec_")
    assert secret in page.content.decode()
    api_key.refresh_from_db()
    assert api_key.webhook_secret != secret


def test_every_key_has_its_own_webhook_secret():
    secrets = {api_key_create(name=f"key {n}")[0].webhook_secret for n in range(3)}

    assert len(secrets) == 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


@given(asked=json_values, webhook=json_values | st.text().map(lambda text: f"http://{text}"))
def test_any_async_options_are_taken_or_refused_with_a_400(asked, webhook):
    try:
        outcome = async_options({"prompt": "x", "async": asked, "webhook": webhook})
    except ApiError as error:
        outcome = error
    if isinstance(outcome, ApiError):
        assert outcome.status == 400
        assert outcome.param in ("async", "webhook")
    else:
        data, later = outcome
        assert data == {"prompt": "x"}
        assert later is None or later.webhook in ("", webhook)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_generation_queue_runs_the_job_and_sends_its_webhook(
    key, worker, httpserver
):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("thanks")

    with httpserver.wait(raise_assertions=True, timeout=60):
        queued = post(key, {**BODY, "webhook": httpserver.url_for("/hook")})
    done = poll(key, queued.json()["id"])

    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"  # answered as it was made: no work on the web
    ((request, _),) = httpserver.log
    assert verified(request, ApiKey.objects.get().webhook_secret)
    assert json.loads(request.get_data())["status"] == done.json()["status"] == "succeeded"
