"""Where a streamed job's partial images travel, from whoever runs the job to the view that
relays them (arena.api.streaming).

A generation worker pushes each one, as the gateway hands it over, onto a Redis list of the
job's own, and the view pops them off as they come. A job run eagerly (the embedded default,
no Redis) runs in a thread of the view's own process, which hands them over directly.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

import redis
from django.conf import settings

import gateway
from arena.api.models import ImageJob

log = logging.getLogger(__name__)

CHANNEL = "arena:api:partials:{job_id}"
# A job's list outlives it a while, in case its reader is slow; nobody reads it after that.
CHANNEL_SECONDS = 600
# How often the relay looks at the job's row while no partial image comes.
POLL_SECONDS = 0.2

_handed: ContextVar[Callable[[bytes], None] | None] = ContextVar("handed_partials", default=None)


def job_partials(job: ImageJob) -> gateway.PartialImages | None:
    """Where a streamed job's partial images go as the gateway makes them: to the view that
    runs the job in this thread (eagerly), else onto the job's Redis list; None if not
    streamed."""
    if job.partial_images is None:
        return None
    emit = _handed.get() or functools.partial(_publish, job.pk)
    return gateway.PartialImages(job.partial_images, emit)


def _publish(job_id: uuid.UUID, image: bytes) -> None:
    # A partial image is a courtesy: losing one must never fail the job that makes it.
    try:
        key = CHANNEL.format(job_id=job_id)
        _redis().pipeline().rpush(key, image).expire(key, CHANNEL_SECONDS).execute()
    except redis.RedisError:
        log.warning("partial image of job %s not published", job_id, exc_info=True)


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=POLL_SECONDS + 5
    )


@contextmanager
def partials_handed(emit: Callable[[bytes], None]) -> Iterator[None]:
    """Within this block, the partial images of streamed jobs run in this thread (eagerly)
    go to `emit` rather than to Redis."""
    token = _handed.set(emit)
    try:
        yield
    finally:
        _handed.reset(token)


def partials_relayed(job_id: uuid.UUID, deadline: float) -> Iterator[bytes]:
    """The job's partial images from its Redis list as they arrive, until it is finished (then
    what is left on the list) or the deadline passes; with Redis away, none (the caller then
    gets the final event alone)."""
    key = CHANNEL.format(job_id=job_id)
    client = _redis()
    try:
        while (left := deadline - time.monotonic()) > 0:
            popped = client.blpop([key], timeout=min(POLL_SECONDS, left))
            if popped is not None:
                yield popped[1]
            elif ImageJob.objects.filter(pk=job_id).finished().exists():
                while (rest := client.lpop(key)) is not None:
                    yield rest
                return
    except redis.RedisError:
        log.warning("partial images of job %s not relayed: Redis is unreachable", job_id)
    finally:
        with suppress(redis.RedisError):
            client.delete(key)
