"""How large a request body may be, per path, checked before anything reads it.

The declared Content-Length is compared with the limit of the path (the first prefix in
LIMITS that matches); a larger body is refused with 413 and a sentence (JSON in OpenAI's shape
under /openai/), before CSRF, sessions or a key check, so nothing of it is read or written to
disk. Django reads no more than the declared length, so this bounds what is read. A chunked
body without a Content-Length is refused with 411: Django would read it as empty.
deploy/nginx.conf sets client_max_body_size to the same figures.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from arena.catalog.importing import MAX_ZIP_IMPORT_BYTES
from arena.catalog.uploads import MAX_BYTES as MAX_IMAGE_BYTES

MB = 1024 * 1024
MARGIN = MB  # multipart boundaries, form fields
# An edit: up to three images and a mask, each at most MAX_IMAGE_BYTES.
IMAGES_BODY = 4 * MAX_IMAGE_BYTES + MARGIN

# (path prefix, largest body in bytes): the first prefix that matches decides.
LIMITS: tuple[tuple[str, int], ...] = (
    ("/openai/v1/images/edits", IMAGES_BODY),
    ("/playground/", IMAGES_BODY),
    ("/admin/catalog/prompt/import/", MAX_ZIP_IMPORT_BYTES + MARGIN),
    ("/admin/", MAX_IMAGE_BYTES + MARGIN),  # a prompt's source image
    ("/", MB),  # JSON requests, votes, everything else
)


def body_limit_for(path: str) -> int:
    return next(limit for prefix, limit in LIMITS if path.startswith(prefix))


Handler = Callable[[HttpRequest], HttpResponse]


def body_limit_middleware(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        limit = body_limit_for(request.path_info)
        declared = (request.META.get("CONTENT_LENGTH") or "").strip()
        if declared.isascii() and declared.isdigit():  # Django reads anything else as 0
            if len(declared) > 15 or int(declared) > limit:
                return _refused(
                    request,
                    413,
                    f"The request body is {_megabytes(declared)}; "
                    f"the limit here is {limit / MB:,.0f} MB.",
                    code="request_too_large",
                )
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _refused(
                request, 411, "Send the request body with a Content-Length header.", code=None
            )
        return get_response(request)

    return middleware


def _megabytes(declared: str) -> str:
    return f"{int(declared) / MB:,.1f} MB" if len(declared) <= 15 else "beyond any limit"


def _refused(request: HttpRequest, status: int, message: str, *, code: str | None) -> HttpResponse:
    response: HttpResponse
    if request.path_info.startswith("/openai/"):
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
        response = JsonResponse({"error": error}, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Connection"] = "close"  # the unread body must not be taken for the next request
    return response
