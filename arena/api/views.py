"""The OpenAI-compatible images API (/openai/v1/...) and the playground (/playground/).

Any OpenAI client works by pointing its base URL at /openai/v1 with a key from the admin:

    client = OpenAI(base_url="https://arena.example/openai/v1", api_key="ia-...")
    client.images.generate(model="lumen-xl", prompt="A lighthouse", size="1024x1024")

Each request goes through the same gateway as the arena's own images, so it is routed to the
best provider of the model, falls back when one fails, and every attempt lands in the speed
and success figures of the model pages. With workers, the web process never calls a provider:
a request becomes an ImageJob that a generation worker runs while the view waits for its row
to finish. In the embedded default (Celery eager, no worker) a request without an
Idempotency-Key runs its own job instead, and stores it once finished
(services.image_job_run_here).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

import gateway
from arena.api.idempotency import (
    IDEMPOTENCY_HEADER,
    idempotency_key,
    idempotent_job,
    request_fingerprint,
)
from arena.api.jobs import job_body, job_data, job_description, job_error, job_fields
from arena.api.models import ApiKey, ImageJob
from arena.api.params import ApiError, ImageParams, image_params, request_bounds
from arena.api.services import (
    QUEUE_UNAVAILABLE,
    api_images_expire_if_due,
    api_key_check,
    image_job_create,
    image_job_run_here,
    image_job_wait,
    jobs_run_here,
)
from arena.api.streaming import images_stream
from arena.api.webhooks import Later, api_job_create, async_options
from arena.catalog.models import AIModel
from arena.catalog.services import model_routable
from arena.ratelimit import Usage, allowance_take
from arena.visitors import client_ip, visitor_session

PLAYGROUND_SIZES = ("1024x1024", "1536x1024", "1024x1536", "512x512")
PLAYGROUND_FIELDS = ("model", "prompt", "size", "n")
PLAYGROUND_MAX_N = 4

Handler = Callable[..., HttpResponse]


def _error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, round(error.retry_after)))
    if error.should_retry is not None:
        # openai-python _base_client.py `_should_retry` obeys this before anything else
        response["x-should-retry"] = "true" if error.should_retry else "false"
    return response


def api_endpoint(method: str) -> Callable[[Handler], Handler]:
    """Key check, per-key rate limit, and every refusal as an OpenAI-shaped JSON error."""

    def decorate(view: Handler) -> Handler:
        @csrf_exempt  # a bearer key, not a cookie, authenticates these requests
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            usage = None
            try:
                if request.method != method:
                    raise ApiError(405, f"Use {method} for this endpoint.")
                key = request.api_key = _authenticate(request)
                allowance = allowance_take("api", key=str(key.pk))
                usage = allowance.tightest
                if refused := allowance.refused:
                    raise ApiError(
                        429,
                        refused.cap.sentence,
                        code="rate_limit_exceeded",
                        kind="requests",
                        retry_after=refused.retry_after,
                    )
                api_images_expire_if_due()
                response = view(request, *args, **kwargs)
            except ApiError as error:
                response = _error_response(error)
            if usage is not None:
                _rate_limit_headers(response, usage)
            return response

        return wrapped

    return decorate


def _rate_limit_headers(response: HttpResponse, usage: Usage) -> None:
    """OpenAI's request-limit headers, so clients pace themselves before a 429."""
    response["x-ratelimit-limit-requests"] = str(usage.cap.limit)
    response["x-ratelimit-remaining-requests"] = str(usage.remaining)
    response["x-ratelimit-reset-requests"] = _duration(usage.reset_seconds)


def _duration(seconds: int) -> str:
    """Seconds as OpenAI writes a reset time: "1s", "6m0s", "1h2m3s"."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def _authenticate(request: HttpRequest) -> ApiKey:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(
            401,
            "You didn't provide an API key. Send it as 'Authorization: Bearer ia-...'; "
            "staff create keys in the admin.",
        )
    key = api_key_check(presented=presented.strip())
    if key is None:
        raise ApiError(
            401, "Incorrect API key provided, or the key was revoked.", code="invalid_api_key"
        )
    return key


@api_endpoint("GET")
def models_list(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "object": "list",
            "data": [
                _model_object(model)
                for model in AIModel.objects.order_by("slug")
                if model_routable(model.slug)  # only what can be called: keys are configured
            ],
        }
    )


@api_endpoint("GET")
def model_retrieve(request: HttpRequest, model_id: str) -> HttpResponse:
    """`client.models.retrieve(id)`: what the list says of one model, or a 404 in OpenAI's
    shape for an id it does not list."""
    model = AIModel.objects.filter(slug=model_id).first()
    if model is None:
        raise ApiError(
            404,
            f"The model '{model_id}' does not exist. GET /openai/v1/models lists the models "
            "this server can call.",
            param="model",
            code="model_not_found",
        )
    if not model_routable(model.slug):
        raise ApiError(
            404,
            f"The model '{model_id}' is in the catalog, but no provider key for it is set on "
            "this server, so it cannot be called here.",
            param="model",
            code="model_not_found",
        )
    return JsonResponse(_model_object(model))


def _model_object(model: AIModel) -> dict[str, Any]:
    return {
        "id": model.slug,
        "object": "model",
        "created": int(model.created_at.timestamp()),
        "owned_by": model.organization,
        "capabilities": model.capabilities,
    }


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Every other address under /openai/ answers JSON, as an SDK expects, never a page."""
    return _error_response(
        ApiError(
            404,
            f"Unknown endpoint: {request.method} {request.path}. This server answers "
            "/openai/v1/models, /openai/v1/models/<id>, /openai/v1/images/generations, "
            "/openai/v1/images/edits and /openai/v1/images/jobs/<id>.",
            code="unknown_url",
        )
    )


@api_endpoint("POST")
def images_generations(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body or b"null")
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    except RecursionError:
        raise ApiError(400, "The request body is JSON nested too deeply.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    fingerprint = request_fingerprint(request.path, data)
    data, later = async_options(data)
    params = image_params(data, edit=False, bounds=request_bounds(request.headers), typed=True)
    return _images(request, params, edit=False, later=later, fingerprint=fingerprint)


@api_endpoint("POST")
def images_edits(request: HttpRequest) -> HttpResponse:
    try:
        data = request.POST.dict()
        files = {name: request.FILES.getlist(name) for name in request.FILES}
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise ApiError(400, f"The multipart body could not be read: {exc}") from None
    fingerprint = request_fingerprint(request.path, data, files)
    data, later = async_options(data)
    params = image_params(data, files, edit=True, bounds=request_bounds(request.headers))
    return _images(request, params, edit=True, later=later, fingerprint=fingerprint)


def _images(
    request: HttpRequest,
    params: ImageParams,
    *,
    edit: bool,
    later: Later | None,
    fingerprint: str,
) -> HttpResponse:
    """The answer to a checked request: its images (or their events, streamed), or for an
    async one the queued job; a retry with the first request's Idempotency-Key gets the first
    request's answer."""
    if params.partial_images is not None:
        _streamable(request, later)
        return images_stream(params, edit=edit, api_key=request.api_key, outcome=_outcome)
    base_url = request.build_absolute_uri("/")
    key = idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))
    # Run by this request where no worker would: unless a retry may find it (its key is
    # remembered with its stored job) or it is answered later.
    here = later is None and key is None and jobs_run_here()
    create = partial(
        api_job_create,
        request=params.request,
        model=params.model,
        edit=edit,
        api_key_id=request.api_key.pk,
        later=later,
        response_format=params.response_format,
        base_url=base_url,
        output=params.output,
        here=here,
    )
    job, replayed = idempotent_job(
        api_key_id=request.api_key.pk,
        key=key,
        fingerprint=fingerprint,
        create=create,
    )
    if later is not None:
        job.refresh_from_db()  # sent to the queue on commit, which may have refused it
        if job.error_kind == QUEUE_UNAVAILABLE:
            raise job_error(job)
        response = JsonResponse(job_body(job), status=202)
    else:
        job = _outcome(_answer(job, here=here))
        data = job_data(job, response_format=params.response_format, base_url=base_url)
        response = JsonResponse(
            {"created": int(job.created_at.timestamp()), "data": data, **job_fields(job)}
        )
        _describe(response, job)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _streamable(request: HttpRequest, later: Later | None) -> None:
    """A stream is answered while it runs, once: it cannot also be answered later, nor
    replayed to a retry, so those options are refused rather than quietly dropped."""
    if later is not None:
        raise ApiError(
            400,
            "stream answers while the images are made; async and webhook answer later. "
            "Use one or the other.",
            param="stream",
        )
    if request.headers.get(IDEMPOTENCY_HEADER):
        raise ApiError(
            400,
            f"A streamed request cannot be replayed, so it takes no {IDEMPOTENCY_HEADER}. "
            "Send the key without stream to make retries safe.",
            param=IDEMPOTENCY_HEADER,
        )


@api_endpoint("GET")
def image_job_retrieve(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """An async job, to the key that made it: queued, running, succeeded (with its images) or
    failed (with its error)."""
    job = (
        ImageJob.objects.select_related("model", "delivery")
        .filter(pk=job_id, api_key=request.api_key, delivery__isnull=False)
        .first()
    )
    if job is None:
        raise ApiError(
            404,
            f"No image job {job_id} was made with this API key. Jobs are made by a request "
            'with "async": true or a webhook.',
            code="job_not_found",
        )
    response = JsonResponse(job_body(job))
    if job.status == ImageJob.Status.READY:
        _describe(response, job)
    return response


def _run(
    params: ImageParams, *, edit: bool, source: str, api_key: ApiKey | None = None
) -> ImageJob:
    """The finished job, once a worker has made its images; its failure as an ApiError."""
    here = jobs_run_here()
    job = image_job_create(
        request=params.request,
        model=params.model,
        edit=edit,
        source=source,
        api_key_id=api_key.pk if api_key else None,
        output=params.output,
        here=here,
    )
    return _outcome(_answer(job, here=here))


def _answer(job: ImageJob, *, here: bool) -> ImageJob:
    """The job finished: run by this request (and stored once finished), or by a worker."""
    return image_job_run_here(job) if here else image_job_wait(job_id=job.pk)


def _outcome(job: ImageJob) -> ImageJob:
    """The job if it made its images; its failure, or its not finishing in time, as an
    ApiError."""
    if job.status == ImageJob.Status.READY:
        return job
    if not job.finished:
        raise ApiError(
            504,
            "The images were not ready in time: the providers are slow or busy right now. "
            "Try again in a while.",
            code="timeout",
            kind="server_error",
        )
    raise job_error(job)


def _describe(response: HttpResponse, job: ImageJob) -> None:
    """Which provider answered, after how many attempts, at what cost: as headers, so that the
    body stays exactly OpenAI's."""
    for header, value in job_description(job).items():
        response[header] = value


# --- Playground ---------------------------------------------------------------------------


@vary_on_headers("HX-Request")  # the same URL answers a page or, for htmx, a partial
@require_http_methods(["GET", "POST"])
def playground(request: HttpRequest) -> HttpResponse:
    """Try any model without a key, limited per visitor: the same gateway as the API."""
    models = [
        (model, model_routable(model.slug))
        for model in AIModel.objects.order_by("-can_generate", "name")
    ]
    context: dict[str, Any] = {
        "models": sorted(models, key=lambda pair: not pair[1]),  # callable ones first
        "form": request.POST if request.method == "POST" else _preselected(request, models),
        "sizes": PLAYGROUND_SIZES,
        "counts": [str(n) for n in range(1, PLAYGROUND_MAX_N + 1)],
        # The longest any model takes: a shorter prompt limit is the model's to state (a 400).
        "prompt_max": max(
            (spec.max_prompt_chars for spec in gateway.default_catalog().models.values()),
            default=4000,
        ),
    }
    if request.method == "POST":
        context |= _play(request)
    template = "api/playground.html#result" if request.htmx else "api/playground.html"
    return render(request, template, context, status=context.get("status", 200))


def _preselected(request: HttpRequest, models: list[tuple[AIModel, bool]]) -> dict[str, str]:
    """The form as a model page's link opens it: `?model=<id>` chooses that model, and the
    operation it can do, if it is one that can be called; anything else is ignored."""
    slug = request.GET.get("model")
    for model, callable_ in models:
        if callable_ and model.slug == slug:
            return {"model": model.slug, "operation": "generate" if model.can_generate else "edit"}
    return {}


def _play(request: HttpRequest) -> dict[str, Any]:
    edit = request.POST.get("operation") == "edit"
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    started = time.perf_counter()
    api_images_expire_if_due()
    try:
        _playground_allowance(request)
        # Only the form's own fields: anything else would be passed on to the providers.
        fields = {name: request.POST[name] for name in PLAYGROUND_FIELDS if name in request.POST}
        fields["size"] = _playground_size(fields.get("size", PLAYGROUND_SIZES[0]))
        params = image_params(fields, files, edit=edit, max_n=PLAYGROUND_MAX_N)
        job = _run(params, edit=edit, source=ImageJob.Source.PLAYGROUND)
    except ApiError as error:
        return {"error": error.message, "status": error.status}
    return {
        "job": job,
        "urls": [default_storage.url(name) for name in job.images],
        "seconds": time.perf_counter() - started,
    }


def _playground_size(size: str) -> str:
    """Only the sizes the form offers: the playground is for trying, not for large batches."""
    if size not in PLAYGROUND_SIZES:
        raise ApiError(
            400,
            f"The playground makes images of {', '.join(PLAYGROUND_SIZES[:-1])} or "
            f"{PLAYGROUND_SIZES[-1]} pixels; for other sizes, use the API.",
        )
    return size


def _playground_allowance(request: HttpRequest) -> None:
    session, ip = visitor_session(request), client_ip(request)
    if refused := allowance_take("playground", session=session, ip=ip).refused:
        raise ApiError(429, refused.cap.sentence)
