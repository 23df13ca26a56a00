"""Any OpenAI-compatible images API: `POST {base}/images/generations` and `/images/edits`.

Wire format: tests/gateway/fakes/openai/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import json
from decimal import Decimal
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
    server_sent_events,
    streamed,
)
from gateway.normalize import ParamMode, ParamRule, ParamTable, Shapes, nearest_size
from gateway.providers.base import HTTPProvider, ProviderResponse
from gateway.types import ErrorKind, ImageRequest, Operation, PartialImages

# gpt-image models answer a refused prompt with `moderation_blocked`, DALL-E with the other.
POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
# The Images API's own options besides the gateway's (platform.openai.com/docs/api-reference/
# images/create; openai-python src/openai/resources/images.py `generate` and `edit`), which an
# OpenAI-compatible caller sends at the top level. Streaming (`stream`, `partial_images`) is
# the gateway's to ask for, when its caller wants partial images (run_streamed).
EXTRA_PARAMS = frozenset(
    {"background", "moderation", "output_compression", "output_format", "input_fidelity"}
)


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
        "quality": ParamRule(
            ParamMode.CONVERTED,
            "quality",
            "as given, or the nearest of the offering's `qualities` when the catalog lists them",
        ),
        "style": ParamRule(ParamMode.PASSTHROUGH, "style"),
        "response_format": ParamRule(
            ParamMode.EMULATED,
            "",
            "never sent (gpt-image models refuse it); b64_json and url answers both become bytes",
        ),
        "images": ParamRule(ParamMode.CONVERTED, "image[]", "multipart files"),
        "mask": ParamRule(ParamMode.PASSTHROUGH, "mask", "multipart file"),
        "seed": ParamRule(ParamMode.UNSUPPORTED, "", "the Images API takes no seed"),
        "extra": ParamRule(
            ParamMode.PASSTHROUGH,
            "",
            "merged into the request body: the options under `openai`, and at the top level "
            + ", ".join(sorted(EXTRA_PARAMS)),
        ),
    }
    extra_params: ClassVar[frozenset[str]] = EXTRA_PARAMS
    default_images_per_call: ClassVar[int] = 10

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        return Shapes(sizes=tuple(offering.options.get("sizes", ())))

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        fields, warnings = request_fields(offering, request, operation)
        url, arguments = self._body(fields, request, operation)
        reply = send(self.client, "POST", url, deadline, **arguments)
        response = reply.response
        if response.is_error:
            raise _error(response)
        body = json_of(response)
        items = body.get("data") or []
        if not items:
            raise ProviderError(
                ErrorKind.EMPTY, "The answer had no images in `data`.", http_status=200
            )
        images = response_images(body)
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
            cost=usage_cost(offering, body.get("usage")),
            tokens=usage_tokens(body.get("usage")),
            revised_prompts=tuple(
                item["revised_prompt"] for item in items if item.get("revised_prompt")
            ),
            request_id=response.headers.get("x-request-id", ""),
        )

    def _body(
        self, fields: dict[str, Any], request: ImageRequest, operation: Operation
    ) -> tuple[str, dict[str, Any]]:
        """The URL and the httpx arguments of one images request: JSON for a generation,
        multipart for an edit."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        if operation is Operation.GENERATE:
            return f"{self.base_url}/images/generations", {"json": fields, "headers": headers}
        return f"{self.base_url}/images/edits", {
            "data": {name: _form_value(value) for name, value in fields.items()},
            "files": _files(request),
            "headers": headers,
        }

    def streams(self, offering: OfferingSpec, request: ImageRequest) -> bool:
        """gpt-image models stream one image with its partials (the catalog's `streams`);
        a request for several is made whole, as the partial events do not say which image
        they belong to."""
        return bool(offering.options.get("streams")) and request.n == 1

    def run_streamed(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
        partials: PartialImages,
    ) -> ProviderResponse:
        """The image as OpenAI streams it, its partial images passed on as they arrive.

        With `"stream": true` and `partial_images` the answer is server-sent events:
        `image_generation.partial_image` (or `image_edit.partial_image`) with `b64_json` and
        `partial_image_index`, then `image_generation.completed` (`image_edit.completed`) with
        the final `b64_json` and `usage` (platform.openai.com/docs/api-reference/images-streaming;
        openai-python src/openai/types/image_gen_stream_event.py, image_edit_stream_event.py,
        and src/openai/_streaming.py, which reads a `data` holding `error` as a failure).
        """
        fields, warnings = request_fields(offering, request, operation)
        fields |= {"stream": True, "partial_images": partials.count}
        url, arguments = self._body(fields, request, operation)
        images: list[bytes] = []
        usage: Any = None
        with streamed(self.client, "POST", url, deadline, **arguments) as reply:
            response = reply.response
            if response.is_error:
                response.read()
                raise _error(response)
            for event, data in server_sent_events(response, deadline):
                body = json.loads(data)
                if body.get("error"):
                    raise _stream_error(body["error"])
                kind = str(body.get("type") or event)
                if kind.endswith(".partial_image"):
                    partials.emit(
                        checked_image(decode_base64(body["b64_json"], "b64_json"), "b64_json")
                    )
                elif kind.endswith(".completed"):
                    images.append(
                        checked_image(decode_base64(body["b64_json"], "b64_json"), "b64_json")
                    )
                    usage = body.get("usage")
        if not images:
            raise ProviderError(
                ErrorKind.EMPTY, "The stream ended without a completed image.", http_status=200
            )
        return ProviderResponse(
            images=images,
            http_status=response.status_code,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            cost=usage_cost(offering, usage),
            tokens=usage_tokens(usage),
            request_id=response.headers.get("x-request-id", ""),
        )


def _stream_error(error: Any) -> ProviderError:
    """An error event in the middle of a stream: the request was accepted, so its kind comes
    from its code alone."""
    message = str(error.get("message") or "") if isinstance(error, dict) else str(error)
    code = error.get("code") if isinstance(error, dict) else None
    return ProviderError(
        error_kind(code) or ErrorKind.SERVER_ERROR,
        f"OpenAI stream error: {message}",
        http_status=200,
    )


def request_fields(
    offering: OfferingSpec, request: ImageRequest, operation: Operation
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The body of one images request (direct, or a line of a batch), and its warnings."""
    size, warnings = nearest_size(request.size, OpenAIProvider.shapes(offering).sizes)
    fields: dict[str, Any] = {
        "model": offering.provider_model_for(operation),
        "prompt": request.prompt,
        "n": request.n,
    }
    optional = {"size": size, "quality": request.quality, "style": request.style}
    fields.update({name: value for name, value in optional.items() if value is not None})
    fields.update(request.extra)
    return fields, warnings


def response_images(body: Any) -> list[bytes]:
    """The base64 images of an images answer (a batch's output lines carry only these)."""
    return [
        checked_image(decode_base64(item["b64_json"], "b64_json"), "b64_json")
        for item in body.get("data") or []
        if item.get("b64_json")
    ]


def usage_tokens(usage: Any) -> dict[str, int] | None:
    """The tokens of the answer's `usage` by kind (openai-python
    src/openai/types/images_response.py `Usage`: input_tokens, whose input_tokens_details split
    text from image tokens, the source images of an edit included; output_tokens, all image
    tokens unless output_tokens_details says otherwise); None without usage."""
    if not isinstance(usage, dict) or "output_tokens" not in usage:
        return None
    given = usage.get("input_tokens_details") or {}
    input_tokens = int(usage.get("input_tokens") or 0)
    input_image = int(given.get("image_tokens") or 0)
    made = usage.get("output_tokens_details") or {}
    output_tokens = int(usage.get("output_tokens") or 0)
    output_text = int(made.get("text_tokens") or 0)
    return {
        "input_text": int(given.get("text_tokens", input_tokens - input_image)),
        "input_image": input_image,
        "output_text": output_text,
        "output_image": int(made.get("image_tokens", output_tokens - output_text)),
    }


def usage_cost(offering: OfferingSpec, usage: Any) -> Decimal | None:
    """The price of the tokens in the answer's `usage`; None without usage."""
    tokens = usage_tokens(usage)
    return None if tokens is None else offering.token_cost(tokens)


def _form_value(value: Any) -> str:
    """A multipart field: text as it is, anything else as JSON (true, not Python's True)."""
    return value if isinstance(value, str) else json.dumps(value)


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
    return failure(response, f"OpenAI HTTP {response.status_code}: {message}", error_kind(code))


def error_kind(code: object) -> ErrorKind | None:
    """The kind an OpenAI error code names, where the HTTP status alone would not say it: a
    refusal, or out of credit, which comes as a 429 like a rate limit, told apart by its code
    (platform.openai.com/docs/guides/error-codes: "You exceeded your current quota")."""
    if code == "insufficient_quota":
        return ErrorKind.QUOTA_EXHAUSTED
    return ErrorKind.CONTENT_POLICY if code in POLICY_CODES else None
