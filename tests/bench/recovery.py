"""Recovery after `kill -9` of the generation worker, at production settings (the lease and the
requeue pass as arena/settings.py has them, 32 threads): 32 generations in flight (fal jobs
on a loopback fake that take about 20 s, and the built-in lumen-xl at about 10 s a call), the
worker killed, a new one started at once (as systemd's Restart= does). Printed: how long until
every generation was claimed again, until every one was ready (goal: 90 s), and what was paid
twice (goal: nothing). A run takes about a lease and a minute.

Starts its own worker and beat on database `arena_recovery` (or ARENA_RECOVERY_DATABASE) and
Redis db 12 (or ARENA_RECOVERY_REDIS_DB); needs both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench.arena import _reachable, fresh_database

ROOT = Path(__file__).resolve().parents[2]
DATABASE = os.environ.get("ARENA_RECOVERY_DATABASE", "arena_recovery")
REDIS_DB = os.environ.get("ARENA_RECOVERY_REDIS_DB", "12")
GOAL_SECONDS = 90
THREADS = 32
FAL_MODELS = {
    "imagen-4": "fal-ai/imagen4/preview",
    "flux-kontext-pro": "fal-ai/flux-pro/kontext/text-to-image",
    "seedream-4": "fal-ai/bytedance/seedream/v4/text-to-image",
}
LOCAL_MODEL = "lumen-xl"
PROMPTS, RENDITIONS = 4, 2  # 4 models x 4 prompts x 2 renditions: one generation per thread
FAL_STATUSES = ("in_queue", *["in_progress"] * 40, "completed")  # polled every 0.5 s


def _configure(scratch: Path) -> dict[str, str]:
    """Django in this process on a fresh database; the environment the workers get."""
    database_url = fresh_database(DATABASE)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "arena.settings",
            "SECRET_KEY": "bench-only",
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "ARENA_VAR_DIR": str(scratch),
            "MEDIA_ROOT": str(scratch / "media"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "GATEWAY_CATALOG": str(scratch / "catalog.toml"),
            "GATEWAY_LOCAL_LATENCY_SCALE": "4",
            "ARENA_IMAGE_SIZE": "256",
            "ARENA_RENDITIONS": str(RENDITIONS),
        }
    )
    import django

    django.setup()
    from tests.arena.helpers import catalog_file_without_failures

    catalog_file_without_failures(scratch)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return dict(os.environ)


def main() -> None:
    if not (_reachable(5432) and _reachable(6379)):
        print("  skipped: needs PostgreSQL and Redis on 127.0.0.1")
        return
    from django.apps import apps

    if apps.ready:  # an earlier section set Django up on its own database: start afresh
        command = [sys.executable, "-c", "from tests.bench.recovery import main; main()"]
        subprocess.run(command, cwd=ROOT, check=True)
        return
    scratch = Path(tempfile.mkdtemp(prefix="arena-recovery-"))
    env = _configure(scratch)

    from django.conf import settings
    from pytest_httpserver import HTTPServer

    import gateway
    from arena.catalog.models import AIModel, Generation, ProviderCall
    from arena.catalog.services import catalog_sync, prompt_generate
    from arena.celery import app
    from tests.arena.helpers import CeleryProcess, wait_for
    from tests.factories import PromptFactory
    from tests.gateway.fakes import FakeFal

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fal = FakeFal(server, threading.Event())
    for provider_model in FAL_MODELS.values():
        fal.model(provider_model, statuses=FAL_STATUSES, width=256, height=256)
    env |= fal.env()
    gateway.set_default_gateway(gateway.Gateway(environ=fal.env()))
    with app.connection_for_write() as broker:
        broker.default_channel.client.flushdb()
    lease, every = settings.ARENA_GENERATION_LEASE_SECONDS, settings.ARENA_REQUEUE_EVERY_SECONDS
    print(f"  lease {lease} s, renewed every {lease / 3:.0f} s; requeue pass every {every} s")
    beat = CeleryProcess(
        ["beat", "--schedule", str(scratch / "celerybeat-schedule")],
        env=env,
        log_path=scratch / "beat.log",
    )
    workers = [
        CeleryProcess.generation_worker(
            env=env, log_path=scratch / "worker-0.log", concurrency=THREADS
        )
    ]
    try:
        catalog_sync()
        AIModel.objects.exclude(slug__in=[*FAL_MODELS, LOCAL_MODEL]).update(active=False)
        prompts = [PromptFactory(text=f"A lighthouse at dusk, {n}") for n in range(PROMPTS)]
        queued = prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])
        generations = Generation.objects.all()
        wait_for(
            lambda: (
                not generations.exclude(status=Generation.Status.RUNNING).exists()
                and not generations.filter(model__slug__in=FAL_MODELS, job__isnull=True).exists()
            ),
            "every generation running, every fal job submitted",
            timeout=120,
        )
        workers[0].kill()
        killed = time.monotonic()
        workers.append(
            CeleryProcess.generation_worker(
                env=env, log_path=scratch / "worker-1.log", concurrency=THREADS
            )
        )
        wait_for(
            lambda: not generations.filter(runs__lt=2).exists(),
            "every generation claimed again",
            timeout=GOAL_SECONDS * 3,
        )
        found = time.monotonic() - killed
        wait_for(
            lambda: generations.filter(status=Generation.Status.READY).count() == queued,
            "every generation ready",
            timeout=GOAL_SECONDS * 3,
        )
        done = time.monotonic() - killed
        paid = [generation.calls.filter(ok=True).count() for generation in generations]
        submitted = sum(len(fal.submitted(model)) for model in FAL_MODELS.values())
        fal_jobs = generations.filter(model__slug__in=FAL_MODELS).count()
        recorded = ProviderCall.objects.filter(provider__slug="fal", ok=True).count()
        print(
            f"  {queued} generations in flight at kill -9: claimed again after {found:.1f} s, "
            f"all ready after {done:.1f} s (goal <= {GOAL_SECONDS} s)"
        )
        print(
            f"  successful calls per image: max {max(paid)} (goal 1); fal jobs submitted "
            f"{submitted} for {fal_jobs}, their costs recorded {recorded} times"
        )
    finally:
        for process in [beat, *workers]:
            process.stop()
        server.stop()
