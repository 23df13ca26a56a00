"""Gemini image models through generateContent: the Gemini API (`gemini`) and Vertex AI
(`vertex`, express mode with an API key), which share the wire format.

Wire format: tests/gateway/fakes/gemini/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline, checked_image, decode_base64, failure, image_mime, json_of, send
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

# Finish reasons that mean the image was withheld by policy; asking another provider the same
# thing would be refused too. Others (NO_IMAGE, OTHER, STOP with only text) may pass on a retry.
POLICY_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
    }
)
# Top-level GenerateContentRequest fields a caller may set (ai.google.dev/api/generate-content;
# python-genai google/genai/types.py GenerateContentConfig.safety_settings, system_instruction).
EXTRA_PARAMS = frozenset({"safetySettings", "systemInstruction", "cachedContent"})
# Out of credit, which a 429 RESOURCE_EXHAUSTED tells apart from a rate limit by its words
# alone: a Gemini API account on prepaid billing whose balance is spent ("Your prepayment
# credits are depleted. Please go to AI Studio ...", ai.google.dev/gemini-api/docs/billing#prepay).
# A Google Cloud project whose billing account is disabled (Vertex AI) is a 403 whose ErrorInfo
# says BILLING_DISABLED (googleapis/googleapis google/api/error_reason.proto).
OUT_OF_CREDIT = "prepayment credits are depleted"
# Safety ratings worth telling the caller about (python-genai types.HarmProbability).
FLAGGED_PROBABILITIES = frozenset({"MEDIUM", "HIGH"})


class GeminiProvider(HTTPProvider):
    path: ClassVar[str] = "v1beta/models/{model}:generateContent"
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.CONVERTED, "contents[0].parts[].text"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "generationConfig.imageConfig.aspectRatio",
            f"nearest of {', '.join(ASPECT_RATIOS)} (or of the offering's aspect_ratios); "
            "and generationConfig.imageConfig.imageSize, the smallest of the offering's "
            "image_sizes (1K, 2K, 4K) that holds the size",
        ),
        "n": ParamRule(ParamMode.EMULATED, "", "one image per call: n calls in parallel"),
        "quality": ParamRule(ParamMode.UNSUPPORTED),
        "style": ParamRule(ParamMode.UNSUPPORTED),
        "response_format": ParamRule(
            ParamMode.EMULATED, "", "images arrive as base64 inlineData, returned as bytes"
        ),
        "images": ParamRule(
            ParamMode.CONVERTED, "contents[0].parts[].inline_data", "base64 with its MIME type"
        ),
        "mask": ParamRule(ParamMode.UNSUPPORTED),
        "seed": ParamRule(ParamMode.RENAMED, "generationConfig.seed", "modulo 2^31 (an int32)"),
        "extra": ParamRule(
            ParamMode.PASSTHROUGH,
            "",
            "merged into the request body (objects one level deep, so generationConfig adds "
            "to the gateway's): the options under the provider's id, and at the top level "
            + ", ".join(sorted(EXTRA_PARAMS)),
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
        body, warnings = request_body(offering, request)
        reply = send(
            self.client,
            "POST",
            self.endpoint(model),
            deadline,
            json=body,
            headers=self.auth_headers(deadline),
        )
        response = reply.response
        if response.is_error:
            self.refused(response)
            raise _error(response)
        answer = json_of(response)
        cost = usage_cost(offering, answer.get("usageMetadata"))
        return ProviderResponse(
            images=response_images(model, answer, cost),
            http_status=response.status_code,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            cost=cost,
            tokens=usage_tokens(answer.get("usageMetadata")),
            safety=_flags(answer),
            request_id=str(answer.get("responseId") or ""),
        )

    def endpoint(self, model: str) -> str:
        return f"{self.base_url}/{self.path.format(model=model)}"

    def auth_headers(self, deadline: Deadline) -> dict[str, str]:
        """The headers that authenticate a call: the API key."""
        return {"x-goog-api-key": self.api_key}

    def refused(self, response: httpx.Response) -> None:
        """Learn from an error answer before it is raised (nothing to learn for a key)."""


class VertexProvider(GeminiProvider):
    """Vertex AI in express mode: an API key, no project."""

    path: ClassVar[str] = "v1/publishers/google/models/{model}:generateContent"


def request_body(
    offering: OfferingSpec, request: ImageRequest
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A GenerateContentRequest (direct, or inlined in a batch), and its warnings."""
    ratio, warnings = nearest_aspect_ratio(
        request.size, GeminiProvider.shapes(offering).aspect_ratios
    )
    parts: list[dict[str, Any]] = [{"text": request.prompt}]
    parts += [
        {
            "inline_data": {
                "mime_type": image_mime(image),
                "data": base64.b64encode(image).decode(),
            }
        }
        for image in request.images
    ]
    config: dict[str, Any] = {
        "responseModalities": offering.options.get("response_modalities", ["TEXT", "IMAGE"])
    }
    image_size, said = nearest_image_size(request.size, offering.options.get("image_sizes", ()))
    warnings += said
    image_config = {"aspectRatio": ratio, "imageSize": image_size}
    if ratio:
        config["imageConfig"] = {k: v for k, v in image_config.items() if v is not None}
    if request.seed is not None:
        config["seed"] = wire_seed(request.seed)
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": config,
    }
    for name, value in request.extra.items():
        given = body.get(name)
        body[name] = (
            {**given, **value} if isinstance(given, dict) and isinstance(value, dict) else value
        )
    return body, warnings


def usage_tokens(usage: Any) -> dict[str, int] | None:
    """The tokens of `usageMetadata` by kind (python-genai types.py
    GenerateContentResponseUsageMetadata: promptTokenCount and candidatesTokenCount, split by
    modality in promptTokensDetails and candidatesTokensDetails; thoughtsTokenCount counted as
    output text). Candidate tokens without a split count as image tokens; None without usage."""
    if not isinstance(usage, dict):
        return None
    prompt = _by_modality(usage.get("promptTokensDetails"))
    made = _by_modality(usage.get("candidatesTokensDetails"))
    if not prompt:
        prompt = {"TEXT": int(usage.get("promptTokenCount") or 0)}
    if not made:
        made = {"IMAGE": int(usage.get("candidatesTokenCount") or 0)}
    return {
        "input_text": sum(count for kind, count in prompt.items() if kind != "IMAGE"),
        "input_image": prompt.get("IMAGE", 0),
        "output_text": sum(count for kind, count in made.items() if kind != "IMAGE")
        + int(usage.get("thoughtsTokenCount") or 0),
        "output_image": made.get("IMAGE", 0),
    }


def usage_cost(offering: OfferingSpec, usage: Any) -> Decimal | None:
    """The price of the tokens in `usageMetadata`; None without usage. A refused prompt
    reports its input tokens too, and they are billed."""
    tokens = usage_tokens(usage)
    return None if tokens is None else offering.token_cost(tokens)


def _by_modality(details: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for detail in details or []:
        if isinstance(detail, dict):
            modality = str(detail.get("modality") or "TEXT")
            counts[modality] = counts.get(modality, 0) + int(detail.get("tokenCount") or 0)
    return counts


def _flags(body: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        f"{rating.get('category')}: {rating.get('probability')}"
        for candidate in body.get("candidates") or []
        for rating in candidate.get("safetyRatings") or []
        if rating.get("blocked") or rating.get("probability") in FLAGGED_PROBABILITIES
    )


def response_images(model: str, body: dict[str, Any], cost: Decimal | None = None) -> list[bytes]:
    """The images of a GenerateContentResponse (direct, or a batch's line), or the
    ProviderError saying why there are none (with what was billed for it)."""
    billed = cost or Decimal("0")
    candidates = body.get("candidates") or []
    if not candidates:
        reason = (body.get("promptFeedback") or {}).get("blockReason")
        if reason:
            raise ProviderError(
                ErrorKind.CONTENT_POLICY,
                f"{model} refused the prompt (blockReason {reason}).",
                http_status=200,
                cost=billed,
            )
        raise ProviderError(
            ErrorKind.EMPTY, f"{model} returned no candidates.", http_status=200, cost=billed
        )
    images: list[bytes] = []
    texts: list[str] = []
    reasons: list[str] = []
    for candidate in candidates:
        reasons.append(candidate.get("finishReason") or "")
        for part in (candidate.get("content") or {}).get("parts") or []:
            inline = part.get("inlineData") or part.get("inline_data")
            if inline:
                images.append(
                    checked_image(decode_base64(inline["data"], "inlineData"), "inlineData")
                )
            elif part.get("text"):
                texts.append(part["text"])
    if images:
        return images
    reason = next((r for r in reasons if r and r != "STOP"), reasons[0] or "STOP")
    said = f" It said: {' '.join(texts)[:200]}" if texts else ""
    kind = ErrorKind.CONTENT_POLICY if reason in POLICY_FINISH_REASONS else ErrorKind.EMPTY
    raise ProviderError(
        kind,
        f"{model} returned no image (finishReason {reason}).{said}",
        http_status=200,
        cost=billed,
    )


def _error(response: httpx.Response) -> ProviderError:
    try:
        error = response.json()["error"]
        message = str(error.get("message") or "")
        status = str(error.get("status") or "")
        details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return failure(response, f"Gemini HTTP {response.status_code}: {response.text[:300]}")
    reasons = {d.get("reason") for d in details}
    kind = None
    if "API_KEY_INVALID" in reasons:
        kind = ErrorKind.AUTH  # an invalid key is a 400 INVALID_ARGUMENT here, not a 401
    elif "BILLING_DISABLED" in reasons or OUT_OF_CREDIT in message:
        kind = ErrorKind.QUOTA_EXHAUSTED
    delays = [d["retryDelay"] for d in details if str(d.get("retryDelay", "")).endswith("s")]
    return failure(
        response,
        f"Gemini HTTP {response.status_code} {status}: {message}",
        kind,
        wait=float(delays[0][:-1]) if delays and "retry-after" not in response.headers else None,
    )
