"""The shared cache: Redis that a short outage cannot take the site down with, or, for a
production run without Redis, Django's database cache shared by every process.

Redis away (restarting, a network blip) must not be a 500 on every page. What the cache holds
is a copy or a hint (pools' version, cached figures and sessions backed by the database), so a
read is a miss and a write is skipped while it is away. What only the cache can answer (a lock
taken with `add`, a counter's `incr`) raises CacheUnavailable instead: its caller says what
stands in (see arena.ratelimit and arena.ratings.services). After a failure the cache is left
alone for OUTAGE_SECONDS, so a visitor's request pays for at most one timed-out connection.

The database cache:

Django's own `incr` on the database cache reads, adds and writes back outside a transaction, so
two processes counting at once lose counts, and the write resets the key's expiry to the
default timeout (a daily cap would forget its count five minutes after the last event). The
counters of `arena.ratelimit` need both: here the row is locked, read and updated in one
transaction, and its expiry is kept.
"""

from __future__ import annotations

import base64
import logging
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache.backends import db, redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.management import call_command
from django.db import connections, router, transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_SECONDS = 5.0


class CacheUnavailable(Exception):
    """The shared cache cannot answer now; the caller falls back to what it can do alone."""


class Window(NamedTuple):
    """A rate window's counter (arena.ratelimit): this window's key, the previous one's, and
    how long this one is kept."""

    current: str
    previous: str
    timeout: int


class RedisClientPerPool(redis.RedisCacheClient):
    """Django's Redis client, with one redis-py client per connection pool instead of a new one
    for every cache call: building one (its table of reply callbacks) cost about 0.3 ms of CPU,
    twice or more per request (python -m tests.bench load). redis-py clients are thread-safe:
    each command takes a connection from the pool."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    """Django's Redis cache, degrading to misses and skipped writes while Redis is away."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        # Without these a blackholed Redis holds each request for the OS's TCP timeout.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, params)
        self._class = RedisClientPerPool
        self._down_until = 0.0
        self._state = threading.Lock()

    def _guarded(self, call: Callable[[], Any], operation: str) -> Any:
        if time.monotonic() < self._down_until:
            raise CacheUnavailable(f"Redis is away (cache {operation} skipped)")
        try:
            return call()
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            with self._state:
                first = time.monotonic() >= self._down_until
                self._down_until = time.monotonic() + OUTAGE_SECONDS
            if first:
                logger.warning(
                    "Redis is unreachable (%s); serving without the shared cache, "
                    "trying again in %.0f s.",
                    error,
                    OUTAGE_SECONDS,
                )
            raise CacheUnavailable(f"Redis is away ({error})") from error

    def _read(self, call: Callable[[], Any], operation: str, missing: Any) -> Any:
        try:
            return self._guarded(call, operation)
        except CacheUnavailable:
            return missing

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._read(
            lambda: super(RedisCache, self).get(key, default, version), "get", default
        )

    def get_many(self, keys: Any, version: int | None = None) -> Any:
        return self._read(lambda: super(RedisCache, self).get_many(keys, version), "get", {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._read(lambda: super(RedisCache, self).has_key(key, version), "get", False)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._read(lambda: super(RedisCache, self).set(key, value, timeout, version), "set", None)

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._read(
            lambda: super(RedisCache, self).set_many(data, timeout, version), "set", list(data)
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._read(
            lambda: super(RedisCache, self).touch(key, timeout, version), "set", False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._read(lambda: super(RedisCache, self).delete(key, version), "delete", False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._read(lambda: super(RedisCache, self).delete_many(keys, version), "delete", None)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._guarded(
            lambda: super(RedisCache, self).add(key, value, timeout, version), "add"
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._guarded(lambda: super(RedisCache, self).incr(key, delta, version), "incr")

    def windows_count(self, windows: Sequence[Window]) -> list[tuple[int, int]]:
        """Count one event in each window, in one round trip (a pipeline, not a transaction:
        each counter is atomic on its own): each window's count, this event included, and its
        previous window's. `add` + `incr` + `get` per window would be five round trips (Django's
        `incr` asks EXISTS first)."""

        def count() -> list[tuple[int, int]]:
            pipeline = self._cache.get_client(write=True).pipeline(transaction=False)
            for window in windows:
                current = self.make_and_validate_key(window.current)
                pipeline.set(current, 0, ex=window.timeout, nx=True)
                pipeline.incr(current)
                pipeline.get(self.make_and_validate_key(window.previous))
            replies = pipeline.execute()
            return [
                (int(replies[i + 1]), int(replies[i + 2] or 0)) for i in range(0, len(replies), 3)
            ]

        return self._guarded(count, "incr")

    def get_or_set(
        self, key: Any, default: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        try:
            return super().get_or_set(key, default, timeout, version)
        except CacheUnavailable:
            return default() if callable(default) else default


class DatabaseCache(db.DatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        value, cache_key, expires = (quote_name(c) for c in ("value", "cache_key", "expires"))
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = datetime.now(UTC) if settings.USE_TZ else datetime.now()
        now = now.replace(microsecond=0)
        # SQLite has no row locks; its transactions start IMMEDIATE here (settings), which
        # serialises writers just the same.
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value} FROM {table} WHERE {cache_key} = %s AND {expires} > %s{lock}",
                [key, connection.ops.adapt_datetimefield_value(now)],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            stored = connection.ops.process_clob(row[0])
            new_value = pickle.loads(base64.b64decode(stored.encode(), validate=True)) + delta
            cursor.execute(
                f"UPDATE {table} SET {value} = %s WHERE {cache_key} = %s",
                [base64.b64encode(pickle.dumps(new_value, self.pickle_protocol)).decode(), key],
            )
        return new_value


def cache_tables_create(*, using: str, **kwargs: Any) -> None:
    """post_migrate: create the table of every database cache, so `migrate` alone sets up a
    production run without Redis (a no-op when none is configured or the table exists)."""
    call_command("createcachetable", database=using, verbosity=0)
