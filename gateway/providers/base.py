"""What every provider adapter implements, and the base of the ones reached over HTTP."""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import JobDetached, ProviderError
from gateway.http import Deadline, data_uri
from gateway.normalize import ParamTable, Shapes, wire_seed
from gateway.types import ErrorKind, ImageRequest, JobRef, Operation, PartialImages

logger = logging.getLogger(__name__)

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
    tokens: Mapping[str, int] | None = None  # what it reported, by kind (types.TOKEN_KINDS)


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


@dataclass(frozen=True, slots=True)
class JobHooks:
    """What a caller asks of a provider's job: `on_job` is called with the job as soon as the
    provider accepted it, before any wait; with a `webhook_base` the provider is asked to call
    its own webhook under it when the job ends, and the call returns at once (JobDetached)
    instead of polling."""

    on_job: Callable[[JobRef], None]
    webhook_base: str = ""

    def webhook_url(self, provider: str) -> str:
        """Where `provider` reports a job's end: `{webhook_base}/{provider}/`, or "" to poll."""
        return f"{self.webhook_base}/{provider}/" if self.webhook_base else ""

    def report(self, job: JobRef) -> None:
        """Give the caller the job the provider accepted; then, if the webhook is to finish it,
        stop waiting (JobDetached). A caller that failed to keep the job gets its images by
        polling instead: the job is paid for either way, and one left to a webhook that
        nobody can match to it would be lost."""
        try:
            self.on_job(job)
        except Exception:
            logger.exception(
                "%s job %s could not be reported; waiting on it", job.provider, job.job_id
            )
            return
        if job.webhook:
            raise JobDetached(job)


@runtime_checkable
class JobProvider(Provider, Protocol):
    """A provider whose calls are jobs it runs on its side (fal's queue, Replicate's
    predictions), which can be reported as they start and resumed after a crash."""

    def submit(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline,
        hooks: JobHooks,
    ) -> ProviderResponse:
        """As `call`, reporting the job to `hooks` once accepted (and detaching if asked)."""
        ...

    def resume(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        job: JobRef,
        *,
        deadline: Deadline,
    ) -> ProviderResponse:
        """Wait for a job submitted earlier (perhaps by a process now gone) and collect its
        images, or raise ProviderError as `call` does (a job the provider no longer knows
        included)."""
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


class QueuedJobProvider(HTTPProvider):
    """A provider whose every call is a job on its side (fal's queue, Replicate's predictions):
    a plain call and a submit with hooks are one path, `submit_job`, told apart by `hooks`."""

    def run(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
    ) -> ProviderResponse:
        return self.submit_job(offering, request, operation, deadline, None)

    def submit(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        *,
        deadline: Deadline,
        hooks: JobHooks,
    ) -> ProviderResponse:
        try:
            return self.submit_job(offering, request, operation, deadline, hooks)
        except SHAPE_ERRORS as exc:
            raise self.shape_error(exc) from None

    @abc.abstractmethod
    def submit_job(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
        hooks: JobHooks | None,
    ) -> ProviderResponse:
        """Submit the job (reporting it to `hooks` once accepted), wait and collect it."""


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
