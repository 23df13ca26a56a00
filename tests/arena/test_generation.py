"""Fan-out and generation: one image per prompt x model, every attempt recorded, no double work."""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

import gateway
from arena.catalog.images import arena_renditions
from arena.catalog.models import AIModel, Arena, Generation, Prompt, Provider, ProviderCall
from arena.catalog.services import (
    catalog_sync,
    generation_execute,
    generations_requeue_stale,
    generations_retry,
    prompt_generate,
)
from tests.arena.helpers import use_local_gateway
from tests.factories import PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_images(settings):
    settings.ARENA_IMAGE_SIZE = 256
    settings.ARENA_THUMBNAIL_SIZE = 64


@pytest.fixture
def models() -> list[AIModel]:
    return catalog_sync()


def t2i_models() -> set[str]:
    return set(AIModel.objects.active().for_arena(Arena.T2I).values_list("slug", flat=True))


def test_generate_makes_one_ready_image_per_active_model(models, committed):
    prompt = PromptFactory(text="Three yellow apples on a wooden table")

    queued = committed(prompt_generate, prompt_ids=[prompt.pk])

    generations = Generation.objects.filter(prompt=prompt).select_related("model")
    assert queued == len(t2i_models()) >= 6
    assert {g.model.slug for g in generations} == t2i_models()
    assert all(g.status == Generation.Status.READY for g in generations)
    for generation in generations:
        with default_storage.open(generation.image.name) as handle:
            assert Image.open(handle).size == (256, 256)


def test_providers_get_the_names_the_gateway_catalog_gives_them(models):
    names = dict(Provider.objects.values_list("slug", "name"))

    assert names["local"] == "Built-in (local)"
    assert names["fal"] == "fal.ai"


def test_every_attempt_is_recorded_with_its_cost(models, committed):
    prompt = PromptFactory()

    committed(prompt_generate, prompt_ids=[prompt.pk])

    calls = ProviderCall.objects.filter(generation__prompt=prompt).select_related("model")
    assert calls.count() == len(t2i_models())
    for call in calls:
        offering = call.model.offerings.get()
        assert call.ok
        assert call.images == 1
        assert call.cost == offering.price_per_image
        assert call.total_ms >= 0
        assert call.provider_id == offering.provider_id


def test_generating_twice_never_repeats_or_repays_work(models, committed):
    prompt = PromptFactory()
    committed(prompt_generate, prompt_ids=[prompt.pk])
    images = dict(Generation.objects.values_list("pk", "image"))

    assert committed(prompt_generate, prompt_ids=[prompt.pk]) == 0

    assert dict(Generation.objects.values_list("pk", "image")) == images
    assert ProviderCall.objects.count() == len(images)


def test_a_failing_model_records_a_failed_generation_and_the_failed_call(models, committed):
    use_local_gateway(fail_rates={"palette": 1.0})
    prompt = PromptFactory()

    committed(prompt_generate, prompt_ids=[prompt.pk])

    failed = Generation.objects.get(prompt=prompt, model__slug="palette")
    assert failed.status == Generation.Status.FAILED
    assert "palette failed" in failed.error
    assert not failed.image
    call = ProviderCall.objects.get(generation=failed)
    assert not call.ok
    assert call.error_kind == "model_failure"
    assert call.cost == 0
    others = Generation.objects.filter(prompt=prompt).exclude(pk=failed.pk)
    assert all(g.status == Generation.Status.READY for g in others)


def test_retry_runs_only_failed_generations_again(models, committed):
    use_local_gateway(fail_rates={"palette": 1.0})
    prompt = PromptFactory()
    committed(prompt_generate, prompt_ids=[prompt.pk])
    use_local_gateway()
    ready_before = set(Generation.objects.ready().values_list("pk", flat=True))

    retried = committed(
        generations_retry, generation_ids=Generation.objects.values_list("pk", flat=True)
    )

    assert retried == 1
    assert Generation.objects.get(model__slug="palette").status == Generation.Status.READY
    assert ProviderCall.objects.filter(generation__model__slug="palette").count() == 2
    assert ProviderCall.objects.exclude(generation__model__slug="palette").count() == len(
        ready_before
    )


def test_a_generation_running_elsewhere_is_not_claimed_twice(models):
    prompt = PromptFactory()
    generation = Generation.objects.create(
        prompt=prompt,
        model=AIModel.objects.get(slug="lumen-xl"),
        status=Generation.Status.RUNNING,
        started_at=timezone.now(),
    )

    assert generation_execute(generation_id=generation.pk) is None
    assert not ProviderCall.objects.exists()


def test_a_generation_whose_worker_died_is_claimed_after_its_lease(models, settings):
    prompt = PromptFactory()
    generation = Generation.objects.create(
        prompt=prompt,
        model=AIModel.objects.get(slug="lumen-xl"),
        status=Generation.Status.RUNNING,
        started_at=timezone.now() - timedelta(seconds=settings.ARENA_GENERATION_LEASE_SECONDS + 1),
        leased_until=timezone.now() - timedelta(seconds=1),
        runs=1,
    )

    finished = generation_execute(generation_id=generation.pk)

    assert finished.status == Generation.Status.READY
    assert finished.runs == 2


def test_an_image_is_stored_as_its_fields_name_it_with_the_bytes_of_its_renditions(
    models, settings
):
    settings.ARENA_IMAGE_PAD_BYTES = 4096
    returned = []
    router = gateway.default_gateway()
    original = router.generate
    router.generate = lambda request, **jobs: returned.append(original(request)) or returned[-1]
    generation = Generation.objects.create(
        prompt=PromptFactory(), model=AIModel.objects.get(slug="lumen-xl")
    )

    finished = generation_execute(generation_id=generation.pk)

    renditions = arena_renditions(
        returned[0].images[0], size=256, thumbnail_size=64, pad_step=4096
    )
    image_name = re.fullmatch(r"generations/([0-9a-f]{32})\.png", finished.image.name)
    thumbnail_name = re.fullmatch(r"generations/([0-9a-f]{32})\.webp", finished.thumbnail.name)
    assert image_name
    assert thumbnail_name
    assert image_name[1] != thumbnail_name[1]  # neither name leads to the other
    with finished.image.open("rb") as image, finished.thumbnail.open("rb") as thumbnail:
        assert (image.read(), thumbnail.read()) == (renditions.image, renditions.thumbnail)
    assert len(renditions.image) % 4096 == 0


def test_a_generation_taken_over_meanwhile_keeps_no_files_of_this_worker(models, media_root):
    generation = Generation.objects.create(
        prompt=PromptFactory(), model=AIModel.objects.get(slug="lumen-xl")
    )
    router = gateway.default_gateway()
    original = router.generate

    def slow_call_outlives_the_lease(request, **jobs):
        later = timezone.now() + timedelta(seconds=1)
        Generation.objects.filter(pk=generation.pk).update(started_at=later)
        return original(request, **jobs)

    router.generate = slow_call_outlives_the_lease

    assert generation_execute(generation_id=generation.pk) is None

    assert not [path for path in media_root.rglob("*") if path.is_file()]
    assert Generation.objects.get(pk=generation.pk).image == ""


def test_stale_generations_are_sent_again_and_live_ones_left_alone(models, committed):
    prompt = PromptFactory()
    now = timezone.now()
    slugs = iter(AIModel.objects.order_by("slug"))

    def generation(status: str, **fields) -> Generation:
        return Generation.objects.create(prompt=prompt, model=next(slugs), status=status, **fields)

    lost_task = generation("queued", leased_until=now - timedelta(seconds=1))
    dead_worker = generation("running", started_at=now, leased_until=now - timedelta(seconds=1))
    waiting_task = generation("queued", leased_until=now + timedelta(minutes=5))
    live_worker = generation("running", started_at=now, leased_until=now + timedelta(seconds=30))

    assert committed(generations_requeue_stale) == 2

    statuses = {g: Generation.objects.get(pk=g.pk).status for g in [lost_task, dead_worker]}
    assert statuses == {lost_task: "ready", dead_worker: "ready"}
    assert Generation.objects.get(pk=waiting_task.pk).status == Generation.Status.QUEUED
    assert Generation.objects.get(pk=live_worker.pk).status == Generation.Status.RUNNING


def test_retired_and_unroutable_models_are_not_generated(models, committed):
    AIModel.objects.filter(slug="daydream").update(active=False)
    AIModel.objects.create(slug="not-in-catalog", name="Ghost", organization="Nobody")
    prompt = PromptFactory()

    committed(prompt_generate, prompt_ids=[prompt.pk])

    slugs = set(Generation.objects.values_list("model__slug", flat=True))
    assert "daydream" not in slugs
    assert "not-in-catalog" not in slugs


def test_retired_prompts_are_not_generated(models, committed):
    prompt = PromptFactory(active=False)

    assert committed(prompt_generate, prompt_ids=[prompt.pk]) == 0
    assert not Generation.objects.exists()


def test_edit_prompts_only_go_to_models_that_can_edit(models, committed):
    from arena.catalog.services import edit_prompt_create

    source = io.BytesIO()
    Image.new("RGB", (300, 200), (40, 90, 200)).save(source, format="PNG")
    prompt, _ = edit_prompt_create(
        instruction="Convert to black and white", source=source.getvalue()
    )

    committed(prompt_generate, prompt_ids=[prompt.pk])

    slugs = set(Generation.objects.filter(prompt=prompt).values_list("model__slug", flat=True))
    assert slugs == set(
        AIModel.objects.active().filter(can_edit=True).values_list("slug", flat=True)
    )
    assert "daydream" not in slugs
    assert Prompt.objects.get(pk=prompt.pk).arena == Arena.EDIT


def test_each_rendition_is_its_own_image_from_its_own_secret_seed(models, committed, settings):
    settings.ARENA_RENDITIONS = 3
    sent = []
    router = gateway.default_gateway()
    original = router.generate
    router.generate = lambda request, **jobs: sent.append(request) or original(request, **jobs)
    prompt = PromptFactory(text="A red sphere beside a blue cube")

    committed(prompt_generate, prompt_ids=[prompt.pk])

    made = Generation.objects.filter(prompt=prompt, model__slug="lumen-xl").order_by("rendition")
    assert [g.rendition for g in made] == [0, 1, 2]
    assert all(g.status == Generation.Status.READY for g in made)
    assert len({g.seed for g in made}) == 3
    lumen_seeds = {r.seed for r in sent if r.model == "lumen-xl"}
    assert lumen_seeds == {g.seed for g in made}  # each call carried its generation's seed
    total = Generation.objects.filter(prompt=prompt).count()
    assert total == 3 * AIModel.objects.active().for_arena("t2i").count()
    committed(prompt_generate, prompt_ids=[prompt.pk])  # pressing Generate again adds nothing
    assert Generation.objects.filter(prompt=prompt).count() == total
