"""Work a worker claims under a lease: generations, and the API's image jobs.

A row is queued, running, ready or failed. A worker claims it with a conditional UPDATE
(queued, or running under a lease that ran out -> running, `runs` + 1), so two workers never
run the same row. The claim's time is the worker's ticket: finishing only counts while it still
holds.

The lease is short (ARENA_GENERATION_LEASE_SECONDS) because the worker renews it while it works
(`lease_kept`), however long the provider takes: a row whose worker died is found by beat's
requeue pass (`abandoned_take_back`) within about a lease, not a provider's worst case.
`leased_until` also tells a queued row's patience: once a task is sent for it, the requeue pass
sends another only if none claimed it for ARENA_REQUEUE_QUEUED_AFTER_SECONDS (a task lost with
the broker is sent again; a long queue is not flooded with copies of its tasks).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

import gateway

log = logging.getLogger(__name__)


class WorkStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


LEASED_UNTIL_HELP = (
    "Running: until when the worker's claim holds unless renewed. Queued: until when the task "
    "sent for it is waited for before another is sent."
)


def lease_seconds() -> int:
    return settings.ARENA_GENERATION_LEASE_SECONDS


def queued_patience() -> datetime:
    """Until when a row whose task is sent now is left to that task."""
    return timezone.now() + timedelta(seconds=settings.ARENA_REQUEUE_QUEUED_AFTER_SECONDS)


class LeasedQuerySet(models.QuerySet[Any]):
    def claimable(self) -> LeasedQuerySet:
        """Rows a worker may claim: queued, or running under a lease that ran out."""
        return self.filter(
            Q(status=WorkStatus.QUEUED)
            | Q(status=WorkStatus.RUNNING, leased_until__lt=timezone.now())
        )

    def abandoned(self) -> LeasedQuerySet:
        """Rows whose owner is gone: running past their lease (the worker died, or cannot
        reach the database to renew it), or queued past their patience (the task was lost)."""
        return self.filter(
            Q(status__in=[WorkStatus.QUEUED, WorkStatus.RUNNING], leased_until__lt=timezone.now())
            | Q(status=WorkStatus.QUEUED, leased_until__isnull=True)  # no task sent yet
        )

    def claim(self, pk: object) -> datetime | None:
        """Claim one row for this worker: the claim's time, or None if it is not to be had."""
        claimed_at = timezone.now()
        claimed = (
            self.filter(pk=pk)
            .claimable()
            .update(
                status=WorkStatus.RUNNING,
                started_at=claimed_at,
                leased_until=claimed_at + timedelta(seconds=lease_seconds()),
                runs=F("runs") + 1,
            )
        )
        return claimed_at if claimed else None

    def held(self, pk: object, claimed_at: datetime) -> LeasedQuerySet:
        """The row, as long as the claim made at `claimed_at` holds it."""
        return self.filter(pk=pk, status=WorkStatus.RUNNING, started_at=claimed_at)

    def provider_job_keep(self, pk: object, claimed_at: datetime, job: gateway.JobRef) -> None:
        """Keep the provider's job on the row the claim holds, committed before anyone waits on
        it, so a worker that takes the row over resumes the job rather than paying anew."""
        with transaction.atomic():
            stored = self.held(pk, claimed_at).update(job=job.to_dict())
        if not stored:
            log.warning(
                "%s %s was taken over before its %s job %s was stored",
                self.model._meta.verbose_name, pk, job.provider, job.job_id,
            )  # fmt: skip

    def sent(self) -> int:
        """A task was sent for these queued rows: leave them to it for a while."""
        return self.filter(status=WorkStatus.QUEUED).update(leased_until=queued_patience())


def abandoned_take_back(queryset: LeasedQuerySet) -> list[Any]:
    """Queue again the rows whose owner is gone, ending a lost worker's claim, and return their
    keys: the caller sends a task for each (they are marked sent)."""
    with transaction.atomic():
        keys = list(
            queryset.abandoned().select_for_update(skip_locked=True).values_list("pk", flat=True)
        )
        queryset.filter(pk__in=keys).update(
            status=WorkStatus.QUEUED, leased_until=queued_patience()
        )
    return keys


@contextmanager
def lease_kept(model: type[models.Model], pk: object, claimed_at: datetime) -> Iterator[None]:
    """Renew the lease of this claim on a row of `model` while the block runs (a provider call,
    however long)."""
    claim = (model, pk, claimed_at)
    _keeper.hold(claim)
    try:
        yield
    finally:
        _keeper.drop(claim)


Claim = tuple[type[models.Model], object, datetime]


class LeaseKeeper:
    """One thread per process renews the leases of every claim the process holds, in one
    UPDATE per table every third of a lease.

    A thread per claim would hold a database connection per claim (Django's connections are
    per thread): 32 more connections for a worker of 32 threads. The gateway's callbacks are
    no heartbeat either: a synchronous provider call (OpenAI, Gemini) calls none while it
    waits for minutes. The keeper's connection is closed after each pass, so an idle worker
    holds none.
    """

    def __init__(self) -> None:
        self.claims: set[Claim] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def hold(self, claim: Claim) -> None:
        with self.lock:
            self.claims.add(claim)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="lease-keeper", daemon=True)
                self.thread.start()

    def drop(self, claim: Claim) -> None:
        with self.lock:
            self.claims.discard(claim)

    def run(self) -> None:
        while True:
            time.sleep(max(lease_seconds() / 3, 0.1))
            with self.lock:
                claims = list(self.claims)
                if not claims:
                    self.thread = None
                    return
            try:
                self.renew(claims)
            except Exception:  # the keeper outlives a failed pass: the next may succeed
                log.exception("could not renew the leases of %d claims", len(claims))
            finally:
                connection.close()

    def renew(self, claims: Iterable[Claim]) -> None:
        by_model: dict[type[models.Model], list[Q]] = {}
        for model, pk, claimed_at in claims:
            by_model.setdefault(model, []).append(Q(pk=pk, started_at=claimed_at))
        until = timezone.now() + timedelta(seconds=lease_seconds())
        for model, held in by_model.items():
            # Never shortened: a job left to a provider's webhook is leased to its deadline.
            renewed = model._default_manager.filter(
                reduce(or_, held), status=WorkStatus.RUNNING
            ).update(leased_until=Greatest(F("leased_until"), until))
            if renewed < len(held):  # finished a moment ago (as is usual), or taken over
                log.debug(
                    "%d of %d %s claims are no longer held", len(held) - renewed, len(held),
                    model._meta.verbose_name,
                )  # fmt: skip


_keeper = LeaseKeeper()
