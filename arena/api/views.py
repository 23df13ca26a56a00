"""The OpenAI-compatible images API (/openai/v1/...) and the playground (/playground/).

Any OpenAI client works by pointing its base URL at /openai/v1 with a key from the admin:

    client = OpenAI(base_url="https://arena.example/openai/v1", api_key="ia-...")
    client.images.generate(model="lumen-xl", prompt="A lighthouse", size="1024x1024")

Each request goes through the same gateway as the arena's own images, so it is routed to the
best provider of the model, falls back when one fails, and every attempt lands in the speed
and success figures of the model pages.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

import gateway
from arena.api.models import ApiKey
from arena.api.params import ApiError, ImageParams, image_params
from arena.api.services import api_key_check, images_make, images_save
from arena.battles.limits import client_ip, visitor_session
from arena.catalog.models import AIModel, ProviderCall
from arena.catalog.services import model_routable
from arena.ratelimit import window_count, window_left

# What a failure of the providers means to the caller: (status, code, type).
GATEWAY_ERRORS: dict[gateway.ErrorKind, tuple[int, str | None, str]] = {
    gateway.ErrorKind.UNKNOWN_MODEL: (404, "model_not_found", "invalid_request_error"),
    gateway.ErrorKind.INVALID_REQUEST: (400, None, "invalid_request_error"),
    gateway.ErrorKind.UNSUPPORTED: (400, "unsupported_parameter", "invalid_request_error"),
    gateway.ErrorKind.CONTENT_POLICY: (400, "content_policy_violation", "invalid_request_error"),
    gateway.ErrorKind.NOT_CONFIGURED: (503, "model_not_available", "server_error"),
    gateway.ErrorKind.RATE_LIMITED: (429, "rate_limit_exceeded", "requests"),
}
UPSTREAM_FAILURE = (502, "upstream_error", "server_error")
PLAYGROUND_SIZES = ("1024x1024", "1536x1024", "1024x1536", "512x512")
PLAYGROUND_FIELDS = ("model", "prompt", "size", "n")
PLAYGROUND_MAX_N = 4

Handler = Callable[..., HttpResponse]


def _error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(max(1, round(error.retry_after)))
    return response


def api_endpoint(method: str) -> Callable[[Handler], Handler]:
    """Key check, per-key rate limit, and every refusal as an OpenAI-shaped JSON error."""

    def decorate(view: Handler) -> Handler:
        @csrf_exempt  # a bearer key, not a cookie, authenticates these requests
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method != method:
                    raise ApiError(405, f"Use {method} for this endpoint.")
                key = _authenticate(request)
                limit = settings.ARENA_API_REQUESTS_PER_MINUTE
                if limit > 0 and window_count("api-key", str(key.pk), 60) > limit:
                    raise ApiError(
                        429,
                        f"Rate limit reached: {limit} requests a minute for this key.",
                        code="rate_limit_exceeded",
                        kind="requests",
                        retry_after=window_left(60),
                    )
                return view(request, *args, **kwargs)
            except ApiError as error:
                return _error_response(error)

        return wrapped

    return decorate


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
                {
                    "id": model.slug,
                    "object": "model",
                    "created": int(model.created_at.timestamp()),
                    "owned_by": model.organization,
                    "capabilities": model.capabilities,
                }
                for model in AIModel.objects.order_by("slug")
                if model_routable(model.slug)  # only what can be called: keys are configured
            ],
        }
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
    return _images(request, image_params(data, edit=False), edit=False)


@api_endpoint("POST")
def images_edits(request: HttpRequest) -> HttpResponse:
    try:
        data = request.POST.dict()
        files = {name: request.FILES.getlist(name) for name in request.FILES}
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise ApiError(400, f"The multipart body could not be read: {exc}") from None
    return _images(request, image_params(data, files, edit=True), edit=True)


def _images(request: HttpRequest, params: ImageParams, *, edit: bool) -> HttpResponse:
    result = _run(params, edit=edit, source=ProviderCall.Source.API)
    if params.response_format == "b64_json":
        data = [{"b64_json": base64.b64encode(image).decode()} for image in result.images]
    else:
        names = images_save(images=result.images, folder="api")
        data = [{"url": request.build_absolute_uri(default_storage.url(n))} for n in names]
    response = JsonResponse({"created": int(time.time()), "data": data})
    _describe(response, result)
    return response


def _run(params: ImageParams, *, edit: bool, source: str) -> gateway.ImageResult:
    """The gateway's answer, or its failure as an ApiError."""
    try:
        return images_make(request=params.request, edit=edit, source=source)
    except gateway.GatewayError as exc:
        status, code, kind = GATEWAY_ERRORS.get(exc.kind, UPSTREAM_FAILURE)
        raise ApiError(
            status, exc.message, code=code, kind=kind, retry_after=exc.retry_after
        ) from None


def _describe(response: HttpResponse, result: gateway.ImageResult) -> None:
    """Which provider answered, after how many attempts, at what cost: as headers, so that the
    body stays exactly OpenAI's."""
    cost = sum((attempt.cost for attempt in result.attempts), Decimal("0"))
    response["X-Arena-Provider"] = result.provider
    response["X-Arena-Attempts"] = str(len(result.attempts))
    response["X-Arena-Cost-USD"] = f"{cost:.4f}"
    if result.warnings:
        response["X-Arena-Warnings"] = "; ".join(" ".join(w.split()) for w in result.warnings)


# --- Playground ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def playground(request: HttpRequest) -> HttpResponse:
    """Try any model without a key, limited per visitor: the same gateway as the API."""
    models = [
        (model, model_routable(model.slug))
        for model in AIModel.objects.order_by("-can_generate", "name")
    ]
    context: dict[str, Any] = {
        "models": sorted(models, key=lambda pair: not pair[1]),  # callable ones first
        "nav": "playground",
        "form": request.POST,
        "sizes": PLAYGROUND_SIZES,
        "counts": [str(n) for n in range(1, PLAYGROUND_MAX_N + 1)],
    }
    if request.method == "POST":
        context |= _play(request)
    template = "api/playground.html#result" if request.htmx else "api/playground.html"
    return render(request, template, context, status=context.get("status", 200))


def _play(request: HttpRequest) -> dict[str, Any]:
    edit = request.POST.get("operation") == "edit"
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    started = time.perf_counter()
    try:
        _playground_allowance(request)
        # Only the form's own fields: anything else would be passed on to the providers.
        fields = {name: request.POST[name] for name in PLAYGROUND_FIELDS if name in request.POST}
        params = image_params(fields, files, edit=edit, max_n=PLAYGROUND_MAX_N)
        result = _run(params, edit=edit, source=ProviderCall.Source.PLAYGROUND)
    except ApiError as error:
        return {"error": error.message, "status": error.status}
    names = images_save(images=result.images, folder="playground")
    return {
        "result": result,
        "urls": [default_storage.url(name) for name in names],
        "seconds": time.perf_counter() - started,
        "cost": sum((attempt.cost for attempt in result.attempts), Decimal("0")),
    }


def _playground_allowance(request: HttpRequest) -> None:
    limit = settings.ARENA_PLAYGROUND_PER_HOUR
    for scope, identity in (("session", visitor_session(request)), ("ip", client_ip(request))):
        if identity and limit > 0 and window_count(f"playground-{scope}", identity, 3600) > limit:
            raise ApiError(
                429,
                f"The playground makes at most {limit} requests an hour per visitor. "
                "For more, ask for an API key.",
            )
