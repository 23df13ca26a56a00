"""What every provider adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.catalog import OfferingSpec
from gateway.types import ImageRequest, Operation


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """What one successful provider call returned.

    `ttfb_ms` is measured from the start of the call to the first byte of the first response
    that carried (or led to) the images; the router measures the total itself.
    """

    images: list[bytes]
    http_status: int | None = None
    ttfb_ms: float | None = None
    warnings: tuple[str, ...] = ()


class Provider(Protocol):
    name: str

    def configured(self) -> bool:
        """Whether this provider has what it needs (a key, a base URL) to be called."""
        ...

    def call(
        self, offering: OfferingSpec, request: ImageRequest, operation: Operation
    ) -> ProviderResponse:
        """Make the images, or raise ProviderError with the kind of failure."""
        ...
