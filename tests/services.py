"""Pytest plugin, loaded before Django reads its settings: the environment the tests run in.

PostgreSQL and Redis on 127.0.0.1 are used whenever they answer; under CI=true they are
required, and a missing one fails the run instead of quietly falling back to SQLite.
"""

import functools
import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings as hypothesis_settings

# Tests don't time things (make bench does): on a shared 2-core machine a slow example is load,
# not a bug, so hypothesis's per-example deadline is off.
hypothesis_settings.register_profile("arena", deadline=None)
hypothesis_settings.load_profile("arena")

POSTGRES = ("127.0.0.1", 5432, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/arena")
REDIS = ("127.0.0.1", 6379, "REDIS_URL", "redis://127.0.0.1:6379/15")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    required = os.environ.get("CI", "").lower() == "true"
    for host, port, variable, url in (POSTGRES, REDIS):
        if os.environ.get(variable):
            continue
        if reachable(host, port):
            os.environ[variable] = url
        elif required:
            raise pytest.UsageError(
                f"CI=true needs {variable.split('_')[0].title()} on {host}:{port}, "
                "and it is not answering. Start it (see README, 'Running the tests')."
            )
    _separate_xdist_worker()
    os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    # The test client and the live server speak plain http; HTTPS-only is tested on its own.
    os.environ.setdefault("ARENA_HTTPS", "0")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    # Eager Celery means no beat, so votes would refit the ratings in a thread of their own:
    # only the tests of that ask for it.
    os.environ.setdefault("ARENA_REFIT_AFTER_VOTE_SECONDS", "0")
    os.environ.setdefault("GATEWAY_LOCAL_LATENCY_SCALE", "0")
    # Webhooks go to loopback receivers.
    os.environ.setdefault("ARENA_WEBHOOK_ALLOW_PRIVATE", "1")
    # One image per prompt and model unless a test is about renditions: faster, same logic.
    os.environ.setdefault("ARENA_RENDITIONS", "1")
    # Tests build a handful of provider calls; those about the minimum raise it themselves.
    os.environ.setdefault("ARENA_MIN_PROVIDER_CALLS", "1")
    # Worker threads close their connections after each task, so the test database can be dropped.
    os.environ.setdefault("DB_CONN_MAX_AGE", "0")
    # Up to fifty threads at once (test_concurrent_votes), each with a connection from the pool.
    os.environ.setdefault("DB_POOL_MAX_SIZE", "60")
    os.environ.setdefault("ARENA_VAR_DIR", tempfile.mkdtemp(prefix="arena-test-var-"))
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="arena-test-media-"))


def _separate_xdist_worker() -> None:
    """Under pytest-xdist each worker gets a Redis database and folders of its own (pytest-django
    gives each its own test database): workers inherit the controller's environment, so the
    controller's choices are shifted here, worker gw<n> taking the Redis database n below."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    if redis_url := os.environ.get("REDIS_URL"):
        parts = urlsplit(redis_url)
        database = int(parts.path.strip("/") or 0)
        path = f"/{(database - index) % 16}"
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=path))
    for variable, prefix in (
        ("ARENA_VAR_DIR", "arena-test-var-"),
        ("MEDIA_ROOT", "arena-test-media-"),
    ):
        os.environ[variable] = tempfile.mkdtemp(prefix=f"{prefix}{worker}-")


# Tests that run real processes (Celery workers, make serve's stack) wait on them with
# deadlines; two at once on two cores starve each other past those deadlines.
REAL_PROCESSES = ("worker", "serve")


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, except that the files of tests marked as running real processes are
    one unit: they run one after another on one worker while the other runs the rest.

    (pytest-xdist's own `loadgroup` cannot do it with this pytest: it renames a test by
    `item._nodeid`, which pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath

    class RealProcessesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "real-processes" if _runs_real_processes(root / path) else path

    return RealProcessesTogether(config, log)


@functools.cache
def _runs_real_processes(path: Path) -> bool:
    text = path.read_text() if path.suffix == ".py" and path.exists() else ""
    return any(f"pytest.mark.{marker}" in text for marker in REAL_PROCESSES)


def pytest_report_header(config):
    return [
        f"database: {os.environ.get('DATABASE_URL') or 'sqlite (PostgreSQL not reachable)'}",
        f"redis: {os.environ.get('REDIS_URL') or 'none (not reachable)'}",
    ]
