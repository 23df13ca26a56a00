"""Asynchronous jobs and their webhooks.

A request with `"async": true`, or with a `webhook` URL, is answered at once (202) with the
job as an `image.job` object; GET /openai/v1/images/jobs/<id> polls it, and once it is done
its JSON is POSTed to the webhook, signed with the API key's webhook secret:

    X-Arena-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">

(Stripe's scheme: the timestamp in the signed text lets a receiver refuse old replays.)

Retries: a receiver that answers anything but 2xx, or not within WEBHOOK_TIMEOUT, is tried
again after 30 s, 1 min, 2 min... (at most an hour apart) until a day after the job finished.
The next attempt's time is a column, and beat sends what is due every
ARENA_WEBHOOK_RETRY_EVERY_SECONDS. A Celery countdown would be simpler, but with Redis as the
broker a message whose countdown is longer than the visibility timeout (an hour) is delivered
again each hour until it runs, and a message lost while the broker is away is gone; a row
outlives both, and its claim (moving the due time forward) keeps two senders apart.

Server-side request forgery: only http(s) URLs to public addresses are taken, checked when
the request comes and again before each attempt (the name may resolve elsewhere by then),
and each attempt connects to the address it checked, so a name that resolves anew between
the check and the connection (DNS rebinding) cannot point it elsewhere; redirects are not
followed. ARENA_WEBHOOK_ALLOW_PRIVATE lifts the address check (tests, the
demo).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import gateway
from arena.api.jobs import job_body
from arena.api.lookups import lookups_changed
from arena.api.models import ApiKey, ImageJob, JobDelivery, webhook_secret_new
from arena.api.outputs import OutputSpec
from arena.api.params import ApiError
from arena.api.services import image_job_create
from arena.catalog.models import AIModel

SIGNATURE_HEADER = "X-Arena-Signature"
WEBHOOK_TIMEOUT = 10.0
FIRST_PAUSE, LONGEST_PAUSE = timedelta(seconds=30), timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=1)
# How long a sender holds an attempt it claimed: past it, a sender that died is replaced.
ATTEMPT_LEASE = timedelta(seconds=WEBHOOK_TIMEOUT * 6)
MAX_URL = 2000
URL_TEXT = re.compile(rf"[\x21-\x7e]{{1,{MAX_URL}}}")  # printable ASCII: an IDN host as punycode
TRUE, FALSE = (True, "true", "1"), (False, "false", "0")


class WebhookRefused(Exception):
    """A webhook URL this server will not call, and why."""


@dataclass(frozen=True)
class Later:
    """A request to be answered at once and finished in the background."""

    webhook: str = ""


def async_options(data: dict[str, Any]) -> tuple[dict[str, Any], Later | None]:
    """The request's parameters without `async` and `webhook` (they are this API's, not the
    providers'), and how to answer it later, or None to answer when done."""
    data = dict(data)
    asked, webhook = data.pop("async", None), data.pop("webhook", None)
    if asked not in (None, *TRUE, *FALSE):
        raise ApiError(400, "async must be true or false.", param="async")
    if webhook is None or webhook == "":
        return data, Later() if asked in TRUE else None
    if not isinstance(webhook, str) or not URL_TEXT.fullmatch(webhook):
        raise ApiError(
            400,
            f"webhook must be a URL of at most {MAX_URL} printable ASCII characters.",
            param="webhook",
        )
    if asked in FALSE:
        raise ApiError(
            400,
            "A webhook is called when an async job is done: drop async: false.",
            param="webhook",
        )
    try:
        webhook_url_check(webhook)
    except WebhookRefused as refused:
        raise ApiError(400, f"webhook: {refused}", param="webhook") from None
    return data, Later(webhook)


def webhook_url_check(url: str) -> str | None:
    """Refuse a URL this server must not call: not http(s), or (unless
    ARENA_WEBHOOK_ALLOW_PRIVATE) a name that resolves to an address that is not public.

    Returns the checked address to connect to (None where addresses are not checked): the
    attempt connects to it rather than resolving the name again, so a name that answers a
    public address to the check and a private one to the connection (DNS rebinding) still
    reaches only the public one."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused("it is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("only http:// and https:// URLs with a host name are called.")
    if settings.ARENA_WEBHOOK_ALLOW_PRIVATE:
        return None
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise WebhookRefused(f"the host {parts.hostname} does not resolve.") from None
    addresses = [_address(str(sockaddr[0])) for *_, sockaddr in found]
    if not addresses or not all(map(address_public, addresses)):
        raise WebhookRefused(
            f"the host {parts.hostname} is a private, loopback or reserved address, "
            "which this server does not call."
        )
    return str(addresses[0])


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def address_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def _pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL to connect to the checked address, with the Host header and the TLS name of
    the original; the URL as it is where no address was checked."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    extensions = {"sni_hostname": parts.hostname or ""} if parts.scheme == "https" else {}
    return (
        parts._replace(netloc=netloc).geturl(),
        {"Host": parts.netloc.rpartition("@")[2]},
        extensions,
    )


def api_job_create(
    *,
    request: gateway.ImageRequest,
    model: AIModel,
    edit: bool,
    api_key_id: int,
    later: Later | None,
    response_format: str,
    base_url: str,
    output: OutputSpec | None = None,
    here: bool = False,
) -> ImageJob:
    """An API request's job, queued (or with `here`, claimed by the request to run itself);
    for one answered later, with how its answer is delivered (`base_url`: where the request
    came, for the images' URLs), stored with it."""
    create = partial(
        image_job_create,
        request=request,
        model=model,
        edit=edit,
        source=ImageJob.Source.API,
        api_key_id=api_key_id,
        output=output,
        here=here,
    )
    if later is None:
        return create()  # one row: no transaction of its own
    with transaction.atomic():
        job = create()
        JobDelivery.objects.create(
            job=job,
            response_format=response_format,
            base_url=base_url,
            webhook=later.webhook,
            webhook_due_at=timezone.now() if later.webhook else None,
        )
    return job


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_deliver(*, job_id: str | uuid.UUID) -> bool | None:
    """One attempt to POST a finished job to its webhook, if one is due: True if the receiver
    took it, False if it is to be tried again or given up, None if none was due."""
    now = timezone.now()
    claimed = (
        JobDelivery.objects.filter(pk=job_id, webhook_due_at__lte=now)
        .filter(job__status__in=[ImageJob.Status.READY, ImageJob.Status.FAILED])
        .update(webhook_due_at=now + ATTEMPT_LEASE, webhook_attempts=F("webhook_attempts") + 1)
    )
    if not claimed:
        return None
    delivery = JobDelivery.objects.select_related("job__model", "job__api_key").get(pk=job_id)
    key = delivery.job.api_key
    error = "The API key was deleted: there is no secret to sign with." if key is None else ""
    if key is not None:
        error = _post(delivery, key)
    if not error:
        JobDelivery.objects.filter(pk=job_id).update(
            webhook_due_at=None, webhook_delivered_at=timezone.now(), webhook_error=""
        )
        return True
    pause = min(FIRST_PAUSE * 2 ** (delivery.webhook_attempts - 1), LONGEST_PAUSE)
    due = timezone.now() + pause
    finished_at = delivery.job.finished_at or now
    JobDelivery.objects.filter(pk=job_id).update(
        webhook_due_at=due if key and due - finished_at < GIVE_UP_AFTER else None,
        webhook_error=error,
    )
    return False


def _post(delivery: JobDelivery, key: ApiKey) -> str:
    """POST the job to the webhook: what went wrong, or "" if the receiver took it."""
    body = json.dumps(job_body(delivery.job)).encode()
    signature = webhook_signature(secret=key.webhook_secret, body=body, timestamp=int(time.time()))
    try:
        url, host, extensions = _pinned(delivery.webhook, webhook_url_check(delivery.webhook))
        with httpx.Client(timeout=WEBHOOK_TIMEOUT) as client:
            response = client.send(
                client.build_request(
                    "POST",
                    url,
                    content=body,
                    headers={
                        **host,
                        "Content-Type": "application/json",
                        "User-Agent": "image-arena-webhooks",
                        SIGNATURE_HEADER: signature,
                        "X-Arena-Job": str(delivery.job_id),
                    },
                    extensions=extensions,
                )
            )
    except WebhookRefused as refused:
        return f"Refused: {refused}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return "" if response.is_success else f"The receiver answered {response.status_code}."


def webhooks_due_send() -> int:
    """Send a delivery task for every webhook attempt that is due; returns how many."""
    from arena.celery import tasks_send

    due = list(
        JobDelivery.objects.filter(webhook_due_at__lte=timezone.now())
        .filter(job__status__in=[ImageJob.Status.READY, ImageJob.Status.FAILED])
        .values_list("pk", flat=True)
    )
    if due:
        tasks_send("arena.api.tasks.webhook_deliver_run", [(str(pk),) for pk in due])
    return len(due)


def api_key_webhook_secret_rotate(*, key_id: int) -> str:
    """A new webhook secret for the key: what is signed from now on is signed with it."""
    secret = webhook_secret_new()
    ApiKey.objects.filter(pk=key_id).update(webhook_secret=secret)
    lookups_changed()
    return secret
