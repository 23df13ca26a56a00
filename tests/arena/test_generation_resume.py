"""A generation's provider job is stored before anyone waits on it, so a worker killed while
the provider works leaves a job the next worker resumes: one submission, one charge. The image,
the calls and the outcome are stored in one transaction, so a death between them pays nothing
twice either."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from arena.catalog import services
from arena.catalog.models import AIModel, Generation, ProviderCall
from arena.catalog.services import catalog_sync, generation_execute, generations_requeue_stale
from tests.arena.helpers import (
    JOB_MODEL,
    JOB_MODEL_ON_FAL,
    JOB_MODEL_ON_REPLICATE,
    WorkerKilled,
    job_providers,
)
from tests.factories import PromptFactory

pytestmark = pytest.mark.django_db
MODEL, FAL_MODEL, REPLICATE_MODEL = JOB_MODEL, JOB_MODEL_ON_FAL, JOB_MODEL_ON_REPLICATE


@pytest.fixture
def providers(settings):
    settings.ARENA_IMAGE_SIZE = 128
    with job_providers() as fakes:
        catalog_sync()
        yield fakes


def generation() -> Generation:
    return Generation.objects.create(prompt=PromptFactory(), model=AIModel.objects.get(slug=MODEL))


def die_after(monkeypatch, name: str) -> None:
    """Kill the worker right after the service function `name` returns."""
    original = getattr(services, name)

    def then_die(*args, **kwargs):
        original(*args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(services, name, then_die)


def lease_runs_out(pending: Generation, settings) -> None:
    ended = timezone.now() - timedelta(seconds=1)
    Generation.objects.filter(pk=pending.pk).update(leased_until=ended)


def test_a_worker_killed_after_fal_took_the_job_leaves_it_stored(fal, monkeypatch) -> None:
    pending = generation()
    die_after(monkeypatch, "_job_store")

    with pytest.raises(WorkerKilled):
        generation_execute(generation_id=pending.pk)

    pending.refresh_from_db()
    assert pending.status == Generation.Status.RUNNING
    assert (pending.job["provider"], pending.job["job_id"]) == ("fal", "req-1")
    assert not ProviderCall.objects.exists()


def test_the_next_worker_resumes_the_fal_job_instead_of_paying_for_a_new_one(
    fal, monkeypatch, settings
) -> None:
    pending = generation()
    die_after(monkeypatch, "_job_store")
    with pytest.raises(WorkerKilled):
        generation_execute(generation_id=pending.pk)
    monkeypatch.undo()
    lease_runs_out(pending, settings)

    finished = generation_execute(generation_id=pending.pk)

    assert finished.status == Generation.Status.READY
    assert finished.image
    assert finished.job is None
    assert finished.runs == 2
    assert len(fal.submitted(FAL_MODEL)) == 1
    (call,) = ProviderCall.objects.filter(generation=pending)
    assert (call.ok, call.cost, call.provider_request_id) == (True, Decimal("0.04"), "req-1")


def test_the_requeue_pass_sends_a_dead_workers_replicate_job_to_be_resumed(
    replicate, monkeypatch, settings, django_capture_on_commit_callbacks
) -> None:
    pending = generation()
    die_after(monkeypatch, "_job_store")
    # fal without its key for this run, so Replicate takes the job
    monkeypatch.setattr(services.gateway.default_gateway().providers["fal"], "api_key", "")
    with pytest.raises(WorkerKilled):
        generation_execute(generation_id=pending.pk)
    monkeypatch.undo()
    lease_runs_out(pending, settings)

    with django_capture_on_commit_callbacks(execute=True):
        assert generations_requeue_stale() == 1

    pending.refresh_from_db()
    assert pending.status == Generation.Status.READY
    assert len(replicate.created(REPLICATE_MODEL)) == 1
    (call,) = ProviderCall.objects.filter(generation=pending)
    assert (call.provider.slug, call.ok, call.provider_request_id) == ("replicate", True, "p1")


def test_a_worker_killed_while_storing_the_outcome_stores_nothing_and_the_rerun_pays_once(
    fal, monkeypatch, settings, media_root
) -> None:
    pending = generation()
    monkeypatch.setattr(services, "calls_record", _killed)

    with pytest.raises(WorkerKilled):
        generation_execute(generation_id=pending.pk)

    pending.refresh_from_db()
    assert pending.status == Generation.Status.RUNNING  # the outcome was rolled back...
    assert not ProviderCall.objects.exists()  # ...with the calls...
    assert not [path for path in media_root.rglob("*") if path.is_file()]  # ...and the files
    assert pending.job["job_id"] == "req-1"  # the paid job is still known

    monkeypatch.undo()
    lease_runs_out(pending, settings)
    finished = generation_execute(generation_id=pending.pk)

    assert finished.status == Generation.Status.READY
    assert len(fal.submitted(FAL_MODEL)) == 1
    assert ProviderCall.objects.filter(generation=pending).count() == 1


def _killed(**kwargs) -> None:
    raise WorkerKilled
