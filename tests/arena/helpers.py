"""Small helpers shared by the arena tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.test import Client
from django.utils import timezone
from pytest_httpserver import HTTPServer

import gateway
from arena.battles.models import Battle, Vote
from arena.battles.services import anonymous_id
from arena.catalog.models import (
    AIModel,
    Generation,
    GenerationBatch,
    Offering,
    Provider,
    ProviderCall,
)
from arena.pages import figures
from arena.ratings.models import Rating
from gateway.providers.local import LocalProvider
from tests.factories import AIModelFactory
from tests.gateway.fakes import FakeFal, FakeReplicate

TOKEN = re.compile(r'action="/battle/([A-Za-z0-9_-]+)/"')
ROOT = Path(__file__).resolve().parents[2]


def reset_shared_state() -> None:
    from django.core.cache import cache

    from arena.api.lookups import lookups_forget
    from arena.battles import matchmaking
    from arena.catalog import services

    cache.clear()
    matchmaking._pools.clear()
    services._provider_ids.clear()  # a test's rows are rolled back or flushed after it
    lookups_forget()


def open_battle(client: Client, arena: str = "t2i") -> Battle:
    """Open a new battle page as a visitor and return the battle it shows."""
    response = client.get(f"/battle/{arena}/")
    assert response.status_code == 200, response.content[:500]
    match = TOKEN.search(response.content.decode())
    assert match, "the battle page has no vote form"
    return Battle.objects.select_related("left__model", "right__model").get(token=match[1])


def local_catalog(fail_rates: dict[str, float] | None = None) -> gateway.Catalog:
    """The shipped catalog with the simulated failure rates replaced (0 unless named)."""
    fail_rates = fail_rates or {}
    models = {
        model_id: replace(
            spec,
            offerings=tuple(
                replace(
                    offering,
                    options={**offering.options, "fail_rate": fail_rates.get(model_id, 0)},
                )
                for offering in spec.offerings
            ),
        )
        for model_id, spec in gateway.default_catalog().models.items()
    }
    return replace(gateway.default_catalog(), models=models)


def use_local_gateway(fail_rates: dict[str, float] | None = None) -> gateway.Gateway:
    router = gateway.Gateway(
        catalog=local_catalog(fail_rates),
        providers={"local": LocalProvider(latency_scale=0)},
        router=gateway.Router(gateway.MemoryWindow()),
    )
    gateway.set_default_gateway(router)
    return router


def votes_bulk(rows: list[tuple[Generation, Generation, str, str]]) -> list[Vote]:
    """Store votes (left image, right image, choice, session) directly, in two queries.

    For tests about what is done with votes; the vote path itself is proven in test_vote.py.
    """
    now = timezone.now()
    battles = Battle.objects.bulk_create(
        Battle(
            arena=left.prompt.arena,
            prompt=left.prompt,
            left=left,
            right=right,
            session_key=session,
            expires_at=now,
        )
        for left, right, _, session in rows
    )
    return Vote.objects.bulk_create(
        Vote(
            battle=battle,
            arena=battle.arena,
            prompt=battle.prompt,
            left_model=battle.left.model,
            right_model=battle.right.model,
            choice=choice,
            voter=anonymous_id(session),
            left_elo_before=1000,
            left_elo_after=1000,
            right_elo_before=1000,
            right_elo_after=1000,
        )
        for battle, (_, _, choice, session) in zip(battles, rows, strict=True)
    )


def measured_models() -> tuple[AIModel, AIModel]:
    """Two models with prices, ratings and a month of calls (plus some too old to count)."""
    fast = AIModelFactory(slug="fast", name="Fast Model")
    slow = AIModelFactory(slug="slow", name="Slow Model")
    cheap = Provider.objects.create(slug="cheap", name="Cheap Cloud")
    pricey = Provider.objects.create(slug="pricey", name="Pricey Cloud")
    Offering.objects.create(
        model=fast, provider=cheap, provider_model="f", price_per_image=Decimal("0.01")
    )
    Offering.objects.create(
        model=fast, provider=pricey, provider_model="f2", price_per_image=Decimal("0.05")
    )
    Offering.objects.create(
        model=slow, provider=cheap, provider_model="s", price_per_image=Decimal("0.02")
    )
    now = timezone.now()

    def calls(model, provider, times_ms, *, ok=True, days_ago=1):
        ProviderCall.objects.bulk_create(
            ProviderCall(
                model=model, provider=provider, provider_model="x", ok=ok, total_ms=ms,
                ttfb_ms=ms / 2 if ok else None, started_at=now - timedelta(days=days_ago),
            )
            for ms in times_ms
        )  # fmt: skip

    calls(fast, cheap, [800, 1000, 1200, 1400])
    calls(fast, cheap, [90_000], ok=False)
    calls(fast, cheap, [99_000] * 50, days_ago=figures.SPEED_DAYS + 1)  # too old to count
    calls(slow, cheap, [20_000, 30_000])
    for model, rating in ((fast, 1100.0), (slow, 950.0)):
        Rating.objects.create(
            arena="t2i", model=model, rating=rating, ci_low=rating - 20, ci_high=rating + 20,
            rank=1, votes=100, preliminary=False, computed_at=now,
        )  # fmt: skip
    return fast, slow


# The model the provider-job tests run: on fal and Replicate, nowhere else configured there.
JOB_MODEL = "imagen-4"
JOB_MODEL_ON_FAL = "fal-ai/imagen4/preview"
JOB_MODEL_ON_REPLICATE = "google/imagen-4"


class WorkerKilled(BaseException):
    """What kill -9 looks like from inside: nothing after it runs."""


def submission_aged() -> None:
    """Time up for every batch submission under way: the batch gateway's deadline has passed,
    so the beat settles what they left."""
    long_ago = timezone.now() - timedelta(seconds=gateway.default_batch_gateway().timeout + 1)
    GenerationBatch.objects.update(submitted_at=long_ago)


@contextmanager
def job_providers(**environ: str) -> Iterator[tuple[FakeFal, FakeReplicate]]:
    """fal and Replicate on a loopback fake, the process's gateway pointed at both, with
    `environ` added (GATEWAY_WEBHOOK_BASE_URL); no other remote provider configured."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    fal, replicate = FakeFal(server, release), FakeReplicate(server, release)
    router = gateway.Gateway(
        environ=fal.env() | replicate.env() | environ,
        router=gateway.Router(gateway.MemoryWindow(), policy=gateway.RoutingPolicy(exploration=0)),
        timeout=5,
        poll_interval=0.01,
    )
    gateway.set_default_gateway(router)
    try:
        yield fal, replicate
    finally:
        release.set()
        router.close()
        server.clear()
        server.stop()


def catalog_file_without_failures(folder: Path) -> Path:
    """The shipped catalog file without its simulated failures, written into `folder`, for a
    worker process (GATEWAY_CATALOG)."""
    catalog = folder / "catalog.toml"
    shipped = (ROOT / "gateway" / "catalog.toml").read_text()
    catalog.write_text(re.sub(r"fail_rate = [\d.]+", "fail_rate = 0.0", shipped))
    return catalog


def wait_for(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Return once `condition()` holds (checked every 0.05 s); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


class CeleryProcess:
    """`celery -A arena <arguments>` (a worker, a beat) in a process of its own, its output in
    `log_path`: one a test can kill -9."""

    def __init__(self, arguments: list[str], *, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "arena", *arguments, "--loglevel", "INFO"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    @classmethod
    def generation_worker(
        cls, *, env: dict[str, str], log_path: Path, concurrency: int
    ) -> CeleryProcess:
        """A worker of the generation queue (and the default one) on the threads pool."""
        name = f"test-{uuid.uuid4().hex[:8]}@%h"
        return cls(
            ["worker", "-Q", "generation,celery", "--pool", "threads",
             "--concurrency", str(concurrency), "-n", name,
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env={**env, "DB_POOL_MAX_SIZE": str(concurrency + 1)},  # and one for the leases
            log_path=log_path,
        )  # fmt: skip

    def kill(self) -> None:
        """kill -9: nothing in the process runs after it."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: the shared Redis is never stopped


def broker_unreachable(monkeypatch) -> None:
    """Celery sends for real, to a broker that is not there, until the test ends. The app's
    connection pools are set aside too: one made for the dead broker would outlive the test
    and fail every later test's sends."""
    from arena.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", DEAD_REDIS)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
