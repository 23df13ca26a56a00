"""Webhook calls are believed only with the provider's signature: Replicate's Standard
Webhooks HMAC with the signing secret, fal's ED25519 signature by a key of its JWKS; a tampered
body, a stale timestamp or a missing header is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pytest_httpserver import HTTPServer

from gateway.webhooks import (
    FalKeys,
    WebhookRejected,
    fal_keys_of,
    fal_verify,
    job_id_of,
    replicate_verify,
)

# The Standard Webhooks specification's own example (also replicate-python's test secret).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
NOW = 1_800_000_000


def replicate_headers(signature: str = SPEC_SIGNATURE, timestamp: int = SPEC_TIMESTAMP) -> dict:
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_replicate_accepts_the_specifications_example_signature() -> None:
    replicate_verify(
        headers=replicate_headers(), body=SPEC_BODY, secret=SECRET, now=SPEC_TIMESTAMP + 10
    )


def test_replicate_accepts_a_matching_signature_among_several() -> None:
    headers = replicate_headers(f"v1,bm90IGl0 {SPEC_SIGNATURE}")
    replicate_verify(headers=headers, body=SPEC_BODY, secret=SECRET, now=SPEC_TIMESTAMP)


def test_replicate_refuses_a_tampered_body() -> None:
    with pytest.raises(WebhookRejected) as caught:
        replicate_verify(
            headers=replicate_headers(),
            body=b'{"test": 2432232315}',
            secret=SECRET,
            now=SPEC_TIMESTAMP,
        )
    assert caught.value.status == 401


def test_replicate_refuses_another_secret() -> None:
    with pytest.raises(WebhookRejected):
        replicate_verify(
            headers=replicate_headers(),
            body=SPEC_BODY,
            secret="whsec_" + base64.b64encode(b"another secret").decode(),
            now=SPEC_TIMESTAMP,
        )


def test_replicate_refuses_an_old_timestamp_even_with_a_valid_signature() -> None:
    with pytest.raises(WebhookRejected) as caught:
        replicate_verify(
            headers=replicate_headers(), body=SPEC_BODY, secret=SECRET, now=SPEC_TIMESTAMP + 301
        )
    assert "five minutes" in caught.value.message


def test_a_call_without_the_signature_headers_is_a_bad_request() -> None:
    with pytest.raises(WebhookRejected) as caught:
        replicate_verify(headers={}, body=SPEC_BODY, secret=SECRET, now=SPEC_TIMESTAMP)
    assert caught.value.status == 400
    assert "webhook-signature" in caught.value.message


KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()


def jwks(*keys: Ed25519PrivateKey) -> dict:
    raw = [k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) for k in keys]
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(r).rstrip(b"=").decode(),
                "kid": f"k{i}",
            }
            for i, r in enumerate(raw)
        ]
    }


def fal_signed(body: bytes, key: Ed25519PrivateKey = KEY, timestamp: int = NOW) -> dict:
    """Headers as fal sends them, signed as its documentation says."""
    message = "\n".join(["req-1", "user-1", str(timestamp), hashlib.sha256(body).hexdigest()])
    return {
        "X-Fal-Webhook-Request-Id": "req-1",
        "X-Fal-Webhook-User-Id": "user-1",
        "X-Fal-Webhook-Timestamp": str(timestamp),
        "X-Fal-Webhook-Signature": key.sign(message.encode()).hex(),
    }


BODY = json.dumps({"request_id": "req-1", "status": "OK", "payload": {}}).encode()


def test_fal_accepts_a_signature_by_any_key_of_its_set() -> None:
    fal_verify(
        headers=fal_signed(BODY), body=BODY, keys=fal_keys_of(jwks(OTHER_KEY, KEY)), now=NOW
    )


def test_fal_refuses_a_tampered_body() -> None:
    with pytest.raises(WebhookRejected) as caught:
        fal_verify(
            headers=fal_signed(BODY), body=BODY + b" ", keys=fal_keys_of(jwks(KEY)), now=NOW
        )
    assert caught.value.status == 401


def test_fal_refuses_a_key_not_in_its_set() -> None:
    with pytest.raises(WebhookRejected):
        fal_verify(
            headers=fal_signed(BODY, OTHER_KEY), body=BODY, keys=fal_keys_of(jwks(KEY)), now=NOW
        )


def test_fal_refuses_an_old_timestamp() -> None:
    headers = fal_signed(BODY, timestamp=NOW - 600)
    with pytest.raises(WebhookRejected):
        fal_verify(headers=headers, body=BODY, keys=fal_keys_of(jwks(KEY)), now=NOW)


def test_fal_keys_are_fetched_again_when_none_matches_but_at_most_once_a_minute(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_ordered_request("/.well-known/jwks.json").respond_with_json(jwks(OTHER_KEY))
    httpserver.expect_ordered_request("/.well-known/jwks.json").respond_with_json(jwks(KEY))
    clock = [0.0]
    signed = fal_signed(BODY, timestamp=int(time.time()))
    with httpx.Client() as client:
        keys = FalKeys(
            httpserver.url_for("/.well-known/jwks.json"), client=client, clock=lambda: clock[0]
        )
        keys.get()  # then fal rotates to KEY
        with pytest.raises(WebhookRejected):
            keys.verify(headers=signed, body=BODY)  # too soon to fetch again
        clock[0] += 61
        keys.verify(headers=signed, body=BODY)
    assert len(httpserver.log) == 2


def test_the_job_is_read_from_each_providers_body() -> None:
    assert job_id_of("fal", BODY) == "req-1"
    assert job_id_of("replicate", b'{"id": "p1", "status": "succeeded"}') == "p1"
    with pytest.raises(WebhookRejected) as caught:
        job_id_of("replicate", b"[]")
    assert caught.value.status == 400
