"""fal's queue API: submit to `{base}/{model}`, poll the status URL, fetch the result, download
`images[].url`.

Wire format: tests/gateway/fakes/fal/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline, cancel, failure, fetch_images, get_retrying, json_of, send
from gateway.normalize import (
    ASPECT_RATIOS,
    ParamMode,
    ParamRule,
    ParamTable,
    nearest_aspect_ratio,
    parse_size,
)
from gateway.providers.base import SHAPE_ERRORS, HTTPProvider, ProviderResponse, model_inputs
from gateway.types import ErrorKind, ImageRequest, Operation

WAITING = frozenset({"IN_QUEUE", "IN_PROGRESS"})
# fal refuses every billable call of an account out of credit with a 403 (or 402) that says so:
# `{"detail": "User is locked. Reason: Exhausted balance. Top up your balance at ..."}`.
OUT_OF_CREDIT = re.compile(r"exhausted balance|top up your balance|insufficient", re.IGNORECASE)


class FalProvider(HTTPProvider):
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.PASSTHROUGH, "prompt"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "image_size",
            "{width, height}; or the nearest aspect_ratio for offerings with "
            'size_param = "aspect_ratio"',
        ),
        "n": ParamRule(
            ParamMode.RENAMED,
            "num_images",
            "up to the offering's max_n_per_call (default 4) per request, more in parallel",
        ),
        "quality": ParamRule(ParamMode.UNSUPPORTED),
        "style": ParamRule(ParamMode.UNSUPPORTED),
        "response_format": ParamRule(
            ParamMode.EMULATED, "", "images[].url downloaded and returned as bytes"
        ),
        "images": ParamRule(
            ParamMode.CONVERTED,
            "image_url / image_urls",
            "data URIs, in the offering's image_field",
        ),
        "mask": ParamRule(ParamMode.UNSUPPORTED),
        "seed": ParamRule(
            ParamMode.UNSUPPORTED,
            "seed",
            "modulo 2^31, for the models whose input schema has one (catalog params)",
        ),
        "extra": ParamRule(ParamMode.PASSTHROUGH, "", "merged into the input"),
    }
    default_images_per_call: ClassVar[int] = 4

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        arguments, warnings = _arguments(offering, request)
        headers = {"Authorization": f"Key {self.api_key}"}
        reply = send(
            self.client,
            "POST",
            f"{self.base_url}/{offering.provider_model_for(operation)}",
            deadline,
            json=arguments,
            headers=headers,
        )
        if reply.response.is_error:
            raise _error(reply.response)
        queued = json_of(reply.response)
        job = str(queued.get("request_id", ""))
        # fal bills a request that ran. One given up on while we last saw it queued, and whose
        # cancel fal accepted, never ran ("If the request is in the queue, fal removes it",
        # fal.ai/docs/inference-api/queue/cancel); any other may have, and is charged.
        seen = ["IN_QUEUE"]
        try:
            self._wait(queued["status_url"], headers, deadline, seen)
        except (ProviderError, *SHAPE_ERRORS) as exc:
            answer = cancel(self.client, "PUT", queued.get("cancel_url", ""), headers)
            removed = seen[-1] == "IN_QUEUE" and answer == "CANCELLATION_REQUESTED"
            error = self.shape_error(exc)
            raise error.of_job(job, billed_images=0 if removed else request.n) from None
        try:
            return self._result(queued["response_url"], headers, deadline, warnings, job)
        except (ProviderError, *SHAPE_ERRORS) as exc:
            # A refusal of fal's own is for the refusals' rules to price; any other failure
            # after COMPLETED lost images that were made, and billed.
            error = self.shape_error(exc)
            billed = 0 if error.kind is ErrorKind.CONTENT_POLICY else request.n
            raise error.of_job(job, billed_images=billed) from None

    def _result(
        self,
        response_url: str,
        headers: dict[str, str],
        deadline: Deadline,
        warnings: tuple[str, ...],
        job: str,
    ) -> ProviderResponse:
        reply = get_retrying(self.client, response_url, deadline, headers=headers)
        if reply.response.is_error:
            raise _error(reply.response)
        result = json_of(reply.response)
        flagged = result.get("has_nsfw_concepts") or []
        urls = [
            image["url"]
            for index, image in enumerate(result.get("images") or [])
            if not (index < len(flagged) and flagged[index])
        ]
        if not urls:
            if any(flagged):
                raise ProviderError(
                    ErrorKind.CONTENT_POLICY,
                    "fal's safety checker withheld every image.",
                    http_status=reply.response.status_code,
                )
            raise ProviderError(
                ErrorKind.EMPTY,
                "The result had no images.",
                http_status=reply.response.status_code,
            )
        return ProviderResponse(
            images=fetch_images(self.client, urls, deadline),
            http_status=reply.response.status_code,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            request_id=job,
        )

    def _wait(
        self, status_url: str, headers: dict[str, str], deadline: Deadline, seen: list[str]
    ) -> None:
        """Poll until the request completes; `seen` gets each status as it comes."""
        while True:
            reply = get_retrying(self.client, status_url, deadline, headers=headers)
            if reply.response.is_error:
                raise _error(reply.response)
            status = json_of(reply.response).get("status")
            if status == "COMPLETED":
                return
            if status not in WAITING:
                raise ProviderError(
                    ErrorKind.BAD_RESPONSE, f"Unknown queue status {status!r}.", http_status=200
                )
            seen.append(status)
            deadline.sleep(self.poll_interval)


def _arguments(
    offering: OfferingSpec, request: ImageRequest
) -> tuple[dict[str, Any], tuple[str, ...]]:
    options = offering.options
    arguments: dict[str, Any] = {"prompt": request.prompt}
    # Sent only when asked for, as some single-image endpoints refuse fields they lack.
    if request.n > 1:
        arguments["num_images"] = request.n
    warnings: tuple[str, ...] = ()
    if options.get("size_param", "image_size") == "aspect_ratio":
        ratio, warnings = nearest_aspect_ratio(
            request.size, options.get("aspect_ratios", ASPECT_RATIOS)
        )
        if ratio:
            arguments["aspect_ratio"] = ratio
    elif size := parse_size(request.size):
        arguments["image_size"] = {"width": size[0], "height": size[1]}
    model_inputs(arguments, request, offering, image_field="image_url", image_list=False)
    return arguments, warnings


def _error(response: httpx.Response) -> ProviderError:
    """fal answers model errors as `detail: [{loc, msg, type}]` and request errors as
    `detail: "...", error_type: "..."`."""
    try:
        body = response.json()
        detail = body.get("detail")
    except (ValueError, AttributeError):
        return failure(response, f"fal HTTP {response.status_code}: {response.text[:300]}")
    if isinstance(detail, list):
        types = {str(item.get("type", "")) for item in detail if isinstance(item, dict)}
        message = "; ".join(str(item.get("msg", "")) for item in detail if isinstance(item, dict))
    else:
        types = {str(body.get("error_type", ""))}
        message = str(detail or "")
    kind = None
    if any("content_policy" in name for name in types):
        kind = ErrorKind.CONTENT_POLICY
    elif response.status_code in (402, 403) and OUT_OF_CREDIT.search(message):
        kind = ErrorKind.QUOTA_EXHAUSTED
    return failure(
        response, f"fal HTTP {response.status_code}: {message or response.text[:300]}", kind
    )
