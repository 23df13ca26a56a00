"""The built-in provider: procedural Pillow models, no network.

It behaves like a remote service on purpose (a latency drawn from the catalog's distribution,
an occasional failure) so that routing, metrics and the speed charts have something real to
measure. `GATEWAY_LOCAL_LATENCY_SCALE` scales the simulated latency (0 disables it in tests).
"""

from __future__ import annotations

import io
import math
import os
import random
import time

from PIL import Image

from gateway import local
from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.providers.base import ProviderResponse
from gateway.types import ErrorKind, ImageRequest, Operation

DEFAULT_SIZE = (1024, 1024)


class LocalProvider:
    name = "local"

    def __init__(self, *, latency_scale: float | None = None, rng: random.Random | None = None):
        if latency_scale is None:
            latency_scale = float(os.environ.get("GATEWAY_LOCAL_LATENCY_SCALE", "1"))
        self.latency_scale = latency_scale
        self.rng = rng or random.Random()

    def configured(self) -> bool:
        return True

    def call(
        self, offering: OfferingSpec, request: ImageRequest, operation: Operation
    ) -> ProviderResponse:
        started = time.perf_counter()
        self._simulate_service(offering)
        width, height = parse_size(request.size) if request.size else DEFAULT_SIZE
        if operation is Operation.EDIT:
            source = decode_image(request.images[0])
            images = [
                local.edit(offering.provider_model, source, request.prompt)
                for _ in range(request.n)
            ]
        else:
            images = [
                local.render(offering.provider_model, request.prompt, width, height, variant=i)
                for i in range(request.n)
            ]
        encoded = [encode_png(image) for image in images]
        ttfb_ms = (time.perf_counter() - started) * 1000
        return ProviderResponse(images=encoded, ttfb_ms=ttfb_ms)

    def _simulate_service(self, offering: OfferingSpec) -> None:
        options = offering.options
        median_ms = float(options.get("latency_ms", 0))
        if median_ms and self.latency_scale > 0:
            sigma = float(options.get("latency_sigma", 0.3))
            delay_ms = median_ms * math.exp(self.rng.gauss(0, sigma))
            time.sleep(delay_ms * self.latency_scale / 1000)
        if self.rng.random() < float(options.get("fail_rate", 0)):
            raise ProviderError(
                ErrorKind.MODEL_FAILURE,
                f"{offering.model} failed to produce an image (simulated overload).",
            )


def parse_size(size: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in size.lower().split("x"))
    except ValueError:
        raise ProviderError(
            ErrorKind.INVALID_REQUEST, f"Size must look like 1024x1024, not '{size}'."
        ) from None
    return width, height


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
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
