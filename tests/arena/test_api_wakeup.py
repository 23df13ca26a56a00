"""A web process waiting on a job answers as soon as the worker finishes it: the worker rings
the job's bell on Redis and the waiting view wakes, instead of sleeping out its polling
pause; without Redis the view still finds the finished row at its next pause."""

import threading

import pytest
from django.db import connections

import gateway
from arena.api import services, wakeup
from arena.api.models import ImageJob
from arena.api.services import image_job_create, image_job_execute, image_job_wait
from arena.catalog.models import AIModel
from arena.catalog.services import catalog_sync
from arena.celery import app
from tests.arena.helpers import use_local_gateway

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued_job(monkeypatch):
    """A job written as the web writes one, for a worker this test plays itself."""
    catalog_sync()
    use_local_gateway()
    monkeypatch.setattr(services, "_enqueue", lambda job_id: None)
    request = gateway.ImageRequest(model="blockworld", prompt="a red ball", size="64x64")
    model = AIModel.objects.get(slug="blockworld")
    app.conf.task_always_eager = False  # the view waits; it does not run the job itself
    try:
        yield image_job_create(request=request, model=model, edit=False, source="api")
    finally:
        app.conf.task_always_eager = True


def wait_in_thread(job_id) -> tuple[threading.Thread, list[ImageJob]]:
    answers: list[ImageJob] = []

    def wait() -> None:
        try:
            answers.append(image_job_wait(job_id=job_id, timeout=60))
        finally:
            connections.close_all()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, answers


def test_the_waiting_view_wakes_when_the_worker_finishes_not_at_its_next_pause(
    queued_job, monkeypatch, settings
):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (required under CI=true)")
    # Pauses longer than the test may take: only the bell can end the wait in time.
    monkeypatch.setattr(services, "WAIT_FIRST_PAUSE", 45)
    monkeypatch.setattr(services, "WAIT_LONGEST_PAUSE", 45)
    thread, answers = wait_in_thread(queued_job.pk)

    finished = image_job_execute(job_id=queued_job.pk)
    thread.join(timeout=20)

    assert finished.status == ImageJob.Status.READY
    assert not thread.is_alive(), "the waiting view slept through the bell"
    assert [answer.status for answer in answers] == [ImageJob.Status.READY]
    assert answers[0].images == finished.images


def test_without_redis_the_waiting_view_finds_the_finished_job_at_its_next_pause(
    queued_job, monkeypatch, settings
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    wakeup._redis.cache_clear()
    monkeypatch.setattr(services, "WAIT_FIRST_PAUSE", 0.05)
    monkeypatch.setattr(services, "WAIT_LONGEST_PAUSE", 0.2)
    thread, answers = wait_in_thread(queued_job.pk)

    finished = image_job_execute(job_id=queued_job.pk)  # its bell cannot ring: no error
    thread.join(timeout=30)
    wakeup._redis.cache_clear()

    assert finished.status == ImageJob.Status.READY
    assert [answer.status for answer in answers] == [ImageJob.Status.READY]
