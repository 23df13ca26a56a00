"""Gemini image models through generateContent: the Gemini API (`gemini`) and Vertex AI
(`vertex`, express mode with an API key), which share the wire format.

Wire format: tests/gateway/fakes/gemini/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import base64
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
    nearest_aspect_ratio,
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


class GeminiProvider(HTTPProvider):
    path: ClassVar[str] = "v1beta/models/{model}:generateContent"
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.CONVERTED, "contents[0].parts[].text"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "generationConfig.imageConfig.aspectRatio",
            f"nearest of {', '.join(ASPECT_RATIOS)}",
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
        "extra": ParamRule(ParamMode.PASSTHROUGH, "", "merged into the request body"),
    }

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        model = offering.provider_model_for(operation)
        ratio, warnings = nearest_aspect_ratio(
            request.size, offering.options.get("aspect_ratios", ASPECT_RATIOS)
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
        if ratio:
            config["imageConfig"] = {"aspectRatio": ratio}
        if request.seed is not None:
            config["seed"] = wire_seed(request.seed)
        body = {
            "contents": [{"role": "user", "parts": parts}],
            "generationConfig": config,
            **request.extra,
        }
        reply = send(
            self.client,
            "POST",
            f"{self.base_url}/{self.path.format(model=model)}",
            deadline,
            json=body,
            headers={"x-goog-api-key": self.api_key},
        )
        response = reply.response
        if response.is_error:
            raise _error(response)
        answer = json_of(response)
        return ProviderResponse(
            images=_images(model, answer),
            http_status=response.status_code,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            request_id=str(answer.get("responseId") or ""),
        )


class VertexProvider(GeminiProvider):
    path: ClassVar[str] = "v1/publishers/google/models/{model}:generateContent"


def _images(model: str, body: dict[str, Any]) -> list[bytes]:
    candidates = body.get("candidates") or []
    if not candidates:
        reason = (body.get("promptFeedback") or {}).get("blockReason")
        if reason:
            raise ProviderError(
                ErrorKind.CONTENT_POLICY,
                f"{model} refused the prompt (blockReason {reason}).",
                http_status=200,
            )
        raise ProviderError(ErrorKind.EMPTY, f"{model} returned no candidates.", http_status=200)
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
        kind, f"{model} returned no image (finishReason {reason}).{said}", http_status=200
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
    # An invalid key is a 400 INVALID_ARGUMENT here, not a 401.
    kind = ErrorKind.AUTH if "API_KEY_INVALID" in reasons else None
    delays = [d["retryDelay"] for d in details if str(d.get("retryDelay", "")).endswith("s")]
    return failure(
        response,
        f"Gemini HTTP {response.status_code} {status}: {message}",
        kind,
        wait=float(delays[0][:-1]) if delays and "retry-after" not in response.headers else None,
    )
