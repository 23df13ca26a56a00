"""Any OpenAI-compatible images API: `POST {base}/images/generations` and `/images/edits`.

Wire format: tests/gateway/fakes/openai/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import (
    Deadline,
    checked_image,
    decode_base64,
    failure,
    fetch_images,
    image_mime,
    json_of,
    send,
)
from gateway.normalize import ParamMode, ParamRule, ParamTable, nearest_size
from gateway.providers.base import HTTPProvider, ProviderResponse
from gateway.types import ErrorKind, ImageRequest, Operation

# gpt-image models answer a refused prompt with `moderation_blocked`, DALL-E with the other.
POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked"})


class OpenAIProvider(HTTPProvider):
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.PASSTHROUGH, "prompt"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "size",
            "WxH as given, or the nearest of the offering's `sizes` when the catalog lists them",
        ),
        "n": ParamRule(
            ParamMode.PASSTHROUGH,
            "n",
            "up to the offering's max_n_per_call in one request, more by parallel requests",
        ),
        "quality": ParamRule(ParamMode.PASSTHROUGH, "quality"),
        "style": ParamRule(ParamMode.PASSTHROUGH, "style"),
        "response_format": ParamRule(
            ParamMode.EMULATED,
            "",
            "never sent (gpt-image models refuse it); b64_json and url answers both become bytes",
        ),
        "images": ParamRule(ParamMode.CONVERTED, "image[]", "multipart files"),
        "mask": ParamRule(ParamMode.PASSTHROUGH, "mask", "multipart file"),
        "seed": ParamRule(ParamMode.UNSUPPORTED, "", "the Images API takes no seed"),
        "extra": ParamRule(ParamMode.PASSTHROUGH, "", "merged into the request body"),
    }
    default_images_per_call: ClassVar[int] = 10

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        size, warnings = nearest_size(request.size, offering.options.get("sizes", ()))
        fields: dict[str, Any] = {
            "model": offering.provider_model_for(operation),
            "prompt": request.prompt,
            "n": request.n,
        }
        optional = {"size": size, "quality": request.quality, "style": request.style}
        fields.update({name: value for name, value in optional.items() if value is not None})
        fields.update(request.extra)
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if operation is Operation.GENERATE:
            reply = send(
                self.client,
                "POST",
                f"{self.base_url}/images/generations",
                deadline,
                json=fields,
                headers=headers,
            )
        else:
            reply = send(
                self.client,
                "POST",
                f"{self.base_url}/images/edits",
                deadline,
                data={name: str(value) for name, value in fields.items()},
                files=_files(request),
                headers=headers,
            )
        response = reply.response
        if response.is_error:
            raise _error(response)
        items = json_of(response).get("data") or []
        if not items:
            raise ProviderError(
                ErrorKind.EMPTY, "The answer had no images in `data`.", http_status=200
            )
        images = [
            checked_image(decode_base64(item["b64_json"], "b64_json"), "b64_json")
            for item in items
            if item.get("b64_json")
        ]
        images += fetch_images(
            self.client,
            [item["url"] for item in items if not item.get("b64_json") and item.get("url")],
            deadline,
        )
        return ProviderResponse(
            images=images,
            http_status=response.status_code,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            request_id=response.headers.get("x-request-id", ""),
        )


def _files(request: ImageRequest) -> list[tuple[str, tuple[str, bytes, str]]]:
    files = [_file("image[]", f"image-{index}", data) for index, data in enumerate(request.images)]
    if request.mask is not None:
        files.append(_file("mask", "mask", request.mask))
    return files


def _file(field: str, stem: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    mime = image_mime(data) or "image/png"
    return field, (f"{stem}.{mime.rpartition('/')[2]}", data, mime)


def _error(response: httpx.Response) -> ProviderError:
    try:
        error = response.json()["error"]
        message, code = str(error.get("message") or ""), error.get("code")
    except (ValueError, KeyError, TypeError, AttributeError):
        message, code = response.text[:300], None
    kind = ErrorKind.CONTENT_POLICY if code in POLICY_CODES else None
    # Out of credit comes as a 429 like a rate limit, told apart by its code
    # (platform.openai.com/docs/guides/error-codes: "You exceeded your current quota").
    if code == "insufficient_quota":
        kind = ErrorKind.QUOTA_EXHAUSTED
    return failure(response, f"OpenAI HTTP {response.status_code}: {message}", kind)
