"""Checking that a webhook call comes from the provider, as each documents its signature.

Replicate signs as Standard Webhooks do (replicate.com/docs/topics/webhooks/verify-webhook;
replicate-python's replicate/webhook.py `validate`): HMAC-SHA256, keyed with the base64 part of
the `whsec_...` signing secret, over `{webhook-id}.{webhook-timestamp}.{body}`, sent base64 in
`webhook-signature` as space-separated `v1,<signature>` entries. fal signs with ED25519
(fal.ai/docs/model-endpoints/webhooks, "Verifying Your Webhook"): over the lines request id,
user id, timestamp and the body's SHA-256 hex digest, sent hex in `X-Fal-Webhook-Signature`,
checked against any key of its JWKS. Both bound the timestamp to five minutes of our clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TOLERANCE_SECONDS = 300
FAL_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
# fal rotates its keys rarely; a day's cache is what its documentation's example keeps.
FAL_JWKS_TTL_SECONDS = 24 * 3600
# A signature no key matches fetches the set again, but not more often than this: forged calls
# must not make us hammer fal's JWKS.
FAL_JWKS_REFRESH_SECONDS = 60


class WebhookRejected(Exception):
    """A webhook call that is not provably the provider's: `status` 400 for a malformed call,
    401 for a signature that does not hold or a timestamp out of bounds."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def replicate_verify(
    *, headers: Mapping[str, str], body: bytes, secret: str, now: float | None = None
) -> None:
    """Raise WebhookRejected unless Replicate signed this call with `secret`."""
    webhook_id, timestamp, signatures = _headers(
        headers, "webhook-id", "webhook-timestamp", "webhook-signature"
    )
    _fresh(timestamp, now)
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise WebhookRejected("The Replicate webhook secret is not a whsec_ key.") from None
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [entry.partition(",")[2] for entry in signatures.split() if entry.startswith("v1,")]
    if not any(hmac.compare_digest(expected, signature) for signature in given):
        raise WebhookRejected("The webhook signature does not match its body.")


def fal_verify(
    *,
    headers: Mapping[str, str],
    body: bytes,
    keys: list[Ed25519PublicKey],
    now: float | None = None,
) -> None:
    """Raise WebhookRejected unless one of fal's `keys` signed this call."""
    request_id, user_id, timestamp, signature = _headers(
        headers,
        "x-fal-webhook-request-id",
        "x-fal-webhook-user-id",
        "x-fal-webhook-timestamp",
        "x-fal-webhook-signature",
    )
    _fresh(timestamp, now)
    try:
        signed = bytes.fromhex(signature)
    except ValueError:
        raise WebhookRejected("The webhook signature is not hex.", status=400) from None
    message = "\n".join(
        [request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]
    ).encode()
    for key in keys:
        try:
            key.verify(signed, message)
        except InvalidSignature:
            continue
        return
    raise WebhookRejected("The webhook signature does not match its body.")


def fal_keys_of(jwks: Mapping[str, Any]) -> list[Ed25519PublicKey]:
    """The ED25519 keys of a JWKS document (`x`: the raw key, base64url without padding)."""
    keys = []
    for entry in jwks.get("keys") or []:
        if not isinstance(entry, dict) or entry.get("crv") != "Ed25519":
            continue
        raw = str(entry.get("x", ""))
        padded = raw + "=" * (-len(raw) % 4)
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(padded)))
        except (ValueError, binascii.Error):
            continue
    return keys


class FalKeys:
    """fal's public keys, fetched from its JWKS URL and kept for a day; fetched again when a
    signature matches none of them (fal may have rotated), at most once a minute."""

    def __init__(
        self,
        url: str = FAL_JWKS_URL,
        *,
        client: httpx.Client | None = None,
        ttl: float = FAL_JWKS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=10)
        self.ttl = ttl
        self.clock = clock
        self._keys: list[Ed25519PublicKey] = []
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def get(self, *, refresh: bool = False) -> list[Ed25519PublicKey]:
        with self._lock:
            age = self.clock() - self._fetched
            if age > self.ttl or (refresh and age > FAL_JWKS_REFRESH_SECONDS):
                try:
                    response = self.client.get(self.url)
                    response.raise_for_status()
                    self._keys = fal_keys_of(response.json())
                except (httpx.HTTPError, ValueError) as exc:
                    if not self._keys:
                        raise WebhookRejected(
                            f"fal's keys could not be fetched from {self.url}: {exc}", status=503
                        ) from None
                self._fetched = self.clock()
            return list(self._keys)

    def verify(self, *, headers: Mapping[str, str], body: bytes) -> None:
        try:
            fal_verify(headers=headers, body=body, keys=self.get())
        except WebhookRejected as exc:
            if exc.status != 401:
                raise
            fal_verify(headers=headers, body=body, keys=self.get(refresh=True))


def job_id_of(provider: str, body: bytes) -> str:
    """The job a verified webhook call is about: fal's `request_id`, Replicate's prediction
    `id` (its body is the prediction)."""
    try:
        payload = json.loads(body)
        job_id = payload["request_id" if provider == "fal" else "id"]
    except (ValueError, TypeError, KeyError):
        raise WebhookRejected("The webhook body names no job.", status=400) from None
    if not isinstance(job_id, str) or not job_id:
        raise WebhookRejected("The webhook body names no job.", status=400)
    return job_id


def _headers(headers: Mapping[str, str], *names: str) -> list[str]:
    lowered = {key.lower(): value for key, value in headers.items()}
    missing = [name for name in names if not lowered.get(name)]
    if missing:
        raise WebhookRejected(
            f"The webhook call lacks the {', '.join(missing)} header(s).", status=400
        )
    return [lowered[name] for name in names]


def _fresh(timestamp: str, now: float | None) -> None:
    try:
        sent = int(timestamp)
    except ValueError:
        raise WebhookRejected("The webhook timestamp is not a number.", status=400) from None
    if abs((time.time() if now is None else now) - sent) > TOLERANCE_SECONDS:
        raise WebhookRejected("The webhook timestamp is more than five minutes off our clock.")
