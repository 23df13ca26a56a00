"""Health checks for a load balancer or an orchestrator.

`/healthz` (liveness) answers as long as the process serves requests and touches nothing else:
a database outage must not get every web process restarted. `/readyz` (readiness) says whether
this process can do its work now: the database answers, the shared cache answers, and a worker
of each queue has said it is alive within WORKER_SILENCE_SECONDS (workers write a heartbeat
every WORKER_HEARTBEAT_SECONDS; with Celery eager there are no workers to wait for).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from arena.cache import CacheUnavailable

QUEUES = ("celery", "generation", "cpu")
WORKER_HEARTBEAT_SECONDS = 15
WORKER_SILENCE_SECONDS = 60
HEARTBEAT_KEY = "workers:heartbeat:{queue}"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "cache": _cache(), "workers": _workers()}
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"ready": ready, **checks}, status=200 if ready else 503)


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure to reach it is the answer, not a 500
        return {"ok": False, "error": str(error).splitlines()[0] if str(error) else repr(error)}
    return {"ok": True}


def _cache() -> dict[str, Any]:
    try:
        cache.add("health:probe", 1, timeout=5)
    except CacheUnavailable as error:
        return {"ok": False, "error": str(error)}
    return {"ok": True}


def _workers() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "eager": True}
    now = time.time()
    beats = cache.get_many([HEARTBEAT_KEY.format(queue=queue) for queue in QUEUES])
    silent = {}
    for queue in QUEUES:
        seen = beats.get(HEARTBEAT_KEY.format(queue=queue))
        silent[queue] = round(now - seen, 1) if seen is not None else None
    ok = all(age is not None and age <= WORKER_SILENCE_SECONDS for age in silent.values())
    return {"ok": ok, "seconds_since_heartbeat": silent}


def heartbeat_start(queues: list[str]) -> threading.Event:
    """In a worker: say every WORKER_HEARTBEAT_SECONDS that a worker of these queues is alive,
    until the returned event is set."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            now = time.time()
            cache.set_many(
                {HEARTBEAT_KEY.format(queue=queue): now for queue in queues},
                timeout=WORKER_SILENCE_SECONDS * 2,
            )
            stop.wait(WORKER_HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name=f"heartbeat-{socket.gethostname()}", daemon=True).start()
    return stop
