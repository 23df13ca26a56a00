"""What every provider adapter implements, and the base of the ones reached over HTTP."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline, data_uri
from gateway.normalize import ParamTable, Shapes, wire_seed
from gateway.types import ErrorKind, ImageRequest, Operation, PartialImages

# What reading a body of the wrong shape raises.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """What one successful provider call returned.

    `ttfb_ms` is measured from the start of the call to the first byte of the first response
    that carried (or led to) the images; the router measures the total itself. `cost` is what
    the call is billed as computed from what the provider reported (tokens, megapixels), None
    when it reported nothing to price (the catalog's per-image price then applies). `withheld`
    counts images the provider made, and billed, but kept back for safety.
    """

    images: list[bytes]
    http_status: int | None = None
    ttfb_ms: float | None = None
    warnings: tuple[str, ...] = ()
    cost: Decimal | None = None
    withheld: int = 0
    seeds: tuple[int, ...] = ()
    revised_prompts: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    request_id: str = ""  # the provider's id of the call, when it gives one


class Provider(Protocol):
    name: str
    params: ClassVar[ParamTable]
    # Options a caller may give at the top level of `extra` for this provider; anything else
    # reaches it only under its own id (normalize.scoped_extras).
    extra_params: ClassVar[frozenset[str]]

    def configured(self) -> bool:
        """Whether this provider has what it needs (a key, a base URL) to be called."""
        ...

    def images_per_call(self, offering: OfferingSpec) -> int:
        """How many images one call can make; the gateway makes more by parallel calls."""
        ...

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        """The image shapes the offering takes (for the model page and the size it sends)."""
        ...

    def call(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline,
        partials: PartialImages | None = None,
    ) -> ProviderResponse:
        """Make the images, or raise ProviderError with the kind of failure; with `partials`,
        hand the first image's partial renders to it as they come, if the provider can."""
        ...


class HTTPProvider(abc.ABC):
    """A provider reached over HTTP with one key and one base URL, through a shared client."""

    params: ClassVar[ParamTable]
    extra_params: ClassVar[frozenset[str]] = frozenset()
    default_images_per_call: ClassVar[int] = 1

    def __init__(
        self,
        *,
        name: str,
        api_key: str,
        base_url: str,
        client: httpx.Client,
        poll_interval: float = 0.5,
    ) -> None:
        self.name = name
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.poll_interval = poll_interval

    def configured(self) -> bool:
        return bool(self.api_key)

    @classmethod
    def shapes(cls, offering: OfferingSpec) -> Shapes:
        """The shapes the offering takes; by default any size, sent as it is."""
        return Shapes()

    def images_per_call(self, offering: OfferingSpec) -> int:
        return int(offering.options.get("max_n_per_call", self.default_images_per_call))

    def call(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline,
        partials: PartialImages | None = None,
    ) -> ProviderResponse:
        try:
            if partials is not None and self.streams(offering, request):
                return self.run_streamed(offering, request, operation, deadline, partials)
            return self.run(offering, request, operation, deadline)
        except SHAPE_ERRORS as exc:
            raise self.shape_error(exc) from None

    def streams(self, offering: OfferingSpec, request: ImageRequest) -> bool:
        """Whether this call can show its image in progress; by default no provider can."""
        return False

    def run_streamed(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
        partials: PartialImages,
    ) -> ProviderResponse:
        """`run`, passing the provider's partial images on as they arrive."""
        raise NotImplementedError

    def shape_error(self, exc: Exception) -> ProviderError:
        """A body of the wrong shape (a string where a list belongs, a missing key) is the
        provider's fault, and as retryable as any other unusable answer."""
        if isinstance(exc, ProviderError):
            return exc
        return ProviderError(
            ErrorKind.BAD_RESPONSE,
            f"{self.name} answered in an unexpected shape ({type(exc).__name__}: {exc}).",
        )

    @abc.abstractmethod
    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse: ...


def model_inputs(
    arguments: dict[str, Any],
    request: ImageRequest,
    offering: OfferingSpec,
    *,
    image_field: str,
    image_list: bool,
) -> dict[str, Any]:
    """Add what fal's and Replicate's flat model inputs share to `arguments`: the style, the
    seed, the source images as data URIs under the model's own field (the catalog's
    `image_field`, one URI or a list per `image_list`), then the caller's extras for this
    provider."""
    options = offering.options
    if request.style is not None:
        arguments["style"] = request.style
    if request.seed is not None:
        arguments["seed"] = wire_seed(request.seed)
    if request.images:
        uris = [data_uri(image) for image in request.images]
        field = options.get("image_field", image_field)
        arguments[field] = uris if options.get("image_list", image_list) else uris[0]
    arguments.update(request.extra)
    return arguments
