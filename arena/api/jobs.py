"""What the caller of a job is told: its images as OpenAI's `data`, its failure as OpenAI's
error, and, for an asynchronous job, the whole job as an `image.job` object (what polling
answers and what a webhook receives)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urljoin

import gateway
from arena.api.models import ImageJob
from arena.api.outputs import image_url, response_fields
from arena.api.params import ApiError
from arena.api.services import INTERNAL_ERROR, QUEUE_UNAVAILABLE, image_job_images

# What a failure of the providers means to the caller: (status, code, type).
GATEWAY_ERRORS: dict[gateway.ErrorKind, tuple[int, str | None, str]] = {
    gateway.ErrorKind.UNKNOWN_MODEL: (404, "model_not_found", "invalid_request_error"),
    gateway.ErrorKind.INVALID_REQUEST: (400, None, "invalid_request_error"),
    gateway.ErrorKind.UNSUPPORTED: (400, "unsupported_parameter", "invalid_request_error"),
    # What OpenAI's image models answer to a prompt their moderation refuses.
    gateway.ErrorKind.CONTENT_POLICY: (400, "moderation_blocked", "image_generation_user_error"),
    gateway.ErrorKind.NOT_CONFIGURED: (503, "model_not_available", "server_error"),
    # Every provider resting, or rate limiting us: not the caller's own rate limit (a 429
    # would tell the SDK so), but the service's, for as long as Retry-After says.
    gateway.ErrorKind.RATE_LIMITED: (503, "providers_unavailable", "server_error"),
    gateway.ErrorKind.QUOTA_EXHAUSTED: (503, "provider_quota_exhausted", "server_error"),
}
# Failures a retry of the same request cannot mend: the SDK is told not to retry them.
NEVER_RETRY = frozenset({gateway.ErrorKind.NOT_CONFIGURED})
# The providers' own words about their billing are not the caller's business.
OUT_OF_CREDIT = (
    "This model's providers are out of credit right now; the operators have been told. "
    "Try again later, or another model."
)
UPSTREAM_FAILURE = (502, "upstream_error", "server_error")
# A job's status as the API names it: OpenAI's words for a background response's.
JOB_STATUSES = {
    ImageJob.Status.QUEUED: "queued",
    ImageJob.Status.RUNNING: "running",
    ImageJob.Status.READY: "succeeded",
    ImageJob.Status.FAILED: "failed",
}


def job_error(job: ImageJob) -> ApiError:
    """A failed job's failure, as the caller is told it."""
    if job.error_kind == INTERNAL_ERROR:
        return ApiError(500, job.error, kind="server_error")
    if job.error_kind == QUEUE_UNAVAILABLE:
        return ApiError(
            503,
            job.error,
            code="service_unavailable",
            kind="server_error",
            retry_after=job.retry_after,
        )
    status, code, kind = GATEWAY_ERRORS.get(job.error_kind, UPSTREAM_FAILURE)
    message = OUT_OF_CREDIT if job.error_kind == gateway.ErrorKind.QUOTA_EXHAUSTED else job.error
    return ApiError(
        status,
        message,
        code=code,
        kind=kind,
        retry_after=job.retry_after,
        should_retry=False if job.error_kind in NEVER_RETRY else None,
    )


def job_data(job: ImageJob, *, response_format: str, base_url: str) -> list[dict[str, str]]:
    """A ready job's images as OpenAI's `data`: inline, or as URLs on the site at `base_url`
    (a storage that serves its own absolute URLs keeps them), each with the prompt its
    provider drew it from where the provider rewrote it (`revised_prompt`, openai-python
    src/openai/types/image.py)."""
    if response_format == "b64_json":
        items = [
            {"b64_json": base64.b64encode(image).decode()} for image in image_job_images(job=job)
        ]
    else:
        made_at = job.finished_at or job.created_at
        items = [
            {"url": urljoin(base_url, image_url(name, made_at=made_at))} for name in job.images
        ]
    for item, revised in zip(items, _revised_prompts(job, len(items)), strict=False):
        item["revised_prompt"] = revised
    return items


def _revised_prompts(job: ImageJob, images: int) -> list[str]:
    """The rewritten prompt of each image: one per image, or the one of them all when the
    providers rewrote the prompt once; none when they cannot be told apart."""
    revised = job.revised_prompts
    if len(revised) == images:
        return revised
    if len(set(revised)) == 1:
        return revised[:1] * images
    return []


def job_description(job: ImageJob) -> dict[str, str]:
    """Which provider made a ready job's images, after how many attempts, at what cost, what
    was changed on the way, and what the providers told of the images: the X-Arena headers of
    its answer (outside OpenAI's body)."""
    described = {
        "X-Arena-Provider": job.provider,
        "X-Arena-Attempts": str(job.attempts),
        "X-Arena-Cost-USD": f"{job.cost:.4f}",
    }
    # What the providers told about the images besides: the seeds they drew with (to draw
    # the same again) and what their safety checks flagged.
    listed = {
        "X-Arena-Warnings": job.warnings,
        "X-Arena-Seed": [str(seed) for seed in job.seeds],
        "X-Arena-Safety-Flags": job.safety_flags,
    }
    for header, values in listed.items():
        if values:
            described[header] = "; ".join(" ".join(value.split()) for value in values)
    return described


def job_fields(job: ImageJob) -> dict[str, Any]:
    """What a ready job's answer says besides `created` and `data`, as gpt-image does."""
    return response_fields(served=job.served, quality=job.quality, tokens=job.tokens)


def job_body(job: ImageJob) -> dict[str, Any]:
    """An asynchronous job as an `image.job` object: its images once it succeeded, its error
    (OpenAI's shape) once it failed."""
    body: dict[str, Any] = {
        "id": str(job.pk),
        "object": "image.job",
        "created": int(job.created_at.timestamp()),
        "model": job.model.slug,
        "status": JOB_STATUSES[ImageJob.Status(job.status)],
    }
    if job.status == ImageJob.Status.READY:
        delivery = job.delivery
        body["data"] = job_data(
            job, response_format=delivery.response_format, base_url=delivery.base_url
        )
        body |= job_fields(job)
    elif job.status == ImageJob.Status.FAILED:
        body |= job_error(job).body()
    return body
