"""Failures and refusals: a model whose image failed or was refused for a prompt sits that prompt
out; each model's failure and refusal rates per arena are on the leaderboard, on its page and
in the open data, counted once from the Generation and ProviderCall rows."""

import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

import gateway
from arena.battles.services import battle_create
from arena.catalog.models import AIModel, Arena, Generation, Provider, ProviderCall, Reliability
from arena.catalog.services import catalog_sync, generations_retry, prompt_generate
from arena.ratings.services import votes_publish
from gateway.errors import ProviderError
from gateway.providers.local import LocalProvider
from tests.arena.helpers import local_catalog
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db

FLAKY, PRUDE = "palette", "lumen-xl"  # fails half its generations; refuses "storm" prompts
STEADY = "blockworld"


class PrudeProvider(LocalProvider):
    """The built-in models, except that PRUDE refuses every prompt that mentions a storm."""

    def call(self, offering, request, operation, *, deadline=None):
        if offering.model == PRUDE and "storm" in request.prompt:
            raise ProviderError(
                gateway.ErrorKind.CONTENT_POLICY, f"{PRUDE} refused the prompt (policy)."
            )
        return super().call(offering, request, operation, deadline=deadline)


def cloud() -> Provider:
    return Provider.objects.get_or_create(slug="cloud", defaults={"name": "Cloud"})[0]


@pytest.fixture
def unreliable(settings, django_capture_on_commit_callbacks):
    """Forty text-to-image prompts drawn by three built-in models through the real generation
    path: FLAKY fails about half of its images, PRUDE refuses the ten storm prompts, STEADY
    draws them all."""
    settings.ARENA_IMAGE_SIZE = 64
    settings.ARENA_THUMBNAIL_SIZE = 32
    gateway.set_default_gateway(
        gateway.Gateway(
            catalog=local_catalog({FLAKY: 0.5}),
            providers={"local": PrudeProvider(latency_scale=0)},
            router=gateway.Router(gateway.MemoryWindow()),
        )
    )
    catalog_sync()
    AIModel.objects.exclude(slug__in=[FLAKY, PRUDE, STEADY]).update(active=False)
    prompts = [
        PromptFactory(text=f"A {'storm over a' if i % 4 == 0 else 'red'} house, number {i}")
        for i in range(40)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])
    return prompts


def test_a_failed_or_refused_image_is_never_shown_and_battles_pair_two_ready_images(
    unreliable,
):
    generations = Generation.objects.filter(prompt__in=unreliable)
    failed = set(
        generations.filter(status=Generation.Status.FAILED).values_list("prompt_id", "model__slug")
    )
    flaky_failed = {prompt for prompt, slug in failed if slug == FLAKY}
    assert 5 < len(flaky_failed) < 35  # about half of 40
    assert {prompt for prompt, slug in failed if slug == PRUDE} == {
        prompt.pk for prompt in unreliable if "storm" in prompt.text
    }

    shown = set()
    for i in range(250):
        battle = battle_create(arena="t2i", session_key=f"visitor-{i % 25}")
        for generation in (battle.left, battle.right):
            generation.refresh_from_db()
            assert generation.status == Generation.Status.READY
            assert generation.image
            assert default_storage.exists(generation.image.name)
            assert (battle.prompt_id, generation.model.slug) not in failed
            shown.add((battle.prompt_id, generation.model.slug))

    # The flaky and the refusing model still compete, on the prompts they did draw.
    assert {slug for _, slug in shown} == {FLAKY, PRUDE, STEADY}


def test_rates_count_each_generation_once_by_how_it_ended(unreliable):
    rows = {row.slug: row for row in Generation.objects.reliability()}

    flaky, prude = rows[FLAKY], rows[PRUDE]
    assert flaky.ended == prude.ended == 40
    assert flaky.failed == Generation.objects.filter(model__slug=FLAKY, status="failed").count()
    assert flaky.refused == 0
    assert flaky.calls == 40
    assert flaky.failed_calls == flaky.failed
    assert (prude.failed, prude.refused, prude.ready) == (0, 10, 30)
    assert prude.refusal_rate == 0.25
    assert prude.failure_rate == 0.0
    assert all(row.arena == Arena.T2I for row in rows.values())
    assert (rows[STEADY].ready, rows[STEADY].failed, rows[STEADY].refused) == (40, 0, 0)
    assert set(rows) == {FLAKY, PRUDE, STEADY}


def test_a_refusal_retried_into_an_image_counts_as_made(
    unreliable, django_capture_on_commit_callbacks
):
    gateway.set_default_gateway(
        gateway.Gateway(
            catalog=local_catalog(),
            providers={"local": LocalProvider(latency_scale=0)},
            router=gateway.Router(gateway.MemoryWindow()),
        )
    )
    refused = Generation.objects.filter(model__slug=PRUDE, status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        generations_retry(generation_ids=list(refused.values_list("pk", flat=True)))

    prude = next(row for row in Generation.objects.reliability() if row.slug == PRUDE)

    assert (prude.ready, prude.refused, prude.failed) == (40, 0, 0)
    assert (prude.calls, prude.failed_calls) == (50, 10)  # the refused calls still happened


def test_queued_generations_and_calls_of_the_api_are_not_counted():
    model = AIModelFactory(slug="solo")
    prompt = PromptFactory()
    GenerationFactory(prompt=prompt, model=model)
    GenerationFactory(prompt=PromptFactory(), model=model, status=Generation.Status.QUEUED)
    now = timezone.now()
    provider = cloud()
    ProviderCall.objects.create(
        model=model, provider=provider, provider_model="x", source="api", started_at=now,
        ok=False, error_kind="content_policy", total_ms=5,
    )  # fmt: skip

    (row,) = Generation.objects.reliability()

    assert (row.ended, row.ready, row.failed, row.refused, row.calls) == (1, 1, 0, 0, 0)


def test_an_old_refusal_before_the_last_run_does_not_make_a_later_failure_a_refusal():
    model = AIModelFactory(slug="solo")
    started = timezone.now()
    generation = GenerationFactory(
        model=model, status=Generation.Status.FAILED, started_at=started, image="", thumbnail=""
    )
    provider = cloud()
    for kind, when in (("content_policy", started - timedelta(hours=1)), ("timeout", started)):
        ProviderCall.objects.create(
            generation=generation, model=model, provider=provider, provider_model="x",
            started_at=when, ok=False, error_kind=kind, total_ms=5,
        )  # fmt: skip

    (row,) = Generation.objects.reliability()

    assert (row.failed, row.refused, row.calls, row.failed_calls) == (1, 0, 2, 2)


def test_the_leaderboard_shows_each_models_rates_for_its_arena(unreliable):
    page = Client().get("/leaderboard/t2i/").content.decode()

    section = page.split('id="failures-t2i"', 1)[1].split("</section>", 1)[0]
    prude = section.split('href="/models/lumen-xl/"', 1)[1].split("</tr>", 1)[0]
    assert "40" in prude
    assert '0.0% <span class="muted count">(0)</span>' in prude
    assert '25.0% <span class="muted count">(10)</span>' in prude
    flaky = Generation.objects.filter(model__slug=FLAKY, status="failed").count()
    palette = section.split('href="/models/palette/"', 1)[1].split("</tr>", 1)[0]
    assert f'{100 * flaky / 40:.1f}% <span class="muted count">({flaky})</span>' in palette
    assert "Failures and refusals" not in Client().get("/leaderboard/edit/").content.decode()


def test_the_model_page_shows_its_rates_per_arena(unreliable):
    page = Client().get(f"/models/{PRUDE}/").content.decode()

    assert "Failures and refusals" in page
    assert (
        "of 40 images asked for the arena's prompts, 0.0% failed (0) and 25.0% were refused (10)"
        in page
    )
    assert 'href="/leaderboard/t2i/#failures-t2i"' in page


def test_the_open_data_publishes_each_arenas_rates(unreliable, settings):
    settings.DEBUG = True

    names = votes_publish()

    assert "exports/generations-t2i.json" in names
    with default_storage.open("exports/generations-t2i.json") as handle:
        published = json.load(handle)
    assert published["arena"] == "t2i"
    rows = {row["model"]: row for row in published["models"]}
    assert rows[PRUDE] == {
        "model": PRUDE,
        "attempts": 40,
        "ready": 30,
        "failures": 0,
        "refusals": 10,
        "failure_rate": 0.0,
        "refusal_rate": 0.25,
        "provider_calls": 40,
        "provider_calls_failed": 10,
    }
    assert rows == {row.slug: row.as_json() for row in Generation.objects.reliability()}
    with default_storage.open("exports/generations-edit.json") as handle:
        assert json.load(handle)["models"] == []
    page = Client().get("/leaderboard/data/").content.decode()
    assert 'href="/media/exports/generations-t2i.json"' in page
    assert 'href="/media/exports/votes-t2i.jsonl"' in page


def test_the_rates_say_nothing_before_anything_ended():
    assert Generation.objects.reliability() == []
    assert Reliability(1, "m", "M", Arena.T2I, 0, 0, 0, 0, 0).failure_rate == 0.0
