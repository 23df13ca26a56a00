"""Batch generation: many image requests sent to a provider's batch API as one job, at the
catalog's batch price, for work that can wait (the arena's pre-generation).

A batch is submitted once and polled until it ends; each request in it is a line, named by a
key the caller chooses, that ends with its images or an error. The caller stores what it needs
(the provider's batch id, the keys) between polls: nothing here lives longer than a call.

Every batch is submitted under a label the caller chose and stored before submitting (a uuid):
the provider keeps it with the batch and lists it, so a caller that never heard the batch's id
(killed during the upload, or before it stored the answer) finds the batch again with `find`
rather than paying for its requests twice.

Providers with a batch client: `openai` (the Batch API over /v1/images/generations) and
`gemini` (models/{model}:batchGenerateContent with inlined requests). Wire formats:
tests/gateway/fakes/openai_batch/ and gemini_batch/, with the documentation they follow.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from gateway.catalog import Catalog, OfferingSpec, default_catalog
from gateway.errors import GatewayError, ProviderError
from gateway.http import ClientOwner, Deadline, build_client
from gateway.normalize import check, effective_params, prepare
from gateway.providers import PROVIDER_IDS, SERVICES, deployments
from gateway.providers.batchbase import (
    BatchClient,
    BatchState,
    HTTPBatchClient,
    LineOutcome,
)
from gateway.providers.gemini_batch import GeminiBatchClient
from gateway.providers.openai_batch import OpenAIBatchClient
from gateway.types import Attempt, ErrorKind, ImageRequest, Operation

__all__ = [
    "BATCH_CLIENTS",
    "BatchGateway",
    "BatchLine",
    "BatchPoll",
    "BatchState",
    "Submission",
    "batch_clients_from_env",
    "default_batch_gateway",
    "set_default_batch_gateway",
]

# Submitting uploads a file of every request and polling downloads every image: a budget for
# one such exchange, not for the batch, which the provider runs for up to a day.
BATCH_CALL_SECONDS = 300.0
# How far a provider's clock may run behind ours when `find` skips batches made before then.
CLOCK_SKEW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One request of an ended batch: its images (none when it failed) and the attempt to
    record, at the batch price, with `batch=True`."""

    key: str
    images: list[bytes]
    attempt: Attempt

    @property
    def ok(self) -> bool:
        return self.attempt.ok


@dataclass(frozen=True, slots=True)
class BatchPoll:
    state: BatchState
    lines: tuple[BatchLine, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class Submission:
    batch_id: str
    warnings: tuple[str, ...] = ()


class BatchGateway(ClientOwner):
    """Submit and poll batches for the offerings that sell batch work.

    With no arguments it builds itself from the environment, like `Gateway`: a batch client
    for each provider that has one and whose key is set.
    """

    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        clients: Mapping[str, BatchClient] | None = None,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = BATCH_CALL_SECONDS,
    ) -> None:
        self.catalog = catalog or default_catalog()
        self.timeout = timeout
        self.client = build_client(timeout=timeout, transport=transport)
        if clients is None:
            clients = batch_clients_from_env(
                os.environ if environ is None else environ, self.client
            )
        self.clients = dict(clients)

    def offering(self, model_id: str) -> OfferingSpec | None:
        """The model's cheapest offering that takes batches: a batch price in the catalog
        and a configured batch client. None when it has none (or is not in the catalog)."""
        spec = self.catalog.models.get(model_id)
        if spec is None:
            return None
        able = [
            offering
            for offering in spec.offerings
            if offering.batch_price is not None
            and (client := self.clients.get(offering.provider)) is not None
            and client.configured()
        ]
        return min(able, key=lambda offering: offering.batch_price or 0, default=None)

    def submit(
        self, offering: OfferingSpec, requests: Mapping[str, ImageRequest], *, label: str
    ) -> Submission:
        """Send text-to-image requests, by key, as one batch of this offering, marked with
        `label` (ours, unique: `find` looks for it).

        Raises RequestRefused for a request the model can never fulfil (before any call), and
        GatewayError when the provider does not take the batch.
        """
        client = self._client(offering)
        rules = effective_params(client.params, offering)
        spec = self.catalog.model(offering.model)
        prepared: dict[str, ImageRequest] = {}
        warnings: list[str] = []
        for key, request in requests.items():
            check(spec, request, Operation.GENERATE)
            prepared[key], dropped = prepare(
                rules, offering, request, extra_params=client.extra_params, scopes=PROVIDER_IDS
            )
            warnings += dropped
        batch_id = client.submit(offering, prepared, label=label, deadline=Deadline(self.timeout))
        return Submission(batch_id=batch_id, warnings=tuple(dict.fromkeys(warnings)))

    def find(self, offering: OfferingSpec, label: str, *, since: datetime) -> str | None:
        """The provider's id of the batch submitted with `label`, or None when the provider
        has no such batch (so its requests were never taken). `since`: when the submission
        started; no batch made before then is ours.

        Raises GatewayError when the provider cannot be asked: that is no answer either way.
        """
        client = self._client(offering)
        return client.find(
            offering, label, since=since - CLOCK_SKEW, deadline=Deadline(self.timeout)
        )

    def cancel(self, offering: OfferingSpec, batch_id: str) -> None:
        """Stop a batch nobody will store: the requests it has not run are not billed."""
        self._client(offering).cancel(offering, batch_id, deadline=Deadline(self.timeout))

    def poll(
        self,
        offering: OfferingSpec,
        batch_id: str,
        *,
        keys: Sequence[str],
        submitted_at: datetime,
    ) -> BatchPoll:
        """The batch's state; once it ended, one line per key submitted, in that order.

        A line the provider did not answer (a batch that failed or expired before it ran)
        comes back failed, so the caller makes it another way. Each line's attempt costs the
        batch price per image returned; `total_ms` runs from the submission to now.
        """
        client = self._client(offering)
        report = client.poll(offering, batch_id, keys, deadline=Deadline(self.timeout))
        if not report.state.ended:
            return BatchPoll(state=report.state)
        now = datetime.now(UTC)
        missing = ProviderError(
            ErrorKind.TIMEOUT if report.state is BatchState.EXPIRED else ErrorKind.SERVER_ERROR,
            report.error or f"The batch ended ({report.state}) without running this request.",
        )
        lines = []
        for key in keys:
            outcome = report.lines.get(key) or LineOutcome(error=missing)
            lines.append(self._line(offering, key, outcome, submitted_at, now))
        return BatchPoll(state=report.state, lines=tuple(lines), error=report.error)

    def _line(
        self,
        offering: OfferingSpec,
        key: str,
        outcome: LineOutcome,
        submitted_at: datetime,
        now: datetime,
    ) -> BatchLine:
        error = outcome.error
        if error is None and not outcome.images:
            error = ProviderError(
                ErrorKind.EMPTY, "The batch answered this request with no image."
            )
        price = offering.batch_price if offering.batch_price is not None else offering.price
        attempt = Attempt(
            model=offering.model,
            provider=offering.provider,
            provider_model=offering.provider_model,
            started_at=submitted_at,
            ok=error is None,
            total_ms=max(0.0, (now - submitted_at).total_seconds() * 1000),
            http_status=error.http_status if error else 200,
            error_kind=error.kind if error else None,
            error=error.message if error else "",
            images=0 if error else len(outcome.images),
            cost=Decimal(0) if error else price * len(outcome.images),
            batch=True,
        )
        return BatchLine(key=key, images=[] if error else outcome.images, attempt=attempt)

    def _client(self, offering: OfferingSpec) -> BatchClient:
        client = self.clients.get(offering.provider)
        if client is None or offering.batch_price is None:
            raise GatewayError(
                ErrorKind.NOT_CONFIGURED,
                f"{offering.key} takes no batches (no batch price, or no configured batch API).",
            )
        return client


BATCH_CLIENTS: dict[str, type[HTTPBatchClient]] = {
    "openai": OpenAIBatchClient,
    "gemini": GeminiBatchClient,
}


def batch_clients_from_env(
    environ: Mapping[str, str], client: httpx.Client
) -> dict[str, BatchClient]:
    """A batch client for each provider that has a batch API and whose key is set; keys and
    base URLs are those of the provider's direct API (gateway.providers.SERVICES). A batch
    and its files belong to the account that made them, so batches use the first key alone."""
    clients: dict[str, BatchClient] = {}
    for name, kind in BATCH_CLIENTS.items():
        service = SERVICES[name]
        if pairs := deployments(environ, service):
            key, base_url = pairs[0]
            clients[name] = kind(name=name, api_key=key, base_url=base_url, client=client)
    return clients


_default: BatchGateway | None = None
_default_lock = threading.Lock()


def default_batch_gateway() -> BatchGateway:
    global _default
    with _default_lock:
        if _default is None:
            _default = BatchGateway()
        return _default


def set_default_batch_gateway(batches: BatchGateway | None) -> None:
    """Replace the process-wide batch gateway (tests; or None to rebuild it from the
    environment)."""
    global _default
    with _default_lock:
        _default = batches
