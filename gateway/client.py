"""The gateway itself: find the model, call its offerings in order, record every attempt."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

from gateway.catalog import Catalog, OfferingSpec, default_catalog
from gateway.errors import GatewayError, ProviderError
from gateway.providers.base import Provider
from gateway.providers.local import LocalProvider
from gateway.types import Attempt, ErrorKind, ImageRequest, ImageResult, Operation


class Gateway:
    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        providers: Mapping[str, Provider] | None = None,
    ) -> None:
        self.catalog = catalog or default_catalog()
        self.providers: dict[str, Provider] = dict(
            providers if providers is not None else {"local": LocalProvider()}
        )

    def generate(self, request: ImageRequest) -> ImageResult:
        return self._run(request, Operation.GENERATE)

    def edit(self, request: ImageRequest) -> ImageResult:
        return self._run(request, Operation.EDIT)

    def routable_offerings(self, model_id: str) -> list[OfferingSpec]:
        spec = self.catalog.model(model_id)
        return [
            offering
            for offering in spec.offerings
            if (provider := self.providers.get(offering.provider)) and provider.configured()
        ]

    def is_routable(self, model_id: str) -> bool:
        return bool(self.routable_offerings(model_id))

    def _run(self, request: ImageRequest, operation: Operation) -> ImageResult:
        spec = self.catalog.model(request.model)
        if operation not in spec.operations:
            raise GatewayError(
                ErrorKind.UNSUPPORTED,
                f"Model '{spec.id}' cannot {operation.value} images.",
                http_status=400,
            )
        if operation is Operation.EDIT and not request.images:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST, "An edit needs a source image.", http_status=400
            )
        offerings = self.routable_offerings(spec.id)
        if not offerings:
            raise GatewayError(
                ErrorKind.NOT_CONFIGURED,
                f"No provider of '{spec.id}' is configured (missing API keys).",
                http_status=503,
            )
        attempts: list[Attempt] = []
        for offering in offerings:
            started_at = datetime.now(UTC)
            started = time.perf_counter()
            try:
                response = self.providers[offering.provider].call(offering, request, operation)
            except ProviderError as exc:
                attempts.append(
                    Attempt(
                        model=spec.id,
                        provider=offering.provider,
                        provider_model=offering.provider_model_for(operation),
                        started_at=started_at,
                        ok=False,
                        total_ms=(time.perf_counter() - started) * 1000,
                        http_status=exc.http_status,
                        error_kind=exc.kind,
                        error=exc.message,
                    )
                )
                if not exc.retryable:
                    break
                continue
            attempts.append(
                Attempt(
                    model=spec.id,
                    provider=offering.provider,
                    provider_model=offering.provider_model_for(operation),
                    started_at=started_at,
                    ok=True,
                    total_ms=(time.perf_counter() - started) * 1000,
                    ttfb_ms=response.ttfb_ms,
                    http_status=response.http_status,
                    images=len(response.images),
                    cost=offering.price * len(response.images),
                    warnings=response.warnings,
                )
            )
            return ImageResult(
                model=spec.id,
                provider=offering.provider,
                images=response.images,
                attempts=attempts,
                warnings=response.warnings,
            )
        last = attempts[-1]
        assert last.error_kind is not None
        raise GatewayError(last.error_kind, last.error, attempts=attempts, http_status=last.http_status)


_default: Gateway | None = None


def default_gateway() -> Gateway:
    global _default
    if _default is None:
        _default = Gateway()
    return _default


def set_default_gateway(gateway: Gateway | None) -> None:
    """Replace the process-wide gateway (tests; or None to rebuild it from the environment)."""
    global _default
    _default = gateway
