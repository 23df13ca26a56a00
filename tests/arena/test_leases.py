"""A worker keeps the lease of what it runs for as long as it runs it, and only while its claim
holds: a claim taken over is not renewed by the worker that lost it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from arena.catalog import leases
from arena.catalog.leases import lease_kept
from arena.catalog.models import Generation
from tests.arena.helpers import wait_for
from tests.factories import GenerationFactory

# The keeper renews from a thread of its own, on its own connection: it sees committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def short_lease(settings, monkeypatch):
    settings.ARENA_GENERATION_LEASE_SECONDS = 1  # renewed every third of a second
    # A keeper of this test's own: an earlier test's may be asleep for a third of 45 s.
    monkeypatch.setattr(leases, "_keeper", leases.LeaseKeeper())


def lease_of(generation: Generation) -> datetime:
    return Generation.objects.values_list("leased_until", flat=True).get(pk=generation.pk)


def test_a_kept_claim_is_renewed_past_its_first_lease_and_keeps_its_ticket() -> None:
    generation = GenerationFactory(status=Generation.Status.QUEUED)
    claimed_at = Generation.objects.claim(generation.pk)
    first_lease = lease_of(generation)

    with lease_kept(Generation, generation.pk, claimed_at):
        wait_for(
            lambda: lease_of(generation) > first_lease + timedelta(seconds=0.5),
            "the lease renewed",
            timeout=10,
        )
        assert Generation.objects.claim(generation.pk) is None
        assert not Generation.objects.claimable().filter(pk=generation.pk).exists()

    assert Generation.objects.held(generation.pk, claimed_at).exists()
    assert first_lease == claimed_at + timedelta(seconds=1)


def test_a_claim_taken_over_is_not_renewed_by_the_worker_that_lost_it() -> None:
    lost, live = GenerationFactory.create_batch(2, status=Generation.Status.QUEUED)
    lost_claim, live_claim = Generation.objects.claim(lost.pk), Generation.objects.claim(live.pk)
    live_lease = lease_of(live)
    # Another worker claims `lost` once its lease ran out (as if this one had stalled).
    Generation.objects.filter(pk=lost.pk).update(leased_until=timezone.now())
    new_claim = Generation.objects.claim(lost.pk)
    new_lease = lease_of(lost)

    with (
        lease_kept(Generation, lost.pk, lost_claim),
        lease_kept(Generation, live.pk, live_claim),
    ):
        wait_for(lambda: lease_of(live) > live_lease, "the live claim renewed", timeout=10)

    assert new_claim is not None
    assert lease_of(lost) == new_lease
    assert not Generation.objects.held(lost.pk, lost_claim).exists()
