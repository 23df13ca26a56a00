"""PostgreSQL through psycopg's pool: a connection the server drops costs at most the request
that was using it; the next request gets a live one."""

import httpx
import psycopg
import pytest
from django.db import OperationalError, connection
from django.test import Client

from arena import dbpool
from tests.arena.test_settings import settings_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's pool is PostgreSQL's"),
]


def terminate_backends() -> int:
    """What a database restart or a failover does to every connection of this test database."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("cursor_factory", None)
    database = params.pop("dbname")
    with psycopg.connect(**{**params, "dbname": "postgres"}, autocommit=True) as admin:
        rows = admin.execute(
            # Waits (up to 5 s) for each backend to end, as a restart has ended them.
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    return len(rows)


def test_connections_come_from_a_bounded_pool():
    pool_options = connection.settings_dict["OPTIONS"]["pool"]

    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    assert 0 < pool_options["max_size"] <= 64
    assert Client().get("/leaderboard/t2i/").status_code == 200
    assert connection.pool is not None
    assert connection.pool.get_stats()["pool_size"] <= pool_options["max_size"]


def test_the_next_request_works_after_the_servers_connections_are_terminated(live_server):
    # A real server: each request hands its connection back to the pool as it ends (the test
    # client keeps one connection across requests).
    url = f"{live_server.url}/leaderboard/t2i/"
    assert httpx.get(url).status_code == 200
    connection.close()
    # Idle connections in the pool, as a busy process has: a restart drops them all at once.
    idle = [connection.pool.getconn() for _ in range(8)]
    for conn in idle:
        connection.pool.putconn(conn)

    assert terminate_backends() >= len(idle)

    # More requests than the pool holds connections: every dropped one is replaced.
    for _ in range(connection.settings_dict["OPTIONS"]["pool"]["max_size"] + 2):
        assert httpx.get(url).status_code == 200


def test_a_connection_dropped_mid_request_fails_that_request_alone():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    terminate_backends()

    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # What Django does when the request ends: the broken connection leaves, not into the pool.
    connection.close()

    assert Client().get("/leaderboard/t2i/").status_code == 200
    connection.close()


def test_a_quiet_connection_leaves_the_pool_without_a_round_trip_and_a_dropped_one_does_not(
    monkeypatch,
):
    checked = []
    real_check = dbpool.ConnectionPool.check_connection
    monkeypatch.setattr(
        dbpool.ConnectionPool,
        "check_connection",
        staticmethod(lambda conn: checked.append(conn) or real_check(conn)),
    )
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute("SELECT 1")
        dbpool.connection_check(conn)
        assert checked == []

        terminate_backends()

        with pytest.raises(psycopg.OperationalError):
            dbpool.connection_check(conn)
        assert checked[0] is conn


def test_each_process_sizes_its_pool_and_one_off_commands_can_do_without():
    database = "settings.DATABASES['default']"
    expression = f"{database}['OPTIONS'].get('pool'), {database}['CONN_MAX_AGE']"
    env = {"SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://arena@db.example:5432/arena"}
    pooled = settings_in({**env, "DB_POOL_MAX_SIZE": "32"}, expression)
    plain = settings_in({**env, "DB_POOL": "0", "DB_CONN_MAX_AGE": "60"}, expression)

    assert pooled.returncode == 0, pooled.stderr
    assert "'max_size': 32" in pooled.stdout
    assert pooled.stdout.strip().endswith(" 0")
    assert plain.stdout.strip() == "None 60"
