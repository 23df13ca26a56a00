"""The gateway itself: check the request, rank the model's offerings, call them in that order
until the images are made, and record every attempt with its time and cost."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import httpx

from gateway.catalog import Catalog, OfferingSpec, default_catalog
from gateway.errors import GatewayError, ProviderError, RequestRefused
from gateway.http import (
    DEFAULT_POLL_RETRIES,
    DEFAULT_TIMEOUT_SECONDS,
    ClientOwner,
    Deadline,
    RetryBudget,
    build_client,
    timeout_from_env,
)
from gateway.normalize import call_seed, check, effective_params, prepare
from gateway.providers import PROVIDER_IDS, Keyring, Provider, providers_from_env
from gateway.providers.base import JobHooks, JobProvider, ProviderResponse
from gateway.routing import KEY_FAILURES, QUOTA_REST_SECONDS, SOLE_KEY, Router, RoutingPolicy
from gateway.types import (
    Attempt,
    ErrorKind,
    ImageRequest,
    ImageResult,
    JobRef,
    Operation,
    PartialImages,
)
from gateway.window import window_from_env

Call = tuple[Attempt, list[bytes], ProviderError | None]
JobHook = Callable[[JobRef], None]
# a JobProvider's submit or resume with all but the offering, request and deadline bound
JobCall = Callable[..., ProviderResponse]

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
    # where providers that can call back (fal, Replicate) report a job's end, as
    # `{webhook_base_url}/{provider}/`; empty: the gateway polls
    webhook_base_url: str = ""

    def budget(self, retries: int | None = None) -> RetryBudget:
        """The retries of one request: as many as it asks for, at most the settings'."""
        return RetryBudget(
            self.poll_retries if retries is None else min(retries, self.poll_retries)
        )

    def offerings(self, asked: int | None = None) -> int:
        """How many offerings one request may try: as many as it asks for, at most the
        settings'."""
        most = max(1, self.max_offerings)
        return most if asked is None else min(asked, most)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GatewaySettings:
        """GATEWAY_TIMEOUT_SECONDS, GATEWAY_MAX_OFFERINGS, GATEWAY_POLL_RETRIES,
        GATEWAY_QUOTA_REST_SECONDS and GATEWAY_WEBHOOK_BASE_URL, each defaulting to the value
        above."""

        def number(name: str, default: float) -> float:
            value = environ.get(name)
            return float(value) if value else default

        return cls(
            timeout=timeout_from_env(environ),
            max_offerings=int(number("GATEWAY_MAX_OFFERINGS", DEFAULT_MAX_OFFERINGS)),
            poll_retries=int(number("GATEWAY_POLL_RETRIES", DEFAULT_POLL_RETRIES)),
            quota_rest_seconds=number("GATEWAY_QUOTA_REST_SECONDS", QUOTA_REST_SECONDS),
            webhook_base_url=environ.get("GATEWAY_WEBHOOK_BASE_URL", "").rstrip("/"),
        )


class Gateway(ClientOwner):
    """One per process: it holds the HTTP connection pool and the routing window.

    With no arguments it builds itself from the environment: the catalog file, the local
    provider plus each remote one whose key is set (once per key, when it has several), the
    request bounds of GatewaySettings, and a window in Redis when REDIS_URL is set. `timeout`
    overrides the settings' deadline. `providers` given by hand have one key each.
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
        try:
            self.keyrings: dict[str, Keyring] = (
                {name: {"": provider} for name, provider in providers.items()}
                if providers is not None
                else providers_from_env(env, self.client, poll_interval=poll_interval)
            )
        except (ValueError, OSError):
            self.client.close()  # a configuration that cannot work: say so, hold nothing
            raise
        # Each provider as its first key calls it: what the provider is and takes.
        self.providers: dict[str, Provider] = {
            name: next(iter(keyring.values())) for name, keyring in self.keyrings.items()
        }
        self.router = router or Router(
            window_from_env(env),
            policy=RoutingPolicy(quota_rest_seconds=self.settings.quota_rest_seconds),
        )
        self.router.key_ids = {name: tuple(keyring) for name, keyring in self.keyrings.items()}

    def generate(
        self,
        request: ImageRequest,
        *,
        job: JobRef | None = None,
        on_job: JobHook | None = None,
        detach: bool = False,
        partials: PartialImages | None = None,
    ) -> ImageResult:
        """Make the images. See `run` for `job`, `on_job`, `detach` and `partials`."""
        return self.run(
            request, Operation.GENERATE, job=job, on_job=on_job, detach=detach, partials=partials
        )

    def edit(
        self,
        request: ImageRequest,
        *,
        job: JobRef | None = None,
        on_job: JobHook | None = None,
        detach: bool = False,
        partials: PartialImages | None = None,
    ) -> ImageResult:
        return self.run(
            request, Operation.EDIT, job=job, on_job=on_job, detach=detach, partials=partials
        )

    def run(
        self,
        request: ImageRequest,
        operation: Operation,
        *,
        job: JobRef | None = None,
        on_job: JobHook | None = None,
        detach: bool = False,
        partials: PartialImages | None = None,
    ) -> ImageResult:
        """Make the images of `request`; with `partials`, the first one also in progress,
        where the provider can show it (streaming).

        `on_job` is called with each provider job (fal, Replicate) as soon as the provider
        accepted it, before any wait: a caller that stores it can pass it back as `job` after
        a crash, and the gateway then resumes that job instead of paying for a new one; a job
        the provider failed or no longer knows falls back to a new request (a refusal does
        not). With `detach` and the webhook base URL set, a job is submitted with our webhook
        and the call raises JobDetached instead of waiting: the caller resumes the job when the
        webhook comes.
        """
        hooks = None
        if on_job is not None:
            webhook = self.settings.webhook_base_url if detach else ""
            hooks = JobHooks(on_job, webhook_base=webhook)
        if job is None:
            return self._run(request, operation, hooks, self.deadline(request), partials)
        # one deadline for the resumed job and, if it is lost, the new request
        deadline = self.deadline(request)
        resumed = self._resume(request, operation, job, deadline)
        if isinstance(resumed, ImageResult):
            return resumed
        if resumed.error_kind is ErrorKind.CONTENT_POLICY:
            raise GatewayError(
                resumed.error_kind,
                resumed.error,
                attempts=[resumed],
                http_status=resumed.http_status,
            )
        try:
            result = self._run(request, operation, hooks, deadline, partials)
        except GatewayError as exc:
            exc.attempts.insert(0, resumed)
            raise
        result.attempts.insert(0, resumed)
        return result

    def _resume(
        self, request: ImageRequest, operation: Operation, job: JobRef, deadline: Deadline
    ) -> ImageResult | Attempt:
        """The images of a job submitted earlier, or the failed attempt to collect them."""
        self.check(request, operation)
        offering = next(
            (o for o in self.routable_offerings(request.model) if o.key == job.offering), None
        )
        provider = self.providers.get(job.provider)
        if offering is None or not isinstance(provider, JobProvider):
            return Attempt(
                model=request.model,
                provider=job.provider,
                provider_model="",
                started_at=datetime.now(UTC),
                ok=False,
                total_ms=0.0,
                error_kind=ErrorKind.NOT_CONFIGURED,
                error=f"{job.offering} is no longer configured to resume job {job.job_id}.",
                provider_request_id=job.job_id,
            )
        prepared, warnings = prepare(
            effective_params(provider.params, offering),
            offering,
            request,
            extra_params=provider.extra_params,
            scopes=PROVIDER_IDS,
        )
        resume = partial(provider.resume, job=job)
        # The provider's first key: a job lives in one account, and one key per provider is
        # the common case; a job of another account's key fails to resume and is made anew.
        key_id = next(iter(self.keyrings.get(job.provider, {})), SOLE_KEY[0])
        attempt, images, _ = self._call(
            provider,
            key_id,
            offering,
            prepared,
            operation,
            warnings,
            deadline.share(deadline.left()),
            resume,
        )
        if not attempt.ok:
            return attempt
        return ImageResult(
            model=request.model,
            provider=offering.provider,
            images=images[: request.n],
            attempts=[attempt],
            warnings=attempt.warnings,
            seeds=attempt.seeds,
            revised_prompts=attempt.revised_prompts,
            safety=attempt.safety,
        )

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
        if request.max_offerings is not None and request.max_offerings < 1:
            raise RequestRefused(
                ErrorKind.INVALID_REQUEST,
                f"A request must try at least 1 offering, not {request.max_offerings!r}.",
                param="max_offerings",
            )
        if request.poll_retries is not None and request.poll_retries < 0:
            raise RequestRefused(
                ErrorKind.INVALID_REQUEST,
                f"The retries must be 0 or more, not {request.poll_retries!r}.",
                param="poll_retries",
            )

    def deadline(self, request: ImageRequest) -> Deadline:
        """The request's one deadline and retry budget: the caller's within the gateway's."""
        seconds = min(request.timeout or self.timeout, self.timeout)
        return Deadline(seconds, retries=self.settings.budget(request.poll_retries))

    def routable_offerings(self, model_id: str) -> list[OfferingSpec]:
        spec = self.catalog.model(model_id)
        return [
            offering
            for offering in spec.offerings
            if (provider := self.providers.get(offering.provider)) and provider.configured()
        ]

    def is_routable(self, model_id: str) -> bool:
        return bool(self.routable_offerings(model_id))

    def _run(
        self,
        request: ImageRequest,
        operation: Operation,
        hooks: JobHooks | None,
        deadline: Deadline,
        partials: PartialImages | None = None,
    ) -> ImageResult:
        self.check(request, operation)
        offerings = self.routable_offerings(request.model)
        if not offerings:
            raise GatewayError(
                ErrorKind.NOT_CONFIGURED,
                f"No provider of '{request.model}' is configured (missing API keys).",
                http_status=503,
            )
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
        tries = plan.order[: self.settings.offerings(request.max_offerings)]
        for index, offering in enumerate(tries):
            # Each offering may use all the time left: a call is never cut short to make room
            # for a fallback. A provider that took the request bills it whether we wait or not
            # (a queued job runs on, a synchronous call completes on its side), so cutting a
            # slow but healthy call and asking another would pay twice. A fallback runs on
            # what the failures before it left; a hung provider costs this request its
            # deadline, and its timeout counts against it in the router (it ranks lower, and
            # rests after a few), so later requests go elsewhere.
            share = deadline.share(deadline.left())
            if index and share.seconds <= 0:
                break
            for attempt, made, error in self._attempt(
                offering,
                replace(request, n=request.n - len(images)),
                operation,
                share,
                plan.keys.get(offering.key, SOLE_KEY),
                hooks,
                # only the first image is shown in progress
                None if images else partials,
            ):
                attempts.append(attempt)
                images += made
                if error and (failure is None or failure.retryable):
                    failure = error
            # Images a safety checker withheld, or a parallel call refused, are a refusal:
            # another provider is not asked for them, and the caller gets the ones that passed
            # (paid for with the refused ones), the refusal among the safety flags.
            refusals = [a for a in attempts if a.error_kind is ErrorKind.CONTENT_POLICY]
            refused = refusals or any(a.withheld for a in attempts)
            if len(images) >= request.n or (images and refused):
                return _result(request, offering.provider, attempts, images, refusals)
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
        keys: tuple[str, ...],
        hooks: JobHooks | None,
        partials: PartialImages | None = None,
    ) -> list[Call]:
        """Ask one offering for `request.n` images: in one call, or in parallel calls where
        the provider makes fewer per call, each starting on the next of the offering's healthy
        `keys`. Only a single call's job is reported to `hooks` (one job is what a caller can
        store and resume), and only the first call shows `partials`."""
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
            return self._keyed_call(
                offering, prepared, operation, warnings, deadline, keys, hooks, partials
            )
        calls = [
            replace(prepared, n=count, seed=call_seed(prepared.seed, k))
            for k, count in enumerate(counts)
        ]
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            done = pool.map(
                lambda k: self._keyed_call(
                    offering,
                    calls[k],
                    operation,
                    warnings,
                    deadline.share(deadline.left()),
                    keys[k % len(keys) :] + keys[: k % len(keys)],
                    None,
                    None if k else partials,
                ),
                range(len(calls)),
            )
            return [call for tried in done for call in tried]

    def _keyed_call(
        self,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        warnings: tuple[str, ...],
        deadline: Deadline,
        keys: tuple[str, ...],
        hooks: JobHooks | None = None,
        partials: PartialImages | None = None,
    ) -> list[Call]:
        """One call, made again with the provider's next key while a key is rate limited or
        out of credit and time is left: another key has its own limits and its own credit.
        With `hooks`, a provider that runs jobs submits through them (see JobHooks)."""
        tried: list[Call] = []
        for key_id in keys:
            if tried and deadline.left() <= 0:
                break
            provider = self.keyrings[offering.provider][key_id]
            submit = None
            if hooks is not None and isinstance(provider, JobProvider):
                submit = partial(provider.submit, operation=operation, hooks=hooks)
            tried.append(
                self._call(
                    provider,
                    key_id,
                    offering,
                    request,
                    operation,
                    warnings,
                    deadline,
                    submit,
                    None if tried else partials,
                )
            )
            error = tried[-1][2]
            if error is None or error.kind not in KEY_FAILURES:
                break
        return tried

    def _call(
        self,
        provider: Provider,
        key_id: str,
        offering: OfferingSpec,
        request: ImageRequest,
        operation: Operation,
        warnings: tuple[str, ...],
        deadline: Deadline,
        job_call: JobCall | None = None,
        partials: PartialImages | None = None,
    ) -> Call:
        """One call to the provider (or `job_call`: a submit with hooks, or a resume, both
        taking the offering, request and deadline), as an Attempt with its images."""
        attempt_of = partial(
            Attempt,
            model=offering.model,
            provider=offering.provider,
            provider_model=offering.provider_model_for(operation),
            started_at=datetime.now(UTC),
            key_id=key_id,
        )
        try:
            if job_call is None:
                # Asked only when wanted, so a provider that cannot stream need not know of it.
                streamed = {"partials": partials} if partials else {}
                response = provider.call(
                    offering, request, operation, deadline=deadline, **streamed
                )
            else:
                response = job_call(offering, request, deadline=deadline)
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
            tokens=response.tokens,
        )
        self.router.record(attempt)
        return attempt, response.images, None


def _result(
    request: ImageRequest,
    provider: str,
    attempts: list[Attempt],
    images: list[bytes],
    refusals: list[Attempt],
) -> ImageResult:
    """The images made, with what the calls that made them told; fewer than asked for (the
    rest withheld or refused) with a warning saying so, and the refusals among the flags."""
    succeeded = [a for a in attempts if a.ok]
    warnings = [w for a in succeeded for w in a.warnings]
    if len(images) < request.n:
        warnings.append(
            f"Only {len(images)} of the {request.n} images asked for passed the provider's "
            "safety checks."
        )
    return ImageResult(
        model=request.model,
        provider=provider,
        images=images[: request.n],
        attempts=attempts,
        warnings=tuple(dict.fromkeys(warnings)),
        seeds=tuple(seed for a in succeeded for seed in a.seeds),
        revised_prompts=tuple(text for a in succeeded for text in a.revised_prompts),
        safety=tuple(flag for a in succeeded for flag in a.safety)
        + tuple(a.error for a in refusals),
    )


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
