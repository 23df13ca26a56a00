"""The API's images at their signed URLs (arena.api.outputs.image_url): only the `api/`
folder, only with a valid signature, only until the URL expires."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from arena.api.outputs import FOLDER, MIME_TYPES, signature_valid
from arena.api.params import ApiError


@csrf_exempt
def image_file(request: HttpRequest, name: str) -> HttpResponse:
    """The URL is the credential, as with OpenAI's own image URLs: no key is asked for. An
    altered URL is a 403, an expired one a 410 (and its file is deleted now, if no prune has
    yet)."""
    try:
        response = _image_file(request, name)
    except ApiError as error:
        response = JsonResponse(error.body(), status=error.status)
    return response


def _image_file(request: HttpRequest, name: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        raise ApiError(405, "Use GET to fetch an image.")
    expires_text, signature = request.GET.get("expires", ""), request.GET.get("signature", "")
    expires = int(expires_text) if expires_text.isascii() and expires_text.isdigit() else -1
    if expires < 0 or not signature_valid(name, expires, signature):
        raise ApiError(
            403,
            "This image URL is not valid: it must be used exactly as the API returned it, "
            "with its expires and signature.",
            code="invalid_signature",
        )
    path = f"{FOLDER}/{name}"
    left = expires - time.time()
    if left <= 0:
        default_storage.delete(path)
        raise ApiError(
            410,
            f"This image URL has expired: URLs answer for {settings.ARENA_API_URL_MINUTES} "
            "minutes after the image was made. Ask for the image again, or use "
            "response_format=b64_json to keep it.",
            code="url_expired",
        )
    if not default_storage.exists(path):
        raise ApiError(404, "This image is no longer stored.", code="image_not_found")
    content_type = MIME_TYPES[name.rpartition(".")[2]]
    if settings.ARENA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{settings.ARENA_ACCEL_REDIRECT_PREFIX.rstrip('/')}/{path}"
    else:
        response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    response["Cache-Control"] = f"private, max-age={int(left)}"
    return response
