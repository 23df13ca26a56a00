"""The check psycopg's pool runs on a connection before a request gets it (settings.DATABASES)."""

import select

from psycopg import Connection
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool


def connection_check(conn: Connection) -> None:
    """Let a connection out of the pool only if the server has not dropped it.

    An idle connection has nothing to read: the server only writes to it to answer a query, or
    to say it is closing it (pg_terminate_backend, a restart, a failover: an error message, then
    end of file). So a connection whose socket has nothing waiting goes out without a round
    trip (two a page + vote pair saved), and one with something waiting gets psycopg's own
    check, an empty query, which fails on a dropped connection.

    When that check finds a dead connection, every idle one is checked at once. A restart drops
    all of a process's connections together, and the pool alone would find them one failed
    check at a time, sleeping 1 s, 2 s, 4 s... between them: past a request's 10 s wait with a
    few dead ones. Checked together, the dead ones are replaced in the background and the
    waiting request gets a new one on its next try, about a second later.
    """
    if _quiet(conn):
        return
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        from django.db import connections

        pool = connections["default"].pool
        if pool is not None:
            pool.check()
        raise


def _quiet(conn: Connection) -> bool:
    """True when the connection is open, idle, and the server has sent nothing since."""
    if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    return not poller.poll(0)
