"""The built-in provider: procedural Pillow models, no network.

It behaves like a remote service on purpose (a latency drawn from the catalog's distribution,
an occasional failure) so that routing, metrics and the speed charts have something real to
measure. `GATEWAY_LOCAL_LATENCY_SCALE` scales the simulated latency (0 disables it in tests).

Every image is drawn from a seed: the request's, or a fresh secret one when it brings none, so
a caller that does not choose a seed never gets a picture anyone can draw again. The n images
of one request are the seed's variants.
"""

from __future__ import annotations

import io
import math
import os
import random
import secrets
import time
from contextlib import nullcontext
from functools import partial
from typing import ClassVar

from PIL import Image

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline
from gateway.normalize import ParamMode, ParamRule, ParamTable, Shapes, parse_size
from gateway.providers.base import ProviderResponse
from gateway.types import ErrorKind, ImageRequest, Operation, PartialImages

DEFAULT_SIZE = (1024, 1024)


class LocalProvider:
    name = "local"
    params: ClassVar[ParamTable] = {
        "prompt": ParamRule(ParamMode.PASSTHROUGH, "prompt"),
        "size": ParamRule(
            ParamMode.PASSTHROUGH,
            "width, height",
            "rendered at exactly WxH; an edit is resized to it (the source's size without one)",
        ),
        "n": ParamRule(ParamMode.PASSTHROUGH, "n"),
        "quality": ParamRule(ParamMode.UNSUPPORTED),
        "style": ParamRule(ParamMode.UNSUPPORTED),
        "response_format": ParamRule(ParamMode.EMULATED, "", "PNG bytes"),
        "images": ParamRule(ParamMode.PASSTHROUGH, "source", "the first image is edited"),
        "mask": ParamRule(ParamMode.UNSUPPORTED),
        "seed": ParamRule(
            ParamMode.PASSTHROUGH, "seed", "any integer; without one, a fresh random seed"
        ),
        "extra": ParamRule(ParamMode.UNSUPPORTED, "", "ignored"),
    }
    extra_params: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, latency_scale: float | None = None, rng: random.Random | None = None):
        if latency_scale is None:
            latency_scale = float(os.environ.get("GATEWAY_LOCAL_LATENCY_SCALE", "1"))
        self.latency_scale = latency_scale
        self.rng = rng or random.Random()

    def configured(self) -> bool:
        return True

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        return Shapes()

    def images_per_call(self, offering: OfferingSpec) -> int:
        return int(offering.options.get("max_n_per_call", 10))

    def call(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline | None = None,
        partials: PartialImages | None = None,
    ) -> ProviderResponse:
        """The images; with `partials`, the first one's stages as it is painted (see
        gateway.local.stages), and the time to the first of them as the time to first byte."""
        # The renderers pull in scipy (half a second): only processes that draw pay for it.
        from gateway import local

        started = time.perf_counter()
        self._simulate_service(offering, deadline)
        size = parse_size(request.size)
        width, height = size or DEFAULT_SIZE
        seed = secrets.randbits(63) if request.seed is None else request.seed
        model = offering.provider_model
        if operation is Operation.EDIT:
            source = decode_image(request.images[0])
            # An edit keeps the source's shape while it is painted, then takes the size asked.
            shape, stages = source.size, local.stages.EDIT_STAGES
            draw = partial(local.edit, model, source, request.prompt, seed=seed)
            resize_to = size
        else:
            shape, stages = (width, height), local.stages.STAGES
            draw = partial(local.render, model, request.prompt, width, height, seed=seed)
            resize_to = None
        shown_at: list[float] = []

        def emit(image: Image.Image) -> None:
            shown_at.append(time.perf_counter())
            assert partials is not None
            partials.emit(encode_png(image))

        watched = (
            local.stages.shown(emit, wanted=partials.count, stages=stages, size=shape)
            if partials is not None
            else nullcontext()
        )
        with watched:
            first = draw(variant=0)
        images = [first, *(draw(variant=i) for i in range(1, request.n))]
        if resize_to is not None:
            images = [image.resize(resize_to, Image.Resampling.LANCZOS) for image in images]
        encoded = [encode_png(image) for image in images]
        ttfb_ms = ((shown_at or [time.perf_counter()])[0] - started) * 1000
        return ProviderResponse(images=encoded, ttfb_ms=ttfb_ms)

    def _simulate_service(self, offering: OfferingSpec, deadline: Deadline | None) -> None:
        options = offering.options
        median_ms = float(options.get("latency_ms", 0))
        if median_ms and self.latency_scale > 0:
            sigma = float(options.get("latency_sigma", 0.3))
            delay_ms = median_ms * math.exp(self.rng.gauss(0, sigma))
            delay = delay_ms * self.latency_scale / 1000
            if deadline is not None:
                deadline.sleep(delay)
                deadline.remaining()  # a simulated call slower than the budget times out
            else:
                time.sleep(delay)
        if self.rng.random() < float(options.get("fail_rate", 0)):
            raise ProviderError(
                ErrorKind.MODEL_FAILURE,
                f"{offering.model} failed to produce an image (simulated overload).",
            )


def decode_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise ProviderError(
            ErrorKind.INVALID_REQUEST, f"The source image could not be read: {exc}"
        ) from None
    return image.convert("RGB")


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Level 1 deflates in about a quarter of level 6's time; the arena re-encodes anyway.
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()
