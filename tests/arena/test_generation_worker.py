""" "Generate" through a real Celery worker consuming Redis, as in production."""

import time

import pytest

from arena.catalog.models import AIModel, Generation, ProviderCall
from arena.catalog.services import catalog_sync, prompt_generate
from tests.factories import PromptFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_until_finished(count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished = Generation.objects.filter(
            status__in=[Generation.Status.READY, Generation.Status.FAILED]
        ).count()
        if finished >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"only {finished} of {count} generations finished in {timeout} s")


def test_generate_twice_through_the_worker_makes_each_image_once(worker):
    catalog_sync()
    prompts = [PromptFactory(text=f"A small red house number {i}") for i in range(3)]
    ids = [prompt.pk for prompt in prompts]
    models = AIModel.objects.active().for_arena("t2i").count()

    first = prompt_generate(prompt_ids=ids)
    second = prompt_generate(prompt_ids=ids)  # pressed again while the first run is in flight
    wait_until_finished(len(prompts) * models)
    time.sleep(0.5)  # let any duplicate task that was still queued reach the worker

    assert first == len(prompts) * models
    assert second <= first
    generations = Generation.objects.all()
    assert generations.count() == len(prompts) * models
    assert all(g.status == Generation.Status.READY and g.runs == 1 for g in generations)
    assert ProviderCall.objects.count() == generations.count()
    assert prompt_generate(prompt_ids=ids) == 0


def test_edit_prompts_fan_out_through_the_worker_to_editing_models(worker):
    import io

    from PIL import Image

    from arena.catalog.services import edit_prompt_create

    catalog_sync()
    source = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 60, 200)).save(source, format="PNG")
    prompt, _ = edit_prompt_create(instruction="Make it sepia", source=source.getvalue())
    editors = set(AIModel.objects.active().for_arena("edit").values_list("slug", flat=True))

    queued = prompt_generate(prompt_ids=[prompt.pk])
    wait_until_finished(len(editors))

    assert queued == len(editors) >= 4
    generations = Generation.objects.filter(prompt=prompt)
    assert {g.model.slug for g in generations} == editors
    assert all(g.status == Generation.Status.READY for g in generations)
