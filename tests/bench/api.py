"""The images API in its production shape: the web process writes the job and waits, a
Celery worker process (threads pool, on Redis) runs it. Printed: the median answer time of a
small request (blockworld, 64x64, b64_json) against the same call made directly to the
gateway, with the worker's bell (arena.api.wakeup) and without it (the web polling the row
at its pauses, as before the bell).

Starts its own worker on database `arena_bench_api` (or ARENA_BENCH_API_DATABASE) and Redis
db 13 (or ARENA_BENCH_API_REDIS_DB); needs both.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench.arena import _reachable, fresh_database

DATABASE = os.environ.get("ARENA_BENCH_API_DATABASE", "arena_bench_api")
REDIS_DB = os.environ.get("ARENA_BENCH_API_REDIS_DB", "13")
ROUNDS = 60


def _configure(scratch: Path) -> dict[str, str]:
    database_url = fresh_database(DATABASE)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "arena.settings",
            "SECRET_KEY": "bench-only",
            "ALLOWED_HOSTS": "testserver",
            "ARENA_HTTPS": "0",
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "ARENA_VAR_DIR": str(scratch),
            "MEDIA_ROOT": str(scratch / "media"),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "GATEWAY_LOCAL_LATENCY_SCALE": "0",
            "ARENA_API_REQUESTS_PER_MINUTE": "0",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from tests.arena.helpers import catalog_file_without_failures

    call_command("migrate", verbosity=0)
    catalog = catalog_file_without_failures(scratch)
    os.environ["GATEWAY_CATALOG"] = str(catalog)
    return {**os.environ, "DB_CONN_MAX_AGE": "0"}


def main() -> None:
    if not (_reachable(5432) and _reachable(6379)):
        print("skipped: needs PostgreSQL and Redis")
        return
    scratch = Path(tempfile.mkdtemp(prefix="arena-bench-api-"))
    env = _configure(scratch)
    from django.test import Client

    import gateway
    from arena.api import services
    from arena.api.services import api_key_create
    from arena.catalog.services import catalog_sync
    from arena.celery import app
    from tests.arena.helpers import CeleryProcess

    app.conf.task_always_eager = False
    catalog_sync()
    key = api_key_create(name="bench")[1]
    worker = CeleryProcess.generation_worker(
        env=env, log_path=scratch / "worker.log", concurrency=4
    )
    try:
        client = Client()
        body = json.dumps(
            {"model": "blockworld", "prompt": "A red ball", "size": "64x64",
             "response_format": "b64_json"}
        )  # fmt: skip

        def api() -> float:
            started = time.perf_counter()
            response = client.post(
                "/openai/v1/images/generations", body, content_type="application/json",
                headers={"Authorization": f"Bearer {key}"},
            )  # fmt: skip
            assert response.status_code == 200, response.content
            return time.perf_counter() - started

        api()  # the worker's first task warms its imports
        request = gateway.ImageRequest(model="blockworld", prompt="A red ball", size="64x64")
        direct = [_timed(lambda: gateway.generate(request)) for _ in range(ROUNDS)]
        with_bell = [api() for _ in range(ROUNDS)]
        ring_wait = services.job_finished_wait
        services.job_finished_wait = lambda job_id, seconds: time.sleep(seconds)
        try:
            polling = [api() for _ in range(ROUNDS)]
        finally:
            services.job_finished_wait = ring_wait
    finally:
        worker.stop()
    gateway_ms = statistics.median(direct) * 1000
    print(f"images API served by a worker process (blockworld 64x64 b64, median of {ROUNDS}):")
    print(f"  gateway called directly          {gateway_ms:8.2f} ms")
    for name, times in (("answer, worker rings its bell", with_bell),
                        ("answer, web polls the row", polling)):  # fmt: skip
        answer_ms = statistics.median(times) * 1000
        print(f"  {name:<32} {answer_ms:8.2f} ms   (+{answer_ms - gateway_ms:.2f} ms)")


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
