"""Work a worker claims under a lease: generations, and the API's image jobs.

A row is queued, running, ready or failed. A worker claims it with a conditional UPDATE
(queued, or running under a lease that ran out -> running, `runs` + 1), so two workers never
run the same row, and a row whose worker died is claimable again once its lease runs out.
The claim's time is the worker's ticket: finishing only counts while it still holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class WorkStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class LeasedQuerySet(models.QuerySet[Any]):
    def claimable(self, *, lease_seconds: int) -> LeasedQuerySet:
        """Rows a worker may claim: queued, or running under a lease that ran out."""
        stale = timezone.now() - timedelta(seconds=lease_seconds)
        return self.filter(
            Q(status=WorkStatus.QUEUED) | Q(status=WorkStatus.RUNNING, started_at__lt=stale)
        )

    def claim(self, pk: object, *, lease_seconds: int) -> datetime | None:
        """Claim one row for this worker: the claim's time, or None if it is not to be had."""
        claimed_at = timezone.now()
        claimed = (
            self.filter(pk=pk)
            .claimable(lease_seconds=lease_seconds)
            .update(status=WorkStatus.RUNNING, started_at=claimed_at, runs=F("runs") + 1)
        )
        return claimed_at if claimed else None
