"""Idempotent requests: an `Idempotency-Key` header makes a retried request get the answer of
the first one, for a day, with no second provider call and no second charge.

A key is remembered per API key with a hash of the request it came with; the same key with
another request is refused (422), as Stripe and OpenAI's own APIs do. The row is claimed with
a unique constraint in the same transaction as the job it points to, so of two concurrent
duplicates one makes the job and the other, blocked on the insert until the first commits,
finds the row and waits on the same job. A first request that failed in a way worth retrying
(a 5xx, a 429) does not hold the key: a retry runs again.

The official `openai` SDK makes up a key for its own retries but never sends it (its
`_idempotency_header` is None, openai/_base_client.py); a caller passes one with
`extra_headers={"Idempotency-Key": ...}` or the client's `default_headers`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from arena.api.jobs import job_error
from arena.api.models import IdempotentRequest, ImageJob
from arena.api.params import ApiError

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_TEXT = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, as Stripe takes
REMEMBERED_FOR = timedelta(hours=24)
# Claims a request may lose in a row to duplicates whose first runs failed and were retried.
CLAIM_TRIES = 3


def idempotency_key(value: str | None) -> str | None:
    """The caller's Idempotency-Key header, checked, or None without one."""
    if value is None:
        return None
    if not KEY_TEXT.fullmatch(value):
        raise ApiError(
            400,
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters without spaces, "
            "such as a UUID.",
            param=IDEMPOTENCY_HEADER,
        )
    return value


def request_fingerprint(
    endpoint: str, data: Mapping[str, Any], files: Mapping[str, list[UploadedFile]] | None = None
) -> str:
    """A hash of what was asked: the endpoint, the parameters, the files' contents (a multipart
    body's own bytes differ at every send, by its boundary)."""
    uploads = {
        name: [_file_hash(upload) for upload in uploads] for name, uploads in (files or {}).items()
    }
    text = json.dumps([endpoint, data, uploads], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_hash(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():  # from the start, wherever a reader left it
        digest.update(chunk)
    upload.seek(0)  # for the next reader
    return digest.hexdigest()


def idempotent_job(
    *,
    api_key_id: int,
    key: str | None,
    fingerprint: str,
    create: Callable[[], ImageJob],
) -> tuple[ImageJob, bool]:
    """The job that answers this request, and whether it is the first request's (a replay).

    Without a key, `create` makes a new job. With one, the job the key was first used for,
    unless that failed in a way worth retrying; `create` runs in the transaction that claims
    the key, so a job is only queued for the request that claimed it.
    """
    if key is None:
        return create(), False
    for _ in range(CLAIM_TRIES):
        remembered = _remembered(api_key_id, key)
        if remembered is not None:
            if remembered.body_hash != fingerprint:
                raise ApiError(
                    422,
                    f"This {IDEMPOTENCY_HEADER} was already used with another request. Use a "
                    "new key for a new request; the same key only retries the same request.",
                    param=IDEMPOTENCY_HEADER,
                    code="idempotency_key_reused",
                )
            if not _worth_retrying(remembered.job):
                return remembered.job, True
            IdempotentRequest.objects.filter(pk=remembered.pk, job_id=remembered.job_id).delete()
        try:
            with transaction.atomic():
                job = create()
                IdempotentRequest.objects.create(
                    api_key_id=api_key_id, key=key, body_hash=fingerprint, job=job
                )
        except IntegrityError:
            continue  # a duplicate claimed it first: answer with its job
        return job, False
    raise ApiError(
        409,
        f"Requests with this {IDEMPOTENCY_HEADER} keep failing and being retried at once. "
        "Try again in a moment.",
        param=IDEMPOTENCY_HEADER,
        kind="server_error",
    )


def _remembered(api_key_id: int, key: str) -> IdempotentRequest | None:
    rows = IdempotentRequest.objects.filter(api_key_id=api_key_id, key=key)
    rows.filter(created_at__lt=timezone.now() - REMEMBERED_FOR).delete()
    return rows.select_related("job__model").first()


def _worth_retrying(job: ImageJob) -> bool:
    if job.status != ImageJob.Status.FAILED:
        return False
    status = job_error(job).status
    return status >= 500 or status == 429


def idempotent_requests_prune() -> int:
    """Forget the keys older than a day; returns how many."""
    cutoff = timezone.now() - REMEMBERED_FOR
    return IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()[0]
