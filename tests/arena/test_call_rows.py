"""Every provider call is a row naming its provider. The provider's row is made on first sight,
and its key kept by the process once committed, so a call row costs no lookup; a key made in a
transaction that rolled back, or of a row deleted since, is never named."""

import dataclasses

import pytest
from django.db import transaction
from django.utils import timezone

import gateway
from arena.catalog.models import Provider, ProviderCall
from arena.catalog.services import calls_record
from gateway.normalize import wire_seed
from tests.factories import AIModelFactory, GenerationFactory

# Real commits: what a rolled-back transaction made must not be remembered.
pytestmark = pytest.mark.django_db(transaction=True)


def attempt(model, provider="newcloud"):
    return gateway.Attempt(
        model=model.slug,
        provider=provider,
        provider_model="m-1",
        started_at=timezone.now(),
        ok=True,
        total_ms=5,
    )


def test_a_provider_first_seen_in_a_transaction_that_rolled_back_is_made_again():
    model = AIModelFactory()
    with transaction.atomic():
        calls_record(operation=gateway.Operation.GENERATE, attempts=[attempt(model)], model=model)
        transaction.set_rollback(True)

    (call,) = calls_record(
        operation=gateway.Operation.GENERATE, attempts=[attempt(model)], model=model
    )

    assert Provider.objects.filter(slug="newcloud").count() == 1
    assert ProviderCall.objects.get().provider_id == call.provider_id


def test_a_provider_deleted_unused_is_made_again():
    model = AIModelFactory()
    calls_record(operation=gateway.Operation.GENERATE, attempts=[attempt(model)], model=model)
    ProviderCall.objects.all().delete()
    Provider.objects.filter(slug="newcloud").delete()

    calls_record(operation=gateway.Operation.GENERATE, attempts=[attempt(model)], model=model)

    provider = Provider.objects.get(slug="newcloud")
    assert ProviderCall.objects.get().provider_id == provider.pk


def test_calls_of_a_known_provider_take_one_statement(django_assert_num_queries):
    model = AIModelFactory()
    calls_record(operation=gateway.Operation.GENERATE, attempts=[attempt(model)], model=model)

    with django_assert_num_queries(1):
        calls_record(
            operation=gateway.Operation.GENERATE,
            attempts=[attempt(model), attempt(model)],
            model=model,
        )

    assert ProviderCall.objects.count() == 3


def test_a_call_row_keeps_what_the_provider_told_of_its_images():
    model = AIModelFactory()
    told = dataclasses.replace(
        attempt(model),
        seeds=(1234567,),
        revised_prompts=("A red cube on a blue table, studio light",),
        safety=("HARM_CATEGORY_DANGEROUS_CONTENT: MEDIUM",),
    )

    (call,) = calls_record(operation=gateway.Operation.GENERATE, attempts=[told], model=model)

    call.refresh_from_db()
    assert (call.seed, call.revised_prompt, call.safety_flags) == (
        1234567,
        "A red cube on a blue table, studio light",
        ["HARM_CATEGORY_DANGEROUS_CONTENT: MEDIUM"],
    )


def test_a_generations_secret_seed_echoed_by_its_provider_is_not_kept():
    generation = GenerationFactory()
    echoed = dataclasses.replace(attempt(generation.model), seeds=(wire_seed(generation.seed),))

    calls_record(operation=gateway.Operation.GENERATE, attempts=[echoed], generation=generation)

    assert ProviderCall.objects.get().seed is None
