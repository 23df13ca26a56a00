"""Provider webhooks: fal and Replicate call these when a generation's job ends (when
GATEWAY_WEBHOOK_BASE_URL points here). Each call is believed only with its provider's
signature (gateway.webhooks); a verified one sends the generation back to a worker, which
collects the job. Repeats, and jobs that are not a waiting generation's, change nothing."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arena.catalog.services import generation_job_ended
from gateway.webhooks import FAL_JWKS_URL, FalKeys, WebhookRejected, job_id_of, replicate_verify


@csrf_exempt
@require_POST
def fal_webhook(request: HttpRequest) -> HttpResponse:
    return _job_ended(request, "fal", _fal_verify)


@csrf_exempt
@require_POST
def replicate_webhook(request: HttpRequest) -> HttpResponse:
    return _job_ended(request, "replicate", _replicate_verify)


def _job_ended(
    request: HttpRequest, provider: str, verify: Callable[[HttpRequest], None]
) -> HttpResponse:
    try:
        verify(request)
        job_id = job_id_of(provider, request.body)
    except WebhookRejected as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    generation_job_ended(provider=provider, job_id=job_id)
    return HttpResponse(status=204)


def _replicate_verify(request: HttpRequest) -> None:
    if not settings.REPLICATE_WEBHOOK_SECRET:
        raise WebhookRejected(
            "No REPLICATE_WEBHOOK_SECRET is set, so no Replicate webhook can be verified.",
            status=503,
        )
    replicate_verify(
        headers=request.headers, body=request.body, secret=settings.REPLICATE_WEBHOOK_SECRET
    )


def _fal_verify(request: HttpRequest) -> None:
    _fal_keys(settings.FAL_WEBHOOK_JWKS_URL or FAL_JWKS_URL).verify(
        headers=request.headers, body=request.body
    )


@functools.cache
def _fal_keys(url: str) -> FalKeys:
    """One key cache per process (and per URL, which tests change)."""
    return FalKeys(url)
