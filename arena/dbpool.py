"""The check psycopg's pool runs on a connection before a request gets it (settings.DATABASES)."""

from psycopg import Connection
from psycopg_pool import ConnectionPool


def connection_check(conn: Connection) -> None:
    """psycopg's own check; when it finds a dead connection, every idle one is checked at once.

    A database restart, a failover or pg_terminate_backend drops all of a process's connections
    together, and the pool alone would find them one failed check at a time, sleeping 1 s, 2 s,
    4 s... between them: past a request's 10 s wait with a few dead ones. Checked together, the
    dead ones are replaced in the background and the waiting request gets a new one on its
    next try, about a second later.
    """
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        from django.db import connections

        pool = connections["default"].pool
        if pool is not None:
            pool.check()
        raise
