"""OpenRouter's image models through its chat completions: `POST {base}/chat/completions` with
`modalities: ["image", "text"]`; the images come back as data URLs in the assistant message.

Wire format: tests/gateway/fakes/openrouter/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline, data_uri, failure, fetch_images, json_of, send
from gateway.normalize import (
    ASPECT_RATIOS,
    ParamMode,
    ParamRule,
    ParamTable,
    Shapes,
    nearest_aspect_ratio,
    nearest_image_size,
    wire_seed,
)
from gateway.providers.base import HTTPProvider, ProviderResponse
from gateway.types import ErrorKind, ImageRequest, Operation

# Chat completion options a caller may set at the top level (openrouter.ai/docs/api-reference/
# overview): `provider` chooses among OpenRouter's upstream providers, `transforms` and
# `models` (its own fallbacks) are left to the caller who wants them, under `openrouter`.
EXTRA_PARAMS = frozenset({"provider"})
# How OpenRouter says an answer was withheld: its normalized finish_reason, or the upstream's
# own (Gemini's) in native_finish_reason.
POLICY_FINISH_REASONS = frozenset(
    {"content_filter", "SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT"}
)
# openrouter.ai/docs/api-reference/errors: the status codes and what each means here. 402 is
# an account or key out of credits; 403 is a moderated model that flagged the input.
STATUS_KINDS = {
    402: ErrorKind.QUOTA_EXHAUSTED,
    403: ErrorKind.CONTENT_POLICY,
    502: ErrorKind.SERVER_ERROR,
    503: ErrorKind.SERVER_ERROR,
}


class OpenRouterProvider(HTTPProvider):
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.CONVERTED, "messages[0].content[].text"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "image_config.aspect_ratio",
            f"nearest of {', '.join(ASPECT_RATIOS)} (or of the offering's aspect_ratios); "
            "and image_config.image_size, the smallest of the offering's image_sizes that "
            "holds the size",
        ),
        "n": ParamRule(ParamMode.EMULATED, "", "one image per call: n calls in parallel"),
        "quality": ParamRule(ParamMode.UNSUPPORTED),
        "style": ParamRule(ParamMode.UNSUPPORTED),
        "response_format": ParamRule(
            ParamMode.EMULATED, "", "images arrive as data URLs, returned as bytes"
        ),
        "images": ParamRule(
            ParamMode.CONVERTED, "messages[0].content[].image_url", "base64 data URLs"
        ),
        "mask": ParamRule(ParamMode.UNSUPPORTED),
        "seed": ParamRule(ParamMode.RENAMED, "seed", "modulo 2^31, as the upstream takes it"),
        "extra": ParamRule(
            ParamMode.PASSTHROUGH,
            "",
            "merged into the request body: the options under `openrouter`, and at the top "
            "level " + ", ".join(sorted(EXTRA_PARAMS)),
        ),
    }
    extra_params: ClassVar[frozenset[str]] = EXTRA_PARAMS

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        return Shapes.ratios_of(offering)

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        model = offering.provider_model_for(operation)
        body, warnings = request_body(offering, request, model)
        reply = send(
            self.client,
            "POST",
            f"{self.base_url}/chat/completions",
            deadline,
            json=body,
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        response = reply.response
        if response.is_error:
            raise _error(response)
        answer = json_of(response)
        request_id = str(answer.get("id") or "")
        cost = usage_cost(answer.get("usage"))
        # A failure once the model started is a 200 with an `error` in the body.
        if isinstance(answer.get("error"), dict):
            raise _body_error(answer["error"], request_id, cost)
        choice = (answer.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        urls = [image["image_url"]["url"] for image in message.get("images") or []]
        if not urls:
            raise _no_image(model, choice, message, request_id, cost)
        return ProviderResponse(
            images=fetch_images(self.client, urls, deadline),
            http_status=response.status_code,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            cost=cost,
            request_id=request_id,
        )


def request_body(
    offering: OfferingSpec, request: ImageRequest, model: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    ratio, warnings = nearest_aspect_ratio(
        request.size, OpenRouterProvider.shapes(offering).aspect_ratios
    )
    image_size, said = nearest_image_size(request.size, offering.options.get("image_sizes", ()))
    content: list[dict[str, Any]] = [{"type": "text", "text": request.prompt}]
    content += [
        {"type": "image_url", "image_url": {"url": data_uri(image)}} for image in request.images
    ]
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "modalities": offering.options.get("modalities", ["image", "text"]),
    }
    image_config = {"aspect_ratio": ratio, "image_size": image_size}
    if any(image_config.values()):
        body["image_config"] = {k: v for k, v in image_config.items() if v is not None}
    if request.seed is not None:
        body["seed"] = wire_seed(request.seed)
    body.update(request.extra)
    return body, warnings + said


def usage_cost(usage: Any) -> Decimal | None:
    """What OpenRouter charged, in credits of one US dollar each: `usage.cost`, in every
    answer (openrouter.ai/docs/use-cases/usage-accounting); None when it is not there."""
    cost = usage.get("cost") if isinstance(usage, dict) else None
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost):
        return None
    return Decimal(str(cost))


def _no_image(
    model: str,
    choice: dict[str, Any],
    message: dict[str, Any],
    request_id: str,
    cost: Decimal | None,
) -> ProviderError:
    reasons = {str(choice.get("finish_reason")), str(choice.get("native_finish_reason"))}
    said = f" It said: {str(message.get('content'))[:200]}" if message.get("content") else ""
    refused = reasons & POLICY_FINISH_REASONS
    return ProviderError(
        ErrorKind.CONTENT_POLICY if refused else ErrorKind.EMPTY,
        f"{model} returned no image (finish_reason {', '.join(sorted(reasons - {'None'}))})."
        + said,
        http_status=200,
        cost=cost or Decimal("0"),
        provider_request_id=request_id,
    )


def _body_error(error: dict[str, Any], request_id: str, cost: Decimal | None) -> ProviderError:
    code = error.get("code")
    status = code if isinstance(code, int) else None
    kind = STATUS_KINDS.get(status or 0) or ErrorKind.SERVER_ERROR
    return ProviderError(
        kind,
        f"OpenRouter: {str(error.get('message') or '')[:300]}",
        http_status=200,
        cost=cost or Decimal("0"),
        provider_request_id=request_id,
    )


def _error(response: httpx.Response) -> ProviderError:
    try:
        error = response.json()["error"]
        message = str(error.get("message") or "")
        metadata = error.get("metadata") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return failure(response, f"OpenRouter HTTP {response.status_code}: {response.text[:300]}")
    if response.status_code == 403 and isinstance(metadata, dict) and metadata.get("reasons"):
        message += f" (flagged: {', '.join(map(str, metadata['reasons']))})"
    return failure(
        response,
        f"OpenRouter HTTP {response.status_code}: {message}",
        STATUS_KINDS.get(response.status_code),
    )
