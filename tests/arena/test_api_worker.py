"""The API and the playground served by a Celery worker process on Redis, as in production:
the web process (this test's) only writes the job and waits for its row."""

import base64
import io
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from PIL import Image

import gateway
from arena.api.models import ImageJob
from arena.api.services import JOB_INPUTS, api_key_create
from arena.catalog.models import ProviderCall
from arena.catalog.services import catalog_sync
from arena.celery import app
from tests.arena.helpers import catalog_file_without_failures
from tests.factories import png_bytes

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_process(transactional_db, settings, tmp_path):
    """`celery worker -Q generation` in its own process, on this test's database and media."""
    if not os.environ.get("REDIS_URL") or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (required under CI=true)")
    catalog = catalog_file_without_failures(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "GATEWAY_CATALOG": str(catalog),
        "GATEWAY_LOCAL_LATENCY_SCALE": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DB_CONN_MAX_AGE": "0",
    }
    app.conf.task_always_eager = False
    with app.connection_for_write() as broker:
        broker.default_channel.client.flushdb()
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    name = f"api-test-{uuid.uuid4().hex[:8]}@%h"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "arena", "worker", "-Q", "generation",
         "--pool", "threads", "--concurrency", "4", "-n", name, "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    process.log_path = log_path
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        app.conf.task_always_eager = True


def worker_log_says(process, pattern: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, process.log_path.read_text()):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def web_never_calls_the_gateway(monkeypatch):
    def refuse(request, **options):
        raise AssertionError("the web process called the gateway")

    monkeypatch.setattr(gateway, "generate", refuse)
    monkeypatch.setattr(gateway, "edit", refuse)


def test_an_api_request_is_served_by_a_worker_process(worker_process, web_never_calls_the_gateway):
    catalog_sync()
    key, text = api_key_create(name="worker")
    started = time.monotonic()

    response = Client().post(
        "/openai/v1/images/generations",
        {"model": "daydream", "prompt": "A quiet harbour", "n": 2, "size": "256x256",
         "response_format": "b64_json"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {text}"},
    )  # fmt: skip

    assert response.status_code == 200, response.content
    assert time.monotonic() - started < 120
    images = [base64.b64decode(row["b64_json"]) for row in response.json()["data"]]
    assert [Image.open(io.BytesIO(image)).size for image in images] == [(256, 256)] * 2
    assert response["X-Arena-Provider"] == "local"
    job = ImageJob.objects.get()
    assert (job.status, job.runs, job.api_key, job.source) == ("ready", 1, key, "api")
    assert ProviderCall.objects.filter(source="api", model__slug="daydream", ok=True).exists()
    assert worker_process.poll() is None  # still serving
    assert worker_log_says(worker_process, rf"image_job_run\[{job.pk}\] succeeded")


def test_a_playground_edit_is_served_by_a_worker_process_and_its_source_removed(
    worker_process, web_never_calls_the_gateway
):
    catalog_sync()
    source = io.BytesIO(png_bytes(size=(200, 200)))
    source.name = "mine.png"

    response = Client().post(
        "/playground/",
        {"operation": "edit", "model": "retouch", "prompt": "Make it sepia",
         "size": "512x512", "n": "1", "image": source},
        headers={"HX-Request": "true"},
    )  # fmt: skip

    assert response.status_code == 200, response.content[:500]
    assert response.content.decode().count("<img ") == 1
    job = ImageJob.objects.get()
    assert (job.status, job.source, job.operation, job.sources) == (
        "ready", "playground", "edit", []
    )  # fmt: skip
    assert default_storage.listdir(JOB_INPUTS)[1] == []
    assert ProviderCall.objects.filter(source="playground", ok=True).count() == 1
