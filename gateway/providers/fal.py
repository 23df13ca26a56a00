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
    ParamMode,
    ParamRule,
    ParamTable,
    Shapes,
    fit_sides,
    nearest_aspect_ratio,
)
from gateway.providers.base import (
    SHAPE_ERRORS,
    JobHooks,
    ProviderResponse,
    QueuedJobProvider,
    model_inputs,
)
from gateway.types import ErrorKind, ImageRequest, JobRef, Operation

WAITING = frozenset({"IN_QUEUE", "IN_PROGRESS"})
# Input fields fal's image models share (their API pages on fal.ai/models, e.g.
# fal-ai/flux-pro/v1.1/api: enable_safety_checker, safety_tolerance, output_format), which a
# caller may give at the top level. `sync_mode` is not: it swaps the URLs for data URIs.
EXTRA_PARAMS = frozenset(
    {
        "enable_safety_checker",
        "safety_tolerance",
        "output_format",
        "negative_prompt",
        "guidance_scale",
        "num_inference_steps",
        "enhance_prompt",
    }
)
# fal refuses every billable call of an account out of credit with a 403 (or 402) that says so:
# `{"detail": "User is locked. Reason: Exhausted balance. Top up your balance at ..."}`.
OUT_OF_CREDIT = re.compile(r"exhausted balance|top up your balance|insufficient", re.IGNORECASE)


class FalProvider(QueuedJobProvider):
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.PASSTHROUGH, "prompt"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "image_size",
            "{width, height} (scaled into the offering's side_range); or the nearest "
            'aspect_ratio for offerings with size_param = "aspect_ratio"',
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
        "extra": ParamRule(
            ParamMode.PASSTHROUGH,
            "",
            "merged into the input: the options under `fal`, and at the top level "
            + ", ".join(sorted(EXTRA_PARAMS)),
        ),
    }
    extra_params: ClassVar[frozenset[str]] = EXTRA_PARAMS
    default_images_per_call: ClassVar[int] = 4

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        """Aspect ratios for the offerings sent as one (`size_param`), else any size."""
        if offering.options.get("size_param", "image_size") == "aspect_ratio":
            return Shapes.ratios_of(offering)
        return Shapes()

    def resume(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        job: JobRef,
        *,
        deadline: Deadline,
    ) -> ProviderResponse:
        _, warnings = _arguments(offering, request)
        try:
            # What the job was doing when its first waiter went is unknown: it may have run.
            return self._collect(offering, request, job, deadline, warnings, seen=[""])
        except SHAPE_ERRORS as exc:
            raise self.shape_error(exc) from None

    def submit_job(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
        hooks: JobHooks | None,
    ) -> ProviderResponse:
        arguments, warnings = _arguments(offering, request)
        # fal.ai/docs/model-endpoints/webhooks: the queue calls `fal_webhook` when the request
        # ends, with the request id and its result.
        url = hooks.webhook_url(self.name) if hooks else ""
        webhook = {"fal_webhook": url} if url else {}
        reply = send(
            self.client,
            "POST",
            f"{self.base_url}/{offering.provider_model_for(operation)}",
            deadline,
            json=arguments,
            headers=self._headers(),
            params=webhook,
        )
        if reply.response.is_error:
            raise _error(reply.response)
        queued = json_of(reply.response)
        job = JobRef(
            provider=self.name,
            offering=offering.key,
            job_id=str(queued.get("request_id", "")),
            urls={
                "status": str(queued["status_url"]),
                "response": str(queued["response_url"]),
                "cancel": str(queued.get("cancel_url", "")),
            },
            webhook=bool(webhook),
        )
        if hooks:
            hooks.report(job)
        return self._collect(offering, request, job, deadline, warnings, seen=["IN_QUEUE"])

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.api_key}"}

    def _collect(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        job: JobRef,
        deadline: Deadline,
        warnings: tuple[str, ...],
        *,
        seen: list[str],
    ) -> ProviderResponse:
        """Wait for the job and fetch its images; `seen` starts with what we know of it."""
        headers = self._headers()
        # fal bills a request that ran. One given up on while we last saw it queued, and whose
        # cancel fal accepted, never ran ("If the request is in the queue, fal removes it",
        # fal.ai/docs/inference-api/queue/cancel); any other may have, and is charged.
        try:
            self._wait(job.urls["status"], headers, deadline, seen)
        except (ProviderError, *SHAPE_ERRORS) as exc:
            answer = cancel(self.client, "PUT", job.urls.get("cancel", ""), headers)
            removed = seen[-1] == "IN_QUEUE" and answer == "CANCELLATION_REQUESTED"
            error = self.shape_error(exc)
            raise error.of_job(job.job_id, billed_images=0 if removed else request.n) from None
        try:
            return self._result(
                offering, job.urls["response"], headers, deadline, warnings, job.job_id
            )
        except (ProviderError, *SHAPE_ERRORS) as exc:
            # fal bills successful outputs only (docs.fal.ai/faq, "Do you charge for failed
            # requests?"; docs.fal.ai/documentation/model-apis/pricing). A result that is the
            # model's own error (a 4xx: invalid input, or a refusal, which the refusals' rules
            # price) made none. Any other failure after COMPLETED (a 5xx or a lost connection
            # that outlasted the retries, a file we could not download) may have lost images
            # that were made, and billed.
            error = self.shape_error(exc)
            refused = error.kind in (ErrorKind.INVALID_REQUEST, ErrorKind.CONTENT_POLICY)
            raise error.of_job(job.job_id, billed_images=0 if refused else request.n) from None

    def _result(
        self,
        offering: OfferingSpec,
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
        made = [image for image in result.get("images") or [] if isinstance(image, dict)]
        flagged = [bool(flag) for flag in result.get("has_nsfw_concepts") or []]
        kept = [image["url"] for i, image in enumerate(made) if not _flagged(flagged, i)]
        status = reply.response.status_code
        # fal bills every image the model made, those its safety checker withheld included;
        # by area where the catalog says so, when the result gives every image's size.
        sizes = [
            (int(i["width"]), int(i["height"])) for i in made if i.get("width") and i.get("height")
        ]
        cost = offering.megapixel_cost(sizes) if len(sizes) == len(made) else None
        if not kept:
            if any(flagged):
                billed = offering.price * len(made) if cost is None else cost
                raise ProviderError(
                    ErrorKind.CONTENT_POLICY,
                    f"fal's safety checker withheld every image (has_nsfw_concepts); fal "
                    f"bills for the {len(made)} it made.",
                    http_status=status,
                    cost=billed,
                )
            raise ProviderError(ErrorKind.EMPTY, "The result had no images.", http_status=status)
        seed = result.get("seed")
        return ProviderResponse(
            images=fetch_images(self.client, kept, deadline),
            http_status=status,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            cost=cost,
            withheld=len(made) - len(kept),
            seeds=(seed,) if isinstance(seed, int) and not isinstance(seed, bool) else (),
            safety=tuple(
                f"fal's safety checker found NSFW concepts in image {i + 1} of {len(made)} "
                "and withheld it."
                for i in range(len(made))
                if _flagged(flagged, i)
            ),
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
    arguments: dict[str, Any] = {"prompt": request.prompt}
    # Sent only when asked for, as some single-image endpoints refuse fields they lack.
    if request.n > 1:
        arguments["num_images"] = request.n
    warnings: tuple[str, ...] = ()
    if ratios := FalProvider.shapes(offering).aspect_ratios:
        ratio, warnings = nearest_aspect_ratio(request.size, ratios)
        if ratio:
            arguments["aspect_ratio"] = ratio
    else:
        size, warnings = fit_sides(request.size, offering.options.get("side_range"))
        if size:
            arguments["image_size"] = {"width": size[0], "height": size[1]}
    model_inputs(arguments, request, offering, image_field="image_url", image_list=False)
    return arguments, warnings


def _flagged(flags: list[bool], index: int) -> bool:
    return index < len(flags) and flags[index]


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
