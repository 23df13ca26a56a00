"""What every batch API client implements: submit many requests as one job under a label of
ours, find a job again by that label, poll it, cancel it, and read each request's outcome.
gateway.batch turns those outcomes into attempts at the batch price."""

from __future__ import annotations

import abc
import contextlib
import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline
from gateway.normalize import ParamTable
from gateway.types import ErrorKind, ImageRequest


class BatchState(enum.StrEnum):
    RUNNING = "running"  # queued, validating, in progress or finalizing at the provider
    COMPLETED = "completed"
    FAILED = "failed"  # the batch as a whole (a bad input file, say): no line ran
    EXPIRED = "expired"  # not done within the provider's window; done lines are kept
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self is not BatchState.RUNNING


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What a provider's batch said of one line: its images, or why there are none."""

    images: list[bytes] = field(default_factory=list)
    error: ProviderError | None = None


@dataclass(frozen=True, slots=True)
class ProviderPoll:
    """A batch as its provider reports it. `lines` holds the lines it answered, by key; a key
    submitted but absent from an ended batch did not run."""

    state: BatchState
    lines: Mapping[str, LineOutcome] = field(default_factory=dict)
    error: str = ""


class BatchClient(Protocol):
    """One provider's batch API."""

    name: str
    params: ClassVar[ParamTable]
    extra_params: ClassVar[frozenset[str]]  # the direct provider's top-level extras

    def configured(self) -> bool: ...

    def submit(
        self,
        offering: OfferingSpec,
        requests: Mapping[str, ImageRequest],
        *,
        label: str,
        deadline: Deadline,
    ) -> str:
        """Send the requests as one batch, marked with `label` where the provider keeps it and
        lists it; the provider's batch id."""
        ...

    def find(
        self, offering: OfferingSpec, label: str, *, since: datetime, deadline: Deadline
    ) -> str | None:
        """The id of the provider's batch submitted with `label`, or None when it has none
        (none of ours was made before `since`)."""
        ...

    def poll(
        self, offering: OfferingSpec, batch_id: str, keys: Sequence[str], *, deadline: Deadline
    ) -> ProviderPoll:
        """The batch's state and, once it ended, its lines (`keys`: those submitted, in order)."""
        ...

    def cancel(self, offering: OfferingSpec, batch_id: str, *, deadline: Deadline) -> None:
        """Ask the provider to stop the batch: what has not run does not run (nor bill)."""
        ...


class HTTPBatchClient(abc.ABC):
    """A batch API reached over HTTP with the key and base URL of its provider's direct API."""

    params: ClassVar[ParamTable]
    extra_params: ClassVar[frozenset[str]]

    def __init__(self, *, name: str, api_key: str, base_url: str, client: httpx.Client) -> None:
        self.name = name
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.client = client

    def configured(self) -> bool:
        return bool(self.api_key)

    def submit(
        self,
        offering: OfferingSpec,
        requests: Mapping[str, ImageRequest],
        *,
        label: str,
        deadline: Deadline,
    ) -> str:
        with _shape_errors(self.name):
            return self.run_submit(offering, requests, label, deadline)

    def find(
        self, offering: OfferingSpec, label: str, *, since: datetime, deadline: Deadline
    ) -> str | None:
        with _shape_errors(self.name):
            return self.run_find(offering, label, since, deadline)

    def poll(
        self, offering: OfferingSpec, batch_id: str, keys: Sequence[str], *, deadline: Deadline
    ) -> ProviderPoll:
        with _shape_errors(self.name):
            return self.run_poll(offering, batch_id, keys, deadline)

    def cancel(self, offering: OfferingSpec, batch_id: str, *, deadline: Deadline) -> None:
        with _shape_errors(self.name):
            self.run_cancel(offering, batch_id, deadline)

    @abc.abstractmethod
    def run_submit(
        self,
        offering: OfferingSpec,
        requests: Mapping[str, ImageRequest],
        label: str,
        deadline: Deadline,
    ) -> str: ...

    @abc.abstractmethod
    def run_find(
        self, offering: OfferingSpec, label: str, since: datetime, deadline: Deadline
    ) -> str | None: ...

    @abc.abstractmethod
    def run_poll(
        self, offering: OfferingSpec, batch_id: str, keys: Sequence[str], deadline: Deadline
    ) -> ProviderPoll: ...

    @abc.abstractmethod
    def run_cancel(self, offering: OfferingSpec, batch_id: str, deadline: Deadline) -> None: ...


def line_outcome(read: Callable[[Any], LineOutcome], line: Any, source: str) -> LineOutcome:
    """One line of a batch's results, read by `read`; a line of the wrong shape fails alone
    (BAD_RESPONSE, so it is made directly) instead of failing every poll of its batch."""
    try:
        return read(line)
    except ProviderError as exc:
        return LineOutcome(error=exc)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        return LineOutcome(
            error=ProviderError(
                ErrorKind.BAD_RESPONSE,
                f"{source} answered a line in an unexpected shape ({type(exc).__name__}: {exc}).",
            )
        )


@contextlib.contextmanager
def _shape_errors(name: str) -> Iterator[None]:
    # A body of the wrong shape is the provider's fault, as in HTTPProvider.call.
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise ProviderError(
            ErrorKind.BAD_RESPONSE,
            f"{name}'s batch API answered in an unexpected shape ({type(exc).__name__}: {exc}).",
        ) from None
