"""A batch submission stopped at any point costs one charge per image: the beat asks the
provider for a batch under the row's label, adopts it when the provider took the requests, and
gives them to direct calls only when it did not. Against the loopback fakes of OpenAI's and
Gemini's batch APIs (tests/gateway/fakes/README.md)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import httpx
import pytest
from django.db import DatabaseError, connection
from pytest_httpserver import HTTPServer

import gateway
from arena.catalog import services
from arena.catalog.models import Generation, GenerationBatch, ProviderCall
from arena.catalog.services import catalog_sync, generations_batch_submit
from gateway.batch import BatchGateway
from tests.arena.helpers import WorkerKilled, submission_aged
from tests.factories import PromptFactory
from tests.gateway.fakes import (
    Fake,
    FakeGemini,
    FakeGeminiBatch,
    FakeOpenAI,
    FakeOpenAIBatch,
    reply,
)

pytestmark = pytest.mark.django_db


@dataclass
class Provider:
    """One provider's batch API and direct API on a loopback fake, the arena pointed at both."""

    batch_price: Decimal
    batches: FakeOpenAIBatch | FakeGeminiBatch
    direct: Fake
    direct_path: str
    list_path: str  # where the provider lists its batches
    transport: KillingTransport

    def batches_made(self) -> int:
        return len(self.batches.batches)

    def direct_calls(self) -> int:
        return len(self.direct.seen(self.direct_path, "POST"))


class KillingTransport(httpx.BaseTransport):
    """Sends requests on; once armed, the worker is killed at the request that makes the batch:
    before it leaves (`answered=False`: the provider never makes it) or after the provider
    answered, before the answer is read (`answered=True`)."""

    def __init__(self, create_path: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.create_path = create_path
        self.armed: bool | None = None  # None: let everything through; else `answered`

    def kill_at_create(self, *, answered: bool) -> None:
        self.armed = answered

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        creates = request.method == "POST" and re.fullmatch(self.create_path, request.url.path)
        if creates and self.armed is not None:
            answered, self.armed = self.armed, None
            if answered:
                self.inner.handle_request(request).close()
            raise WorkerKilled
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(params=["openai", "gemini"])
def provider(request, settings) -> Iterator[Provider]:
    settings.ARENA_IMAGE_SIZE = 128
    settings.ARENA_THUMBNAIL_SIZE = 32
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    release = threading.Event()
    shipped = gateway.default_catalog()
    if request.param == "openai":
        model = "gpt-image-1"
        batches: FakeOpenAIBatch | FakeGeminiBatch = FakeOpenAIBatch(server, release)
        direct: Fake = FakeOpenAI(server, release)
        direct_path = "/v1/images/generations"
        direct.on(direct_path, direct.images())
        create_path = list_path = "/v1/batches"
    else:
        model = "gemini-3.1-flash-lite-image"
        batches = FakeGeminiBatch(server, release)
        direct = FakeGemini(server, release)
        (offering,) = [o for o in shipped.models[model].offerings if o.provider == "gemini"]
        direct_path = direct.path(offering.provider_model)
        direct.on(direct_path, direct.image(offering.provider_model))
        create_path = r"/v1beta/models/[^/]+:batchGenerateContent"
        list_path = "/v1beta/batches"
    catalog = replace(shipped, models={model: shipped.models[model]})
    environ = batches.env()  # the provider's key alone: no other offering is routable
    direct_gateway = gateway.Gateway(
        catalog=catalog,
        environ=environ,
        router=gateway.Router(gateway.MemoryWindow(), policy=gateway.RoutingPolicy(exploration=0)),
        timeout=5,
    )
    transport = KillingTransport(create_path)
    batch_gateway = BatchGateway(catalog=catalog, environ=environ, transport=transport, timeout=5)
    gateway.set_default_gateway(direct_gateway)
    gateway.set_default_batch_gateway(batch_gateway)
    catalog_sync()
    yield Provider(
        batch_price=batch_gateway.offering(model).batch_price,
        batches=batches,
        direct=direct,
        direct_path=direct_path,
        list_path=list_path,
        transport=transport,
    )
    release.set()
    gateway.set_default_batch_gateway(None)
    batch_gateway.close()
    direct_gateway.close()
    server.clear()
    server.stop()


def submit_killed(committed, prompt) -> GenerationBatch:
    with pytest.raises((WorkerKilled, DatabaseError)):
        committed(generations_batch_submit, prompt_ids=[prompt.pk])
    (batch,) = GenerationBatch.objects.all()
    assert (batch.status, batch.provider_batch_id) == ("submitting", "")
    return batch


def beat_until_settled(committed) -> GenerationBatch:
    """What beat does every minute, once the submission's time is up, until the batch ended."""
    submission_aged()
    for _ in range(8):
        committed(services.generation_batches_poll)
        batch = GenerationBatch.objects.get()
        if batch.status not in ("submitting", "running"):
            return batch
    raise AssertionError(f"the batch is still {batch.status}")


def assert_adopted_and_charged_once(provider: Provider, batch: GenerationBatch) -> None:
    (paid,) = provider.batches.batches  # the provider made one batch, and was not asked again
    assert (batch.status, batch.provider_batch_id, batch.made) == ("completed", paid, 1)
    assert provider.direct_calls() == 0
    (generation,) = Generation.objects.filter(pk__in=batch.generation_ids)
    assert generation.status == Generation.Status.READY
    (call,) = ProviderCall.objects.filter(generation=generation)
    assert (call.batch, call.ok, call.cost) == (True, True, provider.batch_price)


def test_killed_once_the_provider_made_the_batch_but_before_its_id_came_back(provider, committed):
    prompt = PromptFactory(text="a red cube on a blue floor")
    provider.transport.kill_at_create(answered=True)

    submit_killed(committed, prompt)
    assert provider.batches_made() == 1

    assert_adopted_and_charged_once(provider, beat_until_settled(committed))


def test_killed_after_the_upload_returned_and_before_its_id_was_stored(
    provider, committed, monkeypatch
):
    prompt = PromptFactory(text="a red cube on a blue floor")

    def killed(batch, provider_batch_id):
        raise WorkerKilled

    with monkeypatch.context() as patched:
        patched.setattr(services, "_batch_started", killed)
        submit_killed(committed, prompt)

    assert_adopted_and_charged_once(provider, beat_until_settled(committed))


# Real commits: the failure is the database's, after the provider took the batch.
@pytest.mark.django_db(transaction=True)
def test_redis_and_the_database_away_once_the_provider_took_the_batch(
    provider, committed, redis_away
):
    prompt = PromptFactory(text="a red cube on a blue floor")
    lost = []

    def recording_fails(execute, sql, params, many, context):
        records_id = sql.startswith("UPDATE") and "catalog_generationbatch" in sql
        if provider.batches_made() and records_id and not lost:
            lost.append(sql)
            raise DatabaseError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(recording_fails):
        submit_killed(committed, prompt)

    assert lost
    assert_adopted_and_charged_once(provider, beat_until_settled(committed))


def test_a_batch_the_provider_never_made_is_made_by_one_direct_call(provider, committed):
    prompt = PromptFactory(text="a red cube on a blue floor")
    provider.transport.kill_at_create(answered=False)

    submit_killed(committed, prompt)
    batch = beat_until_settled(committed)

    assert provider.batches_made() == 0
    assert (batch.status, batch.given_back) == ("failed", 1)
    assert "no batch under its label" in batch.error
    assert provider.direct_calls() == 1
    (generation,) = Generation.objects.filter(pk__in=batch.generation_ids)
    assert generation.status == Generation.Status.READY
    (call,) = ProviderCall.objects.filter(generation=generation)
    assert (call.batch, call.ok) == (False, True)
    assert call.cost > 0


def test_a_provider_that_cannot_say_keeps_the_requests_until_it_can(provider, committed):
    prompt = PromptFactory(text="a red cube on a blue floor")
    provider.transport.kill_at_create(answered=True)
    submit_killed(committed, prompt)
    submission_aged()
    unavailable = reply({"error": {"code": 503, "message": "The service is unavailable."}}, 503)
    provider.batches.once(provider.list_path, lambda request: unavailable, method="GET")

    committed(services.generation_batches_poll)

    batch = GenerationBatch.objects.get()
    assert batch.status == "submitting"
    assert "HTTP 503" in batch.error
    assert provider.direct_calls() == 0
    assert_adopted_and_charged_once(provider, beat_until_settled(committed))


def test_a_batch_taken_after_its_row_was_given_back_is_cancelled(provider, committed, monkeypatch):
    prompt = PromptFactory(text="a red cube on a blue floor")
    batches = gateway.default_batch_gateway()
    submit = batches.submit

    def slow_submit(offering, requests, *, label):
        # The beat settles this submission while its upload is still under way.
        submission_aged()
        committed(services.generation_batches_poll)
        return submit(offering, requests, label=label)

    monkeypatch.setattr(batches, "submit", slow_submit)
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    (batch,) = GenerationBatch.objects.all()
    assert (batch.status, batch.given_back) == ("failed", 1)
    (orphan,) = provider.batches.batches
    assert provider.batches.cancelled == [orphan]
    assert provider.direct_calls() == 1
