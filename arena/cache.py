"""The cache of a production run without Redis: Django's database cache, shared by every process.

Django's own `incr` on the database cache reads, adds and writes back outside a transaction, so
two processes counting at once lose counts, and the write resets the key's expiry to the
default timeout (a daily cap would forget its count five minutes after the last event). The
counters of `arena.ratelimit` need both: here the row is locked, read and updated in one
transaction, and its expiry is kept.
"""

from __future__ import annotations

import base64
import pickle
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends import db
from django.core.management import call_command
from django.db import connections, router, transaction


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
