"""An API job's provider job is stored before anyone waits on it, as a generation's is
(test_generation_resume.py): a worker killed while fal or Replicate works leaves a job the next
worker resumes, with one submission and one charge; the calls and the outcome are stored in
one transaction, so a death between them pays nothing twice either."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import gateway
from arena.api import services
from arena.api.models import ImageJob
from arena.api.services import (
    image_job_create,
    image_job_execute,
    image_job_patience,
    image_jobs_requeue_stale,
)
from arena.catalog.models import AIModel, ProviderCall
from arena.catalog.services import catalog_sync
from tests.arena.helpers import (
    JOB_MODEL,
    JOB_MODEL_ON_FAL,
    JOB_MODEL_ON_REPLICATE,
    WorkerKilled,
    job_providers,
)

pytestmark = pytest.mark.django_db
MODEL, FAL_MODEL, REPLICATE_MODEL = JOB_MODEL, JOB_MODEL_ON_FAL, JOB_MODEL_ON_REPLICATE


@pytest.fixture
def providers():
    # A job is sent to the queue when its transaction commits, which a test's never does:
    # the tests run it by hand.
    with job_providers() as fakes:
        catalog_sync()
        yield fakes


def api_job() -> ImageJob:
    request = gateway.ImageRequest(model=MODEL, prompt="a lighthouse at dusk", seed=7)
    model = AIModel.objects.get(slug=MODEL)
    return image_job_create(request=request, model=model, edit=False, source=ImageJob.Source.API)


def killed_after(monkeypatch, name: str, job: ImageJob) -> None:
    """Run the job on a worker that dies right after the service function `name` returns."""
    original = getattr(services, name)

    def then_die(*args, **kwargs):
        original(*args, **kwargs)
        raise WorkerKilled

    with monkeypatch.context() as patched:
        patched.setattr(services, name, then_die)
        with pytest.raises(WorkerKilled):
            image_job_execute(job_id=job.pk)


def lease_runs_out(job: ImageJob, settings) -> None:
    long_ago = timezone.now() - timedelta(seconds=settings.ARENA_GENERATION_LEASE_SECONDS + 1)
    ImageJob.objects.filter(pk=job.pk).update(
        started_at=long_ago, leased_until=timezone.now() - timedelta(seconds=1)
    )


def test_a_worker_killed_after_fal_took_the_job_leaves_it_on_the_api_job(fal, monkeypatch):
    job = api_job()

    killed_after(monkeypatch, "_job_store", job)

    job.refresh_from_db()
    assert job.status == ImageJob.Status.RUNNING
    assert (job.job["provider"], job.job["job_id"]) == ("fal", "req-1")
    assert not ProviderCall.objects.exists()


def test_the_rerun_of_an_abandoned_api_job_resumes_the_fal_job_with_one_charge(
    fal, monkeypatch, settings
):
    job = api_job()
    killed_after(monkeypatch, "_job_store", job)
    lease_runs_out(job, settings)

    finished = image_job_execute(job_id=job.pk)

    assert finished.status == ImageJob.Status.READY
    assert len(finished.images) == 1
    assert finished.job is None
    assert finished.runs == 2
    assert finished.cost == Decimal("0.04")
    assert len(fal.submitted(FAL_MODEL)) == 1
    (call,) = ProviderCall.objects.all()
    assert (call.source, call.ok, call.cost, call.provider_request_id) == (
        "api",
        True,
        Decimal("0.04"),
        "req-1",
    )


def test_the_rerun_of_an_abandoned_api_job_resumes_the_replicate_prediction(
    replicate, monkeypatch, settings
):
    job = api_job()
    killed_after(monkeypatch, "_job_store", job)
    lease_runs_out(job, settings)

    finished = image_job_execute(job_id=job.pk)

    assert finished.status == ImageJob.Status.READY
    assert len(replicate.created(REPLICATE_MODEL)) == 1
    (call,) = ProviderCall.objects.all()
    assert (call.provider.slug, call.ok, call.provider_request_id) == ("replicate", True, "p1")


def test_a_worker_killed_while_storing_the_outcome_stores_no_call_and_the_rerun_pays_once(
    fal, monkeypatch, settings
):
    job = api_job()
    with monkeypatch.context() as patched:
        patched.setattr(services, "calls_record", _killed)
        with pytest.raises(WorkerKilled):
            image_job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImageJob.Status.RUNNING  # the outcome was rolled back...
    assert not ProviderCall.objects.exists()  # ...with the calls
    assert job.job["job_id"] == "req-1"  # the paid job is still known

    lease_runs_out(job, settings)
    finished = image_job_execute(job_id=job.pk)

    assert finished.status == ImageJob.Status.READY
    assert len(fal.submitted(FAL_MODEL)) == 1
    assert ProviderCall.objects.count() == 1


def test_the_requeue_pass_sends_a_dead_workers_paid_job_to_be_resumed(
    fal, monkeypatch, settings, django_capture_on_commit_callbacks
):
    job = api_job()
    killed_after(monkeypatch, "_job_store", job)
    lease_runs_out(job, settings)

    with django_capture_on_commit_callbacks(execute=True):  # its task is sent on commit
        assert image_jobs_requeue_stale() == 1

    job.refresh_from_db()
    assert job.status == ImageJob.Status.READY
    assert len(fal.submitted(FAL_MODEL)) == 1
    assert ProviderCall.objects.count() == 1


def test_the_requeue_pass_fails_a_plain_request_nobody_waits_for_and_pays_nothing(
    fal, monkeypatch, settings
):
    job = api_job()
    given_up = timezone.now() - timedelta(seconds=image_job_patience(None) + 1)
    ImageJob.objects.filter(pk=job.pk).update(status=ImageJob.Status.RUNNING, created_at=given_up)
    lease_runs_out(job, settings)

    assert image_jobs_requeue_stale() == 0
    assert not fal.submitted(FAL_MODEL)
    job.refresh_from_db()
    assert job.status == ImageJob.Status.FAILED  # not left "running" for ever
    assert "stopped waiting" in job.error


def test_the_requeue_pass_sends_a_plain_request_whose_caller_may_still_wait(
    fal, monkeypatch, settings, django_capture_on_commit_callbacks
):
    job = api_job()
    ImageJob.objects.filter(pk=job.pk).update(status=ImageJob.Status.RUNNING)
    lease_runs_out(job, settings)

    with django_capture_on_commit_callbacks(execute=True):
        assert image_jobs_requeue_stale() == 1
    job.refresh_from_db()
    assert job.status == ImageJob.Status.READY
    assert len(fal.submitted(FAL_MODEL)) == 1


def _killed(**kwargs) -> None:
    raise WorkerKilled


def test_beat_runs_the_api_jobs_requeue_pass_as_often_as_the_generations_one(settings):
    from arena.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}

    assert (
        schedule["arena.api.tasks.image_jobs_requeue_stale_run"]
        == settings.ARENA_REQUEUE_EVERY_SECONDS
    )
