"""How a web process waiting on a job learns the moment a worker has finished it.

The job's row is the answer (arena.api.services.image_job_wait reads it); this is only the
doorbell. The worker that finishes a job pushes a token onto a Redis list of the job's own,
and the waiting view blocks on that list between its reads of the row, so an answer leaves
within a millisecond or two of the worker's commit instead of after the rest of a polling
pause. Without Redis, or while it is away, the waiting view sleeps its pause instead.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid

import redis
from django.conf import settings

log = logging.getLogger(__name__)

BELL = "arena:api:done:{job_id}"
# Long enough for a waiting view to pick the token up; nobody reads it after that.
BELL_SECONDS = 300


def job_finished_ring(job_id: uuid.UUID) -> None:
    """Tell whoever waits on the job that it is finished (its row already says so). Run
    eagerly, the job's waiter is the thread that ran it: there is nobody to tell."""
    from arena.celery import app

    if not settings.REDIS_URL or app.conf.task_always_eager:
        return
    key = BELL.format(job_id=job_id)
    try:
        _redis().pipeline().rpush(key, b"1").expire(key, BELL_SECONDS).execute()
    except redis.RedisError:  # the waiting view reads the row at its next pause anyway
        log.warning("could not ring the bell of job %s", job_id, exc_info=True)


def job_finished_wait(job_id: uuid.UUID, seconds: float) -> None:
    """Wait up to `seconds` for the job's bell (or simply sleep them, without Redis)."""
    if settings.REDIS_URL:
        try:
            _redis().blpop([BELL.format(job_id=job_id)], timeout=seconds)
            return
        except redis.RedisError:
            log.warning("could not wait on the bell of job %s", job_id, exc_info=True)
    time.sleep(seconds)


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=35)
