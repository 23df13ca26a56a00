"""Replicate's official models: `POST {base}/v1/models/{owner}/{name}/predictions` with
`Prefer: wait`, then `urls.get` polled until the prediction ends, then `output` downloaded.

Wire format: tests/gateway/fakes/replicate/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import (
    Deadline,
    Reply,
    cancel,
    failure,
    fetch_images,
    get_retrying,
    json_of,
    send,
)
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

RUNNING = frozenset({"starting", "processing"})
# A prediction that made its output: finished, or processing with the output already there.
MADE = frozenset({"succeeded", "processing"})
# Replicate holds a `Prefer: wait` request open for at most this long.
MAX_WAIT_SECONDS = 60
# A failed prediction only carries the model's own words; these mean a safety filter said no.
POLICY_WORDS = re.compile(r"nsfw|safety|sensitive|content polic|flagged", re.IGNORECASE)
# Input fields the image models share (their API pages: google/imagen-4 safety_filter_level,
# black-forest-labs/flux-1.1-pro safety_tolerance, output_format, prompt_upsampling), which a
# caller may give at the top level.
EXTRA_PARAMS = frozenset(
    {
        "safety_filter_level",
        "safety_tolerance",
        "output_format",
        "output_quality",
        "negative_prompt",
        "prompt_upsampling",
    }
)


class ReplicateProvider(QueuedJobProvider):
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.PASSTHROUGH, "input.prompt"),
        "size": ParamRule(
            ParamMode.CONVERTED,
            "input.aspect_ratio",
            "nearest of the offering's aspect_ratios (default: the common ten); or, for "
            'offerings with size_param = "custom", input.size "custom" with input.width and '
            "input.height scaled into the offering's side_range",
        ),
        "n": ParamRule(ParamMode.EMULATED, "", "one prediction per image, in parallel"),
        "quality": ParamRule(ParamMode.UNSUPPORTED),
        "style": ParamRule(ParamMode.UNSUPPORTED),
        "response_format": ParamRule(
            ParamMode.EMULATED, "", "output URLs downloaded and returned as bytes"
        ),
        "images": ParamRule(
            ParamMode.CONVERTED, "input.image_input", "data URIs, in the offering's image_field"
        ),
        "mask": ParamRule(ParamMode.UNSUPPORTED),
        "seed": ParamRule(
            ParamMode.UNSUPPORTED,
            "input.seed",
            "modulo 2^31, for the models whose input schema has one (catalog params)",
        ),
        "extra": ParamRule(
            ParamMode.PASSTHROUGH,
            "",
            "merged into input: the options under `replicate`, and at the top level "
            + ", ".join(sorted(EXTRA_PARAMS)),
        ),
    }
    extra_params: ClassVar[frozenset[str]] = EXTRA_PARAMS

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        """Aspect ratios, except for a model sent its own width and height (`custom`)."""
        if offering.options.get("size_param") == "custom":
            return Shapes()
        return Shapes.ratios_of(offering)

    def resume(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        job: JobRef,
        *,
        deadline: Deadline,
    ) -> ProviderResponse:
        _, warnings = _arguments(offering, request)
        # What the prediction did while nobody watched is unknown: it may have run.
        seen = ["processing"]
        try:
            try:
                reply = get_retrying(
                    self.client, job.urls["get"], deadline, headers=self._headers()
                )
                if reply.response.is_error:
                    raise _error(reply.response)
                prediction = json_of(reply.response)
            except ProviderError as exc:
                # A prediction we cannot see is one given up on, as in `_collect`.
                raise self._given_up(
                    exc, job.job_id, job.urls.get("cancel"), request, seen
                ) from None
            return self._collect(request, reply, prediction, deadline, warnings, seen=seen)
        except SHAPE_ERRORS as exc:
            raise self.shape_error(exc) from None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def submit_job(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
        hooks: JobHooks | None,
    ) -> ProviderResponse:
        arguments, warnings = _arguments(offering, request)
        model_inputs(arguments, request, offering, image_field="image_input", image_list=True)
        body: dict[str, Any] = {"input": arguments}
        headers = self._headers()
        webhook = hooks.webhook_url(self.name) if hooks else ""
        if webhook:
            # replicate.com/docs/topics/webhooks: one call when the prediction ends, whatever
            # its outcome; nobody holds the request open for it.
            body.update(webhook=webhook, webhook_events_filter=["completed"])
        else:
            # Asking Replicate to hold the request no longer than our own budget leaves time to
            # learn the prediction's id, to poll or cancel it, instead of timing out blind.
            hold = max(1, min(MAX_WAIT_SECONDS, int(deadline.remaining()) - 1))
            headers["Prefer"] = f"wait={hold}"
        reply = send(
            self.client,
            "POST",
            f"{self.base_url}/v1/models/{offering.provider_model_for(operation)}/predictions",
            deadline,
            json=body,
            headers=headers,
        )
        if reply.response.is_error:
            raise _error(reply.response)
        prediction = json_of(reply.response)
        if hooks:
            job = _job_of(prediction, offering, self.name, self.base_url, webhook=bool(webhook))
            hooks.report(job)
        return self._collect(
            request, reply, prediction, deadline, warnings, seen=[prediction["status"]]
        )

    def _collect(
        self,
        request: ImageRequest,
        reply: Reply,
        prediction: dict[str, Any],
        deadline: Deadline,
        warnings: tuple[str, ...],
        *,
        seen: list[str],
    ) -> ProviderResponse:
        """Wait for the prediction to end and download its output; `seen` starts with what we
        know of it."""
        job = str(prediction.get("id", ""))
        try:
            reply, prediction = self._wait(reply, prediction, self._headers(), deadline, seen)
        except (ProviderError, *SHAPE_ERRORS) as exc:
            url = (prediction.get("urls") or {}).get("cancel")
            raise self._given_up(exc, job, url, request, seen) from None
        try:
            return self._output(reply, prediction, deadline, warnings)
        except (ProviderError, *SHAPE_ERRORS) as exc:
            # A prediction that failed is not billed by an official model; one that succeeded
            # made images we then could not have.
            billed = request.n if prediction.get("status") in MADE else 0
            raise self.shape_error(exc).of_job(job, billed_images=billed) from None

    def _given_up(
        self,
        exc: Exception,
        job: str,
        cancel_url: str | None,
        request: ImageRequest,
        seen: list[str],
    ) -> ProviderError:
        """Cancel a prediction we give up on, and say what it failed with and may cost.

        Replicate bills the time a prediction ran (and an official model its outputs). One
        we never saw processing, and whose cancel answered "canceled", never ran; any other
        may have, and is charged."""
        url = cancel_url or f"{self.base_url}/v1/predictions/{job}/cancel"
        answer = cancel(self.client, "POST", url, self._headers())
        never_ran = "processing" not in seen and answer == "canceled"
        return self.shape_error(exc).of_job(job, billed_images=0 if never_ran else request.n)

    def _output(
        self,
        reply: Reply,
        prediction: dict[str, Any],
        deadline: Deadline,
        warnings: tuple[str, ...],
    ) -> ProviderResponse:
        status = reply.response.status_code
        if prediction["status"] not in MADE:
            error = str(prediction.get("error") or prediction["status"])
            kind = ErrorKind.CONTENT_POLICY if POLICY_WORDS.search(error) else None
            raise ProviderError(
                kind or ErrorKind.MODEL_FAILURE,
                f"Prediction {prediction.get('id')} {prediction['status']}: {error}",
                http_status=status,
            )
        urls = _urls(prediction)
        if not urls:
            raise ProviderError(
                ErrorKind.EMPTY, "The prediction had no output.", http_status=status
            )
        return ProviderResponse(
            images=fetch_images(self.client, urls, deadline),
            http_status=status,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
            request_id=str(prediction.get("id", "")),
        )

    def _wait(
        self,
        reply: Reply,
        prediction: dict[str, Any],
        headers: dict[str, str],
        deadline: Deadline,
        seen: list[str],
    ) -> tuple[Reply, dict[str, Any]]:
        """Poll until the prediction ends; `seen` gets each status as it comes.

        An answer to `Prefer: wait` may carry the output while its status still says
        "processing" (replicate-python's `run` takes any blocking answer that is past
        "starting" as final; replicate.com/docs/topics/predictions/create-a-prediction, sync
        mode): such output is used as it is, not polled for.
        """
        if prediction["status"] == "processing" and _urls(prediction):
            return reply, prediction
        while prediction["status"] in RUNNING:
            deadline.sleep(self.poll_interval)
            reply = get_retrying(self.client, prediction["urls"]["get"], deadline, headers=headers)
            if reply.response.is_error:
                raise _error(reply.response)
            prediction = json_of(reply.response)
            seen.append(prediction["status"])
        return reply, prediction


def _arguments(
    offering: OfferingSpec, request: ImageRequest
) -> tuple[dict[str, Any], tuple[str, ...]]:
    options = offering.options
    arguments: dict[str, Any] = {"prompt": request.prompt}
    if options.get("size_param") == "custom":
        # replicate.com/bytedance/seedream-4/api: size "custom" makes width x height (each
        # 1024 to 4096); its aspect_ratio applies only to the 1K / 2K / 4K presets.
        size, warnings = fit_sides(request.size, options.get("side_range"))
        if size:
            arguments.update(size="custom", width=size[0], height=size[1])
        return arguments, warnings
    ratio, warnings = nearest_aspect_ratio(
        request.size, ReplicateProvider.shapes(offering).aspect_ratios
    )
    if ratio:
        arguments["aspect_ratio"] = ratio
    return arguments, warnings


def _job_of(
    prediction: dict[str, Any], offering: OfferingSpec, name: str, base: str, *, webhook: bool
) -> JobRef:
    job_id = str(prediction["id"])
    urls = prediction.get("urls") or {}
    return JobRef(
        provider=name,
        offering=offering.key,
        job_id=job_id,
        urls={
            "get": str(urls.get("get") or f"{base}/v1/predictions/{job_id}"),
            "cancel": str(urls.get("cancel") or f"{base}/v1/predictions/{job_id}/cancel"),
        },
        webhook=webhook,
    )


def _urls(prediction: dict[str, Any]) -> list[str]:
    output = prediction.get("output")
    return [output] if isinstance(output, str) else [url for url in output or [] if url]


def _error(response: httpx.Response) -> ProviderError:
    """Replicate answers errors as problem details: `{"title", "detail", "status"}`."""
    try:
        body = response.json()
        message = str(body.get("detail") or body.get("title") or "")
    except (ValueError, AttributeError):
        message = response.text[:300]
    # An account out of prepaid credit gets 402 Payment Required: no work starts until it is
    # topped up (replicate.com/docs/topics/billing/prepaid-credit).
    kind = ErrorKind.QUOTA_EXHAUSTED if response.status_code == 402 else None
    return failure(response, f"Replicate HTTP {response.status_code}: {message}", kind)
