"""`kill -9` of a real generation worker while its provider calls run, then a new worker: every
generation and API job is done again within the goal, and no call the provider completed is
paid twice. A fal job the dead worker had submitted is resumed, not submitted again, and its
cost is recorded once; a synchronous call in flight is made again.

The lease and beat's requeue pass are short here (LEASE_SECONDS, REQUEUE_EVERY_SECONDS) so the
test takes seconds (`python -m tests.bench recovery` measures it at production settings); the
calls outlast the lease, so a worker that did not renew its leases would lose them to the
requeue pass and pay twice.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.db import connection
from pytest_httpserver import HTTPServer

import gateway
from arena.api.models import ImageJob
from arena.api.services import image_job_create
from arena.catalog.models import AIModel, Generation, ProviderCall
from arena.catalog.services import catalog_sync, prompt_generate
from arena.celery import app
from tests.arena.helpers import CeleryProcess, catalog_file_without_failures, wait_for
from tests.arena.test_api_worker import database_url
from tests.factories import PromptFactory
from tests.gateway.fakes import FakeFal

pytestmark = pytest.mark.worker

LEASE_SECONDS = 3  # production: 30
REQUEUE_EVERY_SECONDS = 1  # production: 10
RECOVERY_GOAL_SECONDS = 30  # production settings: 90
FAL_MODELS = {  # only fal is configured: each model's offering on it, and its price
    "imagen-4": ("fal-ai/imagen4/preview", Decimal("0.04")),
    "flux-kontext-pro": ("fal-ai/flux-pro/kontext/text-to-image", Decimal("0.04")),
    "seedream-4": ("fal-ai/bytedance/seedream/v4/text-to-image", Decimal("0.03")),
}
LOCAL_MODEL = "lumen-xl"  # synchronous, 2.4 s median scaled to about 6 s below
RENDITIONS = 2
# A fal job advances one status per poll (every 0.5 s): about 7 s of work, longer than a lease.
FAL_STATUSES = ("in_queue", *["in_progress"] * 12, "completed")


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    fake = FakeFal(server, release)
    for provider_model, _ in FAL_MODELS.values():
        fake.model(provider_model, statuses=FAL_STATUSES, width=256, height=256)
    try:
        yield fake
    finally:
        release.set()
        server.clear()
        server.stop()


@pytest.fixture
def start_worker(
    transactional_db, settings, tmp_path, fal
) -> Iterator[Callable[[], CeleryProcess]]:
    """Start generation workers, and a beat, each in a process of its own on this test's
    database, media and fake fal."""
    if not os.environ.get("REDIS_URL") or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (required under CI=true)")
    settings.ARENA_IMAGE_SIZE = 256
    settings.ARENA_RENDITIONS = RENDITIONS
    catalog = catalog_file_without_failures(tmp_path)
    env = {
        **os.environ,
        **fal.env(),
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "GATEWAY_CATALOG": str(catalog),
        "GATEWAY_LOCAL_LATENCY_SCALE": "2.5",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "ARENA_IMAGE_SIZE": "256",
        "ARENA_GENERATION_LEASE_SECONDS": str(LEASE_SECONDS),
        "ARENA_REQUEUE_EVERY_SECONDS": str(REQUEUE_EVERY_SECONDS),
    }
    router = gateway.Gateway(environ=fal.env())  # this process's, to plan the generations
    gateway.set_default_gateway(router)
    app.conf.task_always_eager = False
    with app.connection_for_write() as broker:
        broker.default_channel.client.flushdb()
    beat = CeleryProcess(
        ["beat", "--schedule", str(tmp_path / "celerybeat-schedule")],
        env=env,
        log_path=tmp_path / "beat.log",
    )
    workers: list[CeleryProcess] = []

    def start() -> CeleryProcess:
        log_path = tmp_path / f"worker-{len(workers)}.log"
        workers.append(CeleryProcess.generation_worker(env=env, log_path=log_path, concurrency=10))
        return workers[-1]

    try:
        yield start
    finally:
        for process in [beat, *workers]:
            process.stop()
        app.conf.task_always_eager = True
        router.close()


def test_a_killed_workers_generations_and_jobs_are_done_once_by_the_next(start_worker, fal):
    catalog_sync()
    AIModel.objects.exclude(slug__in=[*FAL_MODELS, LOCAL_MODEL]).update(active=False)
    prompt = PromptFactory(text="A lighthouse at dusk")
    first = start_worker()
    queued = prompt_generate(prompt_ids=[prompt.pk])
    job = image_job_create(
        request=gateway.ImageRequest(model=LOCAL_MODEL, prompt="A quiet harbour", size="256x256"),
        model=AIModel.objects.get(slug=LOCAL_MODEL),
        edit=False,
        source=ImageJob.Source.API,
    )
    generations = Generation.objects.all()
    fal_generations = generations.filter(model__slug__in=FAL_MODELS)
    wait_for(
        lambda: (
            not generations.exclude(status=Generation.Status.RUNNING).exists()
            and not fal_generations.filter(job__isnull=True).exists()
            and ImageJob.objects.filter(pk=job.pk, status=ImageJob.Status.RUNNING).exists()
        ),
        "every generation and the API job running, every fal job submitted",
        timeout=30,
    )

    first.kill()
    start_worker()
    wait_for(
        lambda: (
            generations.filter(status=Generation.Status.READY).count() == queued
            and ImageJob.objects.filter(pk=job.pk, status=ImageJob.Status.READY).exists()
        ),
        "every generation and the API job ready again",
        timeout=RECOVERY_GOAL_SECONDS,
    )

    assert queued == (len(FAL_MODELS) + 1) * RENDITIONS
    # All were in flight when the worker died, and each was taken over exactly once.
    assert sorted(generations.values_list("runs", flat=True)) == [2] * queued
    assert ImageJob.objects.get(pk=job.pk).runs == 2
    # One successful call per image: nothing the provider completed was paid twice.
    for generation in generations:
        assert generation.calls.filter(ok=True).count() == 1, generation
    assert ProviderCall.objects.filter(source="api", ok=True).count() == 1
    # Each fal job was submitted once, resumed by the new worker, and its cost recorded once.
    for slug, (provider_model, price) in FAL_MODELS.items():
        assert len(fal.submitted(provider_model)) == RENDITIONS, slug
        calls = ProviderCall.objects.filter(generation__model__slug=slug)
        assert sorted(calls.values_list("ok", "cost")) == [(True, price)] * RENDITIONS
    submitted = {f"req-{n}" for n in range(1, len(FAL_MODELS) * RENDITIONS + 1)}
    recorded = ProviderCall.objects.filter(provider__slug="fal")
    assert set(recorded.values_list("provider_request_id", flat=True)) == submitted
