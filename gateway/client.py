"""The gateway itself: check the request, rank the model's offerings, call them in that order
until the images are made, and record every attempt with its time and cost."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from types import TracebackType

import httpx

from gateway.catalog import Catalog, OfferingSpec, default_catalog
from gateway.errors import GatewayError, ProviderError, RequestRefused
from gateway.http import (
    DEFAULT_POLL_RETRIES,
    DEFAULT_TIMEOUT_SECONDS,
    Deadline,
    RetryBudget,
    build_client,
    timeout_from_env,
)
from gateway.normalize import call_seed, check, effective_params, prepare
from gateway.providers import PROVIDER_IDS, Provider, providers_from_env
from gateway.routing import QUOTA_REST_SECONDS, Router, RoutingPolicy
from gateway.types import Attempt, ErrorKind, ImageRequest, ImageResult, Operation, PartialImages
from gateway.window import window_from_env

Call = tuple[Attempt, list[bytes], ProviderError | None]

DEFAULT_MAX_OFFERINGS = 3


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """What bounds one request: its deadline, how many offerings it may try, how many transient
    errors its jobs' polls may retry, and how long a provider out of credit rests."""

    # seconds for the whole request, fallbacks included; also the most a caller may ask for
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_offerings: int = DEFAULT_MAX_OFFERINGS
    poll_retries: int = DEFAULT_POLL_RETRIES
    quota_rest_seconds: float = QUOTA_REST_SECONDS

    def budget(self) -> RetryBudget:
        return RetryBudget(self.poll_retries)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GatewaySettings:
        """GATEWAY_TIMEOUT_SECONDS, GATEWAY_MAX_OFFERINGS, GATEWAY_POLL_RETRIES and
        GATEWAY_QUOTA_REST_SECONDS, each defaulting to the value above."""

        def number(name: str, default: float) -> float:
            value = environ.get(name)
            return float(value) if value else default

        return cls(
            timeout=timeout_from_env(environ),
            max_offerings=int(number("GATEWAY_MAX_OFFERINGS", DEFAULT_MAX_OFFERINGS)),
            poll_retries=int(number("GATEWAY_POLL_RETRIES", DEFAULT_POLL_RETRIES)),
            quota_rest_seconds=number("GATEWAY_QUOTA_REST_SECONDS", QUOTA_REST_SECONDS),
        )


class Gateway:
    """One per process: it holds the HTTP connection pool and the routing window.

    With no arguments it builds itself from the environment: the catalog file, the local
    provider plus each remote one whose key is set, the request bounds of GatewaySettings,
    and a window in Redis when REDIS_URL is set. `timeout` overrides the settings' deadline.
    """

    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        providers: Mapping[str, Provider] | None = None,
        router: Router | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float | None = None,
        settings: GatewaySettings | None = None,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = 0.5,
    ) -> None:
        env = os.environ if environ is None else environ
        self.catalog = catalog or default_catalog()
        self.settings = settings or GatewaySettings.from_env(env)
        if timeout is not None:
            self.settings = replace(self.settings, timeout=timeout)
        self.timeout = self.settings.timeout
        self.client = build_client(timeout=self.timeout, transport=transport)
        self.providers: dict[str, Provider] = dict(
            providers
            if providers is not None
            else providers_from_env(env, self.client, poll_interval=poll_interval)
        )
        self.router = router or Router(
            window_from_env(env),
            policy=RoutingPolicy(quota_rest_seconds=self.settings.quota_rest_seconds),
        )

    def generate(
        self, request: ImageRequest, *, partials: PartialImages | None = None
    ) -> ImageResult:
        """The images; with `partials`, the first one also in progress, where the provider
        can show it."""
        return self._run(request, Operation.GENERATE, partials)

    def edit(self, request: ImageRequest, *, partials: PartialImages | None = None) -> ImageResult:
        return self._run(request, Operation.EDIT, partials)

    def check(self, request: ImageRequest, operation: Operation) -> None:
        """Refuse a request the model can never fulfil (RequestRefused), before any call: a
        caller that queues work checks here first, so what it queues can run."""
        check(self.catalog.model(request.model), request, operation)
        if request.timeout is not None and not request.timeout > 0:
            raise RequestRefused(
                ErrorKind.INVALID_REQUEST,
                f"The timeout must be a number of seconds above 0, not {request.timeout!r}.",
                param="timeout",
            )

    def deadline(self, request: ImageRequest) -> Deadline:
        """The request's one deadline: the caller's timeout within the gateway's own."""
        seconds = min(request.timeout or self.timeout, self.timeout)
        return Deadline(seconds, retries=self.settings.budget())

    def routable_offerings(self, model_id: str) -> list[OfferingSpec]:
        spec = self.catalog.model(model_id)
        return [
            offering
            for offering in spec.offerings
            if (provider := self.providers.get(offering.provider)) and provider.configured()
        ]

    def is_routable(self, model_id: str) -> bool:
        return bool(self.routable_offerings(model_id))

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(
        self, request: ImageRequest, operation: Operation, partials: PartialImages | None
    ) -> ImageResult:
        self.check(request, operation)
        offerings = self.routable_offerings(request.model)
        if not offerings:
            raise GatewayError(
                ErrorKind.NOT_CONFIGURED,
                f"No provider of '{request.model}' is configured (missing API keys).",
                http_status=503,
            )
        deadline = self.deadline(request)
        plan = self.router.plan(offerings)
        if not plan.order:
            if plan.out_of_credit >= {offering.provider for offering in offerings}:
                raise GatewayError(
                    ErrorKind.QUOTA_EXHAUSTED,
                    f"Every provider of '{request.model}' is out of credit until an operator "
                    "tops its account up.",
                    http_status=503,
                    retry_after=plan.retry_after,
                )
            raise GatewayError(
                ErrorKind.RATE_LIMITED,
                f"Every provider of '{request.model}' is resting after failures or rate limits.",
                http_status=503,
                retry_after=plan.retry_after,
            )
        attempts: list[Attempt] = []
        images: list[bytes] = []
        failure: ProviderError | None = None
        tries = plan.order[: max(1, self.settings.max_offerings)]
        for index, offering in enumerate(tries):
            # The time left is split evenly among the offerings still to try, so a hung first
            # one leaves the others their turn; what one does not use passes on to the next.
            share = deadline.share(deadline.left() / (len(tries) - index))
            if index and share.seconds <= 0:
                break
            for attempt, made, error in self._attempt(
                offering,
                replace(request, n=request.n - len(images)),
                operation,
                share,
                # only the first image is shown in progress
                None if images else partials,
            ):
                attempts.append(attempt)
                images += made
                if error and (failure is None or failure.retryable):
                    failure = error
            # Images a safety checker withheld are a refusal: another provider is not asked for
            # them, and the caller gets the ones that passed.
            if len(images) >= request.n or (images and any(a.withheld for a in attempts)):
                succeeded = [a for a in attempts if a.ok]
                return ImageResult(
                    model=request.model,
                    provider=offering.provider,
                    images=images[: request.n],
                    attempts=attempts,
                    warnings=tuple(dict.fromkeys(w for a in succeeded for w in a.warnings)),
                    seeds=tuple(seed for a in succeeded for seed in a.seeds),
                    revised_prompts=tuple(text for a in succeeded for text in a.revised_prompts),
                    safety=tuple(flag for a in succeeded for flag in a.safety),
                )
            if failure and not failure.retryable:
                break
        assert failure is not None
        message = failure.message
        if failure.kind is ErrorKind.CONTENT_POLICY:
            billed = sum((a.cost for a in attempts), Decimal("0"))
            message += (
                f" The provider billed ${billed.normalize():f} for it."
                if billed
                else " The provider did not bill for it."
            )
        raise GatewayError(
            failure.kind,
            message,
            attempts=attempts,
            http_status=failure.http_status,
            retry_after=failure.retry_after,
        )

    def _attempt(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        deadline: Deadline,
        partials: PartialImages | None = None,
    ) -> list[Call]:
        """Ask one offering for `request.n` images: in one call, or in parallel calls where
        the provider makes fewer per call."""
        provider = self.providers[offering.provider]
        prepared, warnings = prepare(
            effective_params(provider.params, offering),
            offering,
            request,
            extra_params=provider.extra_params,
            scopes=PROVIDER_IDS,
        )
        per_call = max(1, provider.images_per_call(offering))
        counts = [min(per_call, request.n - start) for start in range(0, request.n, per_call)]
        if len(counts) == 1:
            return [
                self._call(provider, offering, prepared, operation, warnings, deadline, partials)
            ]
        calls = [
            replace(prepared, n=count, seed=call_seed(prepared.seed, k))
            for k, count in enumerate(counts)
        ]
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(
                pool.map(
                    lambda k, call: self._call(
                        provider,
                        offering,
                        call,
                        operation,
                        warnings,
                        deadline.share(deadline.left()),
                        None if k else partials,
                    ),
                    range(len(calls)),
                    calls,
                )
            )

    def _call(
        self,
        provider: Provider,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        warnings: tuple[str, ...],
        deadline: Deadline,
        partials: PartialImages | None = None,
    ) -> Call:
        attempt_of = partial(
            Attempt,
            model=offering.model,
            provider=offering.provider,
            provider_model=offering.provider_model_for(operation),
            started_at=datetime.now(UTC),
        )
        try:
            # Asked only when wanted, so a provider that cannot stream need not know of it.
            streamed = {"partials": partials} if partials else {}
            response = provider.call(offering, request, operation, deadline=deadline, **streamed)
        except ProviderError as exc:
            attempt = attempt_of(
                ok=False,
                total_ms=deadline.elapsed_ms(),
                http_status=exc.http_status,
                error_kind=exc.kind,
                error=exc.message,
                # What the provider said it bills for the failure (tokens of a refused
                # prompt), or a job it ran, or may have, before it failed or was given up on.
                cost=exc.billed + offering.price_for(request.quality) * exc.billed_images,
                warnings=warnings,
                provider_request_id=exc.provider_request_id,
            )
            self.router.record(attempt, exc.retry_after)
            return attempt, [], exc
        attempt = attempt_of(
            ok=True,
            total_ms=deadline.elapsed_ms(),
            ttfb_ms=response.ttfb_ms,
            http_status=response.http_status,
            images=len(response.images),
            # What the provider reported it bills (tokens, megapixels), else the catalog's
            # price for every image it made, those withheld for safety included.
            cost=(
                response.cost
                if response.cost is not None
                else offering.price_for(request.quality)
                * (len(response.images) + response.withheld)
            ),
            warnings=warnings + response.warnings,
            withheld=response.withheld,
            seeds=response.seeds,
            revised_prompts=response.revised_prompts,
            safety=response.safety,
            provider_request_id=response.request_id,
        )
        self.router.record(attempt)
        return attempt, response.images, None


_default: Gateway | None = None
_default_lock = threading.Lock()


def default_gateway() -> Gateway:
    global _default
    with _default_lock:
        if _default is None:
            _default = Gateway()
        return _default


def set_default_gateway(gateway: Gateway | None) -> None:
    """Replace the process-wide gateway (tests; or None to rebuild it from the environment)."""
    global _default
    with _default_lock:
        _default = gateway
