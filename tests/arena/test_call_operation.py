"""Every provider call row says what the gateway was asked to do: make images from text, or
edit a source image. Arena generations of editing prompts, API edits and playground edits are
edits; the calls stored before the field existed are labelled where that can be known."""

import io

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

import gateway
from arena.catalog.models import ProviderCall
from arena.catalog.services import (
    calls_record,
    catalog_sync,
    edit_prompt_create,
    generation_execute,
    generations_plan,
)
from tests.factories import AIModelFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db

EDIT, GENERATE = gateway.Operation.EDIT, gateway.Operation.GENERATE


@pytest.fixture(autouse=True)
def small_images(settings):
    settings.ARENA_IMAGE_SIZE = 256
    settings.ARENA_THUMBNAIL_SIZE = 64


def operations(**filters) -> set[str]:
    return set(ProviderCall.objects.filter(**filters).values_list("operation", flat=True))


def upload(data: bytes) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = "source.png"
    return file


@pytest.mark.parametrize("operation", [GENERATE, EDIT])
def test_a_call_row_keeps_the_operation_it_was_made_for(operation):
    model = AIModelFactory(can_edit=True)
    attempt = gateway.Attempt(
        model=model.slug,
        provider="cloud",
        provider_model="m-1",
        started_at=timezone.now(),
        ok=True,
        total_ms=5,
    )

    (call,) = calls_record(attempts=[attempt], operation=operation, model=model)

    call.refresh_from_db()
    assert call.operation == operation


def test_arena_generations_of_editing_prompts_are_edits_and_of_text_prompts_generations():
    catalog_sync()
    text_prompt = PromptFactory(text="Three yellow apples on a wooden table")
    edit_prompt, _ = edit_prompt_create(instruction="Make it black and white", source=png_bytes())

    for pk in generations_plan(prompt_ids=[text_prompt.pk, edit_prompt.pk]):
        generation_execute(generation_id=pk)

    assert operations(generation__prompt=text_prompt) == {"generate"}
    assert operations(generation__prompt=edit_prompt) == {"edit"}


def test_api_edits_are_edits_and_api_generations_generations(key):
    auth = {"Authorization": f"Bearer {key}"}
    generated = Client().post(
        "/openai/v1/images/generations",
        {"model": "lumen-xl", "prompt": "A red ball"},
        content_type="application/json",
        headers=auth,
    )
    edited = Client().post(
        "/openai/v1/images/edits",
        {"model": "lumen-xl", "prompt": "Make it sepia", "image": upload(png_bytes())},
        headers=auth,
    )

    assert (generated.status_code, edited.status_code) == (200, 200), edited.content
    calls = ProviderCall.objects.filter(source="api").order_by("started_at")
    assert [call.operation for call in calls] == ["generate", "edit"]


def test_playground_edits_are_edits():
    catalog_sync()

    response = Client().post(
        "/playground/",
        {
            "operation": "edit",
            "model": "lumen-xl",
            "prompt": "Make it sepia",
            "size": "1024x1024",
            "n": "1",
            "image": upload(png_bytes(size=(200, 200))),
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert operations(source="playground") == {"edit"}


@pytest.mark.django_db(transaction=True)
def test_the_migration_labels_the_calls_known_to_be_edits():
    before, after = [("catalog", "0012_batch_label")], [("catalog", "0013_call_operation")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    AIModel, Provider = old.get_model("catalog", "AIModel"), old.get_model("catalog", "Provider")
    Prompt, Generation = old.get_model("catalog", "Prompt"), old.get_model("catalog", "Generation")
    Call = old.get_model("catalog", "ProviderCall")
    both = AIModel.objects.create(slug="both", name="Both", can_generate=True, can_edit=True)
    editor = AIModel.objects.create(
        slug="editor", name="Editor", can_generate=False, can_edit=True
    )
    cloud = Provider.objects.create(slug="cloud", name="Cloud")

    def call(model, *, generation=None, source="arena"):
        return Call.objects.create(
            model=model, provider=cloud, generation=generation, source=source,
            provider_model="m", started_at=timezone.now(), ok=True, total_ms=1_000.0,
        ).pk  # fmt: skip

    def generation_of(arena):
        prompt = Prompt.objects.create(arena=arena, text=arena, fingerprint=arena)
        return Generation.objects.create(prompt=prompt, model=both)

    labelled = {
        call(both, generation=generation_of("edit")): "edit",
        call(both, generation=generation_of("t2i")): "generate",
        call(editor, source="api"): "edit",  # it can do nothing else
        call(both, source="api"): "generate",  # nothing says which: assumed
    }

    try:
        MigrationExecutor(connection).migrate(after)

        assert dict(ProviderCall.objects.values_list("pk", "operation")) == labelled
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
