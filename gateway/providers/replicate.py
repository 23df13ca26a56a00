"""Replicate's official models: `POST {base}/v1/models/{owner}/{name}/predictions` with
`Prefer: wait`, then `urls.get` polled until the prediction ends, then `output` downloaded.

Wire format: tests/gateway/fakes/replicate/ (recorded shapes, with the documentation they follow).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline, Reply, failure, fetch_images, json_of, send
from gateway.normalize import (
    ASPECT_RATIOS,
    ParamMode,
    ParamRule,
    ParamTable,
    Shapes,
    fit_sides,
    nearest_aspect_ratio,
)
from gateway.providers.base import HTTPProvider, ProviderResponse, model_inputs
from gateway.types import ErrorKind, ImageRequest, Operation

RUNNING = frozenset({"starting", "processing"})
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


class ReplicateProvider(HTTPProvider):
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
        return Shapes(aspect_ratios=tuple(offering.options.get("aspect_ratios", ASPECT_RATIOS)))

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        arguments, warnings = _arguments(offering, request)
        model_inputs(arguments, request, offering, image_field="image_input", image_list=True)
        headers = {"Authorization": f"Bearer {self.api_key}"}
        # Asking Replicate to hold the request no longer than our own budget leaves time to
        # learn the prediction's id, to poll or cancel it, instead of timing out blind.
        hold = max(1, min(MAX_WAIT_SECONDS, int(deadline.remaining()) - 1))
        reply = send(
            self.client,
            "POST",
            f"{self.base_url}/v1/models/{offering.provider_model_for(operation)}/predictions",
            deadline,
            json={"input": arguments},
            headers={**headers, "Prefer": f"wait={hold}"},
        )
        if reply.response.is_error:
            raise _error(reply.response)
        prediction = json_of(reply.response)
        try:
            reply, prediction = self._wait(reply, prediction, headers, deadline)
        except ProviderError as exc:
            cancel = (prediction.get("urls") or {}).get("cancel")
            if exc.kind is ErrorKind.TIMEOUT and cancel:
                with contextlib.suppress(httpx.HTTPError):
                    self.client.post(cancel, headers=headers, timeout=2)
            raise
        status = reply.response.status_code
        if prediction["status"] != "succeeded":
            error = str(prediction.get("error") or prediction["status"])
            kind = ErrorKind.CONTENT_POLICY if POLICY_WORDS.search(error) else None
            raise ProviderError(
                kind or ErrorKind.MODEL_FAILURE,
                f"Prediction {prediction.get('id')} {prediction['status']}: {error}",
                http_status=status,
            )
        output = prediction.get("output")
        urls = [output] if isinstance(output, str) else [url for url in output or [] if url]
        if not urls:
            raise ProviderError(
                ErrorKind.EMPTY, "The prediction had no output.", http_status=status
            )
        return ProviderResponse(
            images=fetch_images(self.client, urls, deadline),
            http_status=status,
            ttfb_ms=reply.ttfb_ms,
            warnings=warnings,
        )

    def _wait(
        self,
        reply: Reply,
        prediction: dict[str, Any],
        headers: dict[str, str],
        deadline: Deadline,
    ) -> tuple[Reply, dict[str, Any]]:
        while prediction["status"] in RUNNING:
            deadline.sleep(self.poll_interval)
            reply = send(self.client, "GET", prediction["urls"]["get"], deadline, headers=headers)
            if reply.response.is_error:
                raise _error(reply.response)
            prediction = json_of(reply.response)
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


def _error(response: httpx.Response) -> ProviderError:
    """Replicate answers errors as problem details: `{"title", "detail", "status"}`."""
    try:
        body = response.json()
        message = str(body.get("detail") or body.get("title") or "")
    except (ValueError, AttributeError):
        message = response.text[:300]
    return failure(response, f"Replicate HTTP {response.status_code}: {message}")
