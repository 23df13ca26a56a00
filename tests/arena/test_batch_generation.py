"""Batch pre-generation: "Generate (batch)" sends the queued generations of models sold in
batches to their provider's batch API; beat polls the batch, stores each image once at the
batch price, and gives what the batch failed back to direct calls."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

import gateway
from arena.catalog import services
from arena.catalog.models import Competition, Generation, GenerationBatch, ProviderCall
from arena.catalog.services import (
    catalog_sync,
    generation_execute,
    generations_batch_submit,
    generations_requeue_stale,
)
from arena.catalog.tasks import generation_batches_poll_run
from gateway.batch import BatchGateway, BatchState
from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline
from gateway.normalize import ParamTable
from gateway.providers.batchbase import LineOutcome, ProviderPoll
from gateway.providers.local import LocalProvider
from tests.arena.helpers import WorkerKilled, local_catalog, submission_aged
from tests.factories import PromptFactory
from tests.gateway.fakes import IMAGE

pytestmark = pytest.mark.django_db

# Two of the built-in models are sold in batches here; the others are made directly.
BATCH_PRICES = {"lumen-xl": Decimal("0.020"), "prism-2": Decimal("0.0125")}


class ScriptedBatches:
    """An in-process batch API for the `local` provider: every batch ends in `state` after
    `polls_to_end` polls; a line whose prompt is in `failing` ends with that error."""

    name = "local"
    params: ClassVar[ParamTable] = LocalProvider.params
    extra_params: ClassVar[frozenset[str]] = LocalProvider.extra_params

    def __init__(self) -> None:
        self.state = BatchState.COMPLETED
        self.polls_to_end = 1
        self.failing: dict[str, gateway.ErrorKind] = {}
        self.submitted: dict[str, dict[str, gateway.ImageRequest]] = {}
        self.labels: dict[str, str] = {}
        self.cancelled: list[str] = []
        self.polls: dict[str, int] = {}
        self.ids = itertools.count(1)

    def configured(self) -> bool:
        return True

    def submit(
        self,
        offering: OfferingSpec,
        requests: Mapping[str, gateway.ImageRequest],
        *,
        label: str,
        deadline: Deadline,
    ) -> str:
        batch_id = f"batch-{next(self.ids)}"
        self.submitted[batch_id] = dict(requests)
        self.labels[batch_id] = label
        return batch_id

    def find(
        self, offering: OfferingSpec, label: str, *, since: datetime, deadline: Deadline
    ) -> str | None:
        return next((key for key, value in self.labels.items() if value == label), None)

    def cancel(self, offering: OfferingSpec, batch_id: str, *, deadline: Deadline) -> None:
        self.cancelled.append(batch_id)

    def poll(
        self, offering: OfferingSpec, batch_id: str, keys: Sequence[str], *, deadline: Deadline
    ) -> ProviderPoll:
        self.polls[batch_id] = self.polls.get(batch_id, 0) + 1
        if self.polls[batch_id] < self.polls_to_end:
            return ProviderPoll(state=BatchState.RUNNING)
        if self.state is not BatchState.COMPLETED:
            return ProviderPoll(state=self.state, error=f"The batch {self.state}.")
        lines = {}
        for key, request in self.submitted[batch_id].items():
            kind = self.failing.get(request.prompt)
            error = ProviderError(kind, f"scripted {kind}") if kind else None
            lines[key] = LineOutcome(images=[] if error else [IMAGE], error=error)
        return ProviderPoll(state=BatchState.COMPLETED, lines=lines)


@pytest.fixture(autouse=True)
def small_images(settings):
    settings.ARENA_IMAGE_SIZE = 128
    settings.ARENA_THUMBNAIL_SIZE = 32


@pytest.fixture
def provider() -> ScriptedBatches:
    catalog = local_catalog()
    models = {
        model_id: replace(
            spec,
            offerings=tuple(
                replace(offering, batch_price=BATCH_PRICES.get(model_id))
                for offering in spec.offerings
            ),
        )
        for model_id, spec in catalog.models.items()
    }
    scripted = ScriptedBatches()
    batches = BatchGateway(catalog=replace(catalog, models=models), clients={"local": scripted})
    gateway.set_default_batch_gateway(batches)
    catalog_sync()
    yield scripted
    gateway.set_default_batch_gateway(None)
    batches.close()


def batched(prompt) -> list[Generation]:
    return list(
        Generation.objects.filter(prompt=prompt, model__slug__in=BATCH_PRICES)
        .select_related("model")
        .order_by("model__slug")
    )


def test_generate_batch_in_the_admin_holds_batch_work_and_makes_the_rest_directly(
    provider, django_capture_on_commit_callbacks
):
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("curator", "c@x.org", "pw"))
    prompt = PromptFactory(text="a red cube on a blue floor")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/catalog/prompt/",
            {"action": "generate_batch", "_selected_action": [str(prompt.pk)]},
            follow=True,
        )

    assert "Sent 2 generations in 2 provider batches" in response.content.decode()
    assert "queued 4 for direct calls" in response.content.decode()
    held = batched(prompt)
    assert [g.status for g in held] == [Generation.Status.QUEUED] * 2
    assert all(g.batch is not None for g in held)
    others = Generation.objects.filter(prompt=prompt).exclude(model__slug__in=BATCH_PRICES)
    assert {g.status for g in others} == {Generation.Status.READY}
    sent = [request for batch in provider.submitted.values() for request in batch.values()]
    assert {request.prompt for request in sent} == {prompt.text}
    assert {request.seed for request in sent} == {g.seed for g in held}
    listing = staff.get("/admin/catalog/generationbatch/")
    assert listing.status_code == 200
    assert "lumen-xl" in listing.content.decode() or "Lumen XL" in listing.content.decode()
    batch = GenerationBatch.objects.first()
    page = staff.get(f"/admin/catalog/generationbatch/{batch.pk}/change/")
    assert page.status_code == 200
    assert str(batch.label) in page.content.decode()
    assert set(provider.labels.values()) == {
        str(label) for label in GenerationBatch.objects.values_list("label", flat=True)
    }


def test_a_poll_stores_each_image_once_with_its_call_at_the_batch_price(provider, committed):
    prompt = PromptFactory()
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    with_beat = [generation_batches_poll_run, generation_batches_poll_run]
    for poll in with_beat:
        poll()

    for generation in batched(prompt):
        assert generation.status == Generation.Status.READY
        assert generation.batch is None
        assert generation.image
        calls = list(ProviderCall.objects.filter(generation=generation))
        assert len(calls) == 1
        assert calls[0].batch
        assert calls[0].ok
        assert calls[0].cost == BATCH_PRICES[generation.model.slug]
    assert sorted(provider.polls.values()) == [1, 1]  # an ended batch is not asked again
    assert set(GenerationBatch.objects.values_list("status", "made")) == {("completed", 1)}


def test_a_running_batch_keeps_its_generations_from_direct_calls(provider, committed):
    provider.polls_to_end = 3
    prompt = PromptFactory()
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    generation_batches_poll_run()
    Generation.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # all ran out
    requeued = generations_requeue_stale()

    held = batched(prompt)
    assert requeued == 0
    assert [generation_execute(generation_id=g.pk) for g in held] == [None, None]
    assert [g.status for g in held] == [Generation.Status.QUEUED] * 2
    assert not ProviderCall.objects.filter(generation__in=held).exists()
    assert set(GenerationBatch.objects.values_list("status", flat=True)) == {"running"}


def test_pressing_generate_batch_twice_sends_nothing_twice(provider, committed):
    prompt = PromptFactory()
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    again = committed(generations_batch_submit, prompt_ids=[prompt.pk])

    assert again.batched == 0
    assert again.direct == 0
    assert len(provider.submitted) == 2


def test_a_line_the_batch_failed_is_made_by_a_direct_call(provider, committed):
    prompt = PromptFactory(text="the line that fails")
    provider.failing = {prompt.text: gateway.ErrorKind.SERVER_ERROR}
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    committed(services.generation_batches_poll)

    for generation in batched(prompt):
        assert generation.status == Generation.Status.READY
        calls = ProviderCall.objects.filter(generation=generation).order_by("batch")
        direct, in_batch = calls
        assert (in_batch.batch, in_batch.ok, in_batch.cost) == (True, False, Decimal(0))
        assert in_batch.error_kind == "server_error"
        assert (direct.batch, direct.ok) == (False, True)
        assert direct.cost > BATCH_PRICES[generation.model.slug]
    assert set(GenerationBatch.objects.values_list("made", "given_back")) == {(0, 1)}


def test_an_expired_batch_gives_every_request_back_to_direct_calls(provider, committed):
    provider.state = BatchState.EXPIRED
    prompt = PromptFactory()
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    committed(services.generation_batches_poll)

    assert {g.status for g in batched(prompt)} == {Generation.Status.READY}
    assert set(GenerationBatch.objects.values_list("status", "given_back")) == {("expired", 1)}
    failed = ProviderCall.objects.filter(batch=True)
    assert [call.error_kind for call in failed] == ["timeout", "timeout"]


def test_a_refusal_in_a_batch_stands_and_is_not_paid_for_again(provider, committed):
    prompt = PromptFactory(text="the refused one")
    provider.failing = {prompt.text: gateway.ErrorKind.CONTENT_POLICY}
    committed(generations_batch_submit, prompt_ids=[prompt.pk])

    committed(services.generation_batches_poll)

    assert {g.status for g in batched(prompt)} == {Generation.Status.FAILED}
    assert (
        ProviderCall.objects.filter(batch=False).filter(generation__in=batched(prompt)).count()
        == 0
    )
    reliability = Generation.objects.filter(model__slug__in=BATCH_PRICES).reliability()
    assert {row.refused for row in reliability} == {1}


def test_a_worker_killed_mid_store_never_stores_or_charges_twice(provider, committed, monkeypatch):
    prompts = [PromptFactory(), PromptFactory()]
    committed(generations_batch_submit, prompt_ids=[prompt.pk for prompt in prompts])
    store = services._batch_line_store
    stored = []

    def dies_after_one(batch, line):
        if stored:
            raise SystemExit("worker killed")
        store(batch, line)
        stored.append(line.key)

    monkeypatch.setattr(services, "_batch_line_store", dies_after_one)
    with pytest.raises(SystemExit):
        generation_batches_poll_run()
    monkeypatch.setattr(services, "_batch_line_store", store)
    generation_batches_poll_run()
    generation_batches_poll_run()

    assert len(stored) == 1
    generations = [g for prompt in prompts for g in batched(prompt)]
    assert len(generations) == 4
    for generation in generations:
        assert generation.status == Generation.Status.READY
        assert ProviderCall.objects.filter(generation=generation).count() == 1
    assert sum(GenerationBatch.objects.values_list("made", flat=True)) == 4


def test_a_competitions_prompts_go_to_the_batch_apis_from_its_admin_page(
    provider, django_capture_on_commit_callbacks
):
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("curator", "c@x.org", "pw"))
    inside = [PromptFactory(text=f"a cube number {n}") for n in range(2)]
    PromptFactory(text="not in the competition")
    cup = Competition.objects.create(arena="t2i", name="Cube Cup", slug="cube-cup")
    cup.prompts.set(inside)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/catalog/competition/",
            {"action": "generate_batch", "_selected_action": [str(cup.pk)]},
            follow=True,
        )

    assert "Sent 4 generations in 2 provider batches" in response.content.decode()
    sent = [request for batch in provider.submitted.values() for request in batch.values()]
    assert {request.prompt for request in sent} == {prompt.text for prompt in inside}


# Real commits: the failure is the database's, after the provider took the batch.
@pytest.mark.django_db(transaction=True)
def test_a_failure_between_the_upload_and_recording_it_leaves_a_batch_the_beat_resumes(
    provider, committed
):
    provider.polls_to_end = 1
    prompt = PromptFactory()
    lost = []

    def commit_fails_once_the_provider_took_it(execute, sql, params, many, context):
        writes_batch = sql.startswith(("INSERT", "UPDATE")) and "catalog_generationbatch" in sql
        if provider.submitted and writes_batch and not lost:
            lost.append(sql)
            raise DatabaseError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(commit_fails_once_the_provider_took_it),
        pytest.raises(DatabaseError),
    ):
        committed(generations_batch_submit, prompt_ids=[prompt.pk])
    (paid,) = provider.submitted
    (batch,) = GenerationBatch.objects.all()
    held = list(batch.held.all())
    assert (batch.status, batch.provider_batch_id, len(held)) == ("submitting", "", 1)

    committed(services.generation_batches_poll)  # the submission may still be under way
    assert GenerationBatch.objects.get().status == "submitting"
    submission_aged()
    committed(services.generation_batches_poll)

    batch.refresh_from_db()
    assert (batch.status, batch.provider_batch_id, batch.made) == ("completed", paid, 1)
    assert len(provider.submitted) == 1  # resumed, not paid for again
    (generation,) = held
    generation.refresh_from_db()
    assert generation.status == Generation.Status.READY
    (call,) = ProviderCall.objects.filter(generation=generation)
    assert (call.batch, call.cost) == (True, BATCH_PRICES[generation.model.slug])


def test_a_submission_that_never_heard_back_gives_its_requests_to_direct_calls(
    provider, committed, monkeypatch
):
    prompt = PromptFactory()

    def killed(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(provider, "submit", killed)
    with pytest.raises(WorkerKilled):
        committed(generations_batch_submit, prompt_ids=[prompt.pk])
    submission_aged()
    committed(services.generation_batches_poll)

    (batch,) = GenerationBatch.objects.all()
    assert (batch.status, batch.given_back) == ("failed", 1)
    assert "given back to direct calls" in batch.error
    (generation,) = Generation.objects.filter(pk__in=batch.generation_ids)
    assert generation.status == Generation.Status.READY
    assert not ProviderCall.objects.filter(generation=generation, batch=True).exists()


def test_a_batch_the_provider_refuses_leaves_its_requests_to_direct_calls(
    provider, committed, monkeypatch
):
    prompt = PromptFactory()

    def refused(*args, **kwargs):
        raise ProviderError(gateway.ErrorKind.INVALID_REQUEST, "The input file is invalid.")

    monkeypatch.setattr(provider, "submit", refused)
    report = committed(generations_batch_submit, prompt_ids=[prompt.pk])

    assert (report.batched, len(report.errors)) == (0, 2)
    assert set(GenerationBatch.objects.values_list("status", "given_back")) == {("failed", 1)}
    assert {g.status for g in batched(prompt)} == {Generation.Status.READY}
