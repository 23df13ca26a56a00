import logging
import os

import pytest
from celery.contrib.testing.worker import start_worker

import gateway
from arena import cache as arena_cache
from arena.api.services import api_key_create
from arena.catalog.services import catalog_sync
from tests.arena.helpers import (
    DEAD_REDIS,
    JOB_MODEL_ON_FAL,
    JOB_MODEL_ON_REPLICATE,
    reset_shared_state,
    use_local_gateway,
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes its images into its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def local_gateway():
    """The built-in models, without simulated latency or failures."""
    yield use_local_gateway()
    gateway.set_default_gateway(None)


@pytest.fixture(autouse=True)
def empty_cache():
    """Sessions, vote counters and matchmaking pools outlive a test's database: start clean."""
    reset_shared_state()
    yield
    reset_shared_state()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what services send with transaction.on_commit, as a real commit would."""

    def run(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


@pytest.fixture
def redis_away(settings, monkeypatch):
    """The site pointed at a Redis where nothing listens (the shared one is never stopped)."""
    settings.CACHES = {"default": {"BACKEND": "arena.cache.RedisCache", "LOCATION": DEAD_REDIS}}
    settings.SESSION_ENGINE = "arena.sessions"  # cached database sessions, as with Redis
    monkeypatch.setattr(arena_cache, "OUTAGE_SECONDS", 0.0)  # every call tries, and fails


@pytest.fixture
def worker(settings):
    """A real Celery worker (threads) consuming Redis's generation and default queues."""
    from arena.celery import app

    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis (required under CI=true)")
    settings.ARENA_IMAGE_SIZE = 256
    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    root_level = logging.getLogger().level  # the testing worker sets its own on the root logger
    with start_worker(
        app,
        pool="threads",
        concurrency=8,
        perform_ping_check=False,
        queues=["generation", "celery"],
        shutdown_timeout=30,
    ) as running:
        yield running
    app.conf.task_always_eager = True
    logging.getLogger().setLevel(root_level)


@pytest.fixture
def key() -> str:
    """An API key's full text, with the catalog's models in the database (the API tests')."""
    catalog_sync()
    return api_key_create(name="tests")[1]


# fal and Replicate each taking a test's job: over the `providers` fixture of the test's module
# (helpers.job_providers with what that module needs).
@pytest.fixture
def fal(providers):
    fake, _ = providers
    fake.model(JOB_MODEL_ON_FAL)
    return fake


@pytest.fixture
def replicate(providers, monkeypatch):
    _, fake = providers
    fake.model(JOB_MODEL_ON_REPLICATE)
    # fal without its key, so Replicate takes the job
    monkeypatch.setattr(gateway.default_gateway().providers["fal"], "api_key", "")
    return fake
