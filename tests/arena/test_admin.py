"""Curating in the admin: generate, see progress, retry failures, retire prompts and models."""

import hashlib
import html
import re

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

import gateway
from arena.battles.matchmaking import battle_pick
from arena.battles.services import battle_create, vote_record
from arena.catalog.guard import image_phash
from arena.catalog.models import AIModel, Generation, Prompt, ProviderCall
from arena.catalog.services import calls_record, catalog_sync, edit_prompt_create
from arena.catalog.uploads import source_image_clean
from arena.ratings.services import ratings_refresh
from tests.arena.helpers import use_local_gateway
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(settings) -> Client:
    settings.ARENA_IMAGE_SIZE = 128
    catalog_sync()
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("curator", "c@x.org", "pw"))
    return client


def act(client: Client, url: str, action: str, ids: list[int]):
    return client.post(
        url, {"action": action, "_selected_action": [str(pk) for pk in ids]}, follow=True
    )


def test_generate_action_queues_and_progress_shows_ready_failed_total(
    staff, django_capture_on_commit_callbacks
):
    use_local_gateway(fail_rates={"blockworld": 1.0})
    prompt = PromptFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff, "/admin/catalog/prompt/", "generate_images", [prompt.pk])

    assert "Queued 6 generations" in response.content.decode()
    page = staff.get("/admin/catalog/prompt/").content.decode()
    failed = re.search(r'5 / <strong><a href="([^"]+)"[^>]*>1</a></strong> / 6', page)
    assert failed, "the failed count links to the failed generations"
    listed = staff.get(html.unescape(failed[1])).content.decode()
    assert "Blockworld" in listed
    assert "simulated overload" in listed
    assert listed.count('name="_selected_action"') == 1  # only the failed one

    use_local_gateway()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff, "/admin/catalog/prompt/", "retry_failed", [prompt.pk])

    assert "Retrying 1 failed generation:" in response.content.decode()
    assert Generation.objects.ready().count() == 6


def test_generate_and_retry_with_nothing_to_do_say_so(staff, django_capture_on_commit_callbacks):
    prompt = PromptFactory()
    with django_capture_on_commit_callbacks(execute=True):
        act(staff, "/admin/catalog/prompt/", "generate_images", [prompt.pk])

    again = act(staff, "/admin/catalog/prompt/", "generate_images", [prompt.pk])
    retried = act(staff, "/admin/catalog/prompt/", "retry_failed", [prompt.pk])

    assert "Nothing to generate: every image of the selected prompts" in again.content.decode()
    assert "Nothing to retry: none of the selected has failed." in retried.content.decode()
    assert Generation.objects.ready().count() == 6


def test_retire_and_bring_back_a_prompt(staff):
    prompt = PromptFactory()

    act(staff, "/admin/catalog/prompt/", "retire", [prompt.pk])
    assert not Prompt.objects.get(pk=prompt.pk).active
    act(staff, "/admin/catalog/prompt/", "reactivate", [prompt.pk])
    assert Prompt.objects.get(pk=prompt.pk).active


def test_retire_a_model(staff):
    model = AIModel.objects.get(slug="daydream")

    response = act(staff, "/admin/catalog/aimodel/", "retire", [model.pk])

    assert "Retired 1 models" in response.content.decode()
    assert not AIModel.objects.get(pk=model.pk).active


@pytest.fixture
def contest() -> tuple[list[Prompt], list[AIModel]]:
    """Two prompts and three models, each with an image for each prompt, in built battles."""
    prompts = [PromptFactory() for _ in range(2)]
    models = [AIModelFactory() for _ in range(3)]
    for prompt in prompts:
        for model in models:
            GenerationFactory(prompt=prompt, model=model)
    battle_pick(arena="t2i", session_key="v")  # the battles' pool is built with all of them
    return prompts, models


def battles_shown(times: int = 60) -> list[tuple[Generation, Generation]]:
    rng = np.random.default_rng(7)
    return [battle_pick(arena="t2i", session_key="v", rng=rng) for _ in range(times)]


def test_unticking_active_in_a_prompts_change_form_takes_it_out_of_the_battles(staff, contest):
    (retired, kept), _ = contest
    url = f"/admin/catalog/prompt/{retired.pk}/change/"

    staff.post(url, {"tags": "[]"})  # an unticked box is not sent

    assert {left.prompt_id for left, _ in battles_shown()} == {kept.pk}
    staff.post(url, {"tags": "[]", "active": "on"})
    assert {left.prompt_id for left, _ in battles_shown()} == {retired.pk, kept.pk}


def test_unticking_active_in_a_models_change_form_takes_it_out_of_the_battles(staff, contest):
    _, (retired, *kept) = contest
    url = f"/admin/catalog/aimodel/{retired.pk}/change/"
    form = {
        "slug": retired.slug,
        "name": retired.name,
        "organization": retired.organization,
        "can_generate": "on",
        "offerings-TOTAL_FORMS": "0",
        "offerings-INITIAL_FORMS": "0",
    }

    assert staff.post(url, form).status_code == 302
    shown = {g.model_id for battle in battles_shown() for g in battle}
    assert shown == {model.pk for model in kept}
    staff.post(url, {**form, "active": "on"})
    shown = {g.model_id for battle in battles_shown() for g in battle}
    assert shown == {retired.pk, *(model.pk for model in kept)}


def test_adding_a_prompt_by_hand(staff):
    response = staff.post(
        "/admin/catalog/prompt/add/",
        {"arena": "t2i", "text": "A paper boat on a puddle", "tags": '["water"]', "active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    prompt = Prompt.objects.get()
    assert prompt.tags == ["water"]
    assert prompt.fingerprint == Prompt.fingerprint_for("t2i", "A paper boat on a puddle")


def test_admin_pages_open(staff):
    for url in (
        "/admin/",
        "/admin/catalog/generation/",
        "/admin/catalog/providercall/",
        "/admin/battles/vote/",
        "/admin/battles/elorating/",
        "/admin/battles/pairingplan/",
        "/admin/catalog/aimodel/",
    ):
        assert staff.get(url).status_code == 200, url


def test_the_pairing_plan_a_refit_wrote_is_listed(staff):
    prompt = PromptFactory()
    for _ in range(3):
        GenerationFactory(prompt=prompt, model=AIModelFactory())
    battle = battle_create(arena="t2i", session_key="voter")
    vote_record(token=battle.token, session_key="voter", choice="left")
    ratings_refresh()

    page = staff.get("/admin/battles/pairingplan/").content.decode()

    assert "Text-to-Image" in page
    assert '<td class="field-models">2</td>' in page  # the two models that met in a vote


def test_a_prompt_with_images_opens_and_its_tags_and_active_can_be_edited(staff):
    prompt = GenerationFactory(prompt__text="A kite over a hill").prompt
    url = f"/admin/catalog/prompt/{prompt.pk}/change/"

    assert staff.get(url).status_code == 200
    response = staff.post(url, {"tags": '["sky"]'}, follow=True)

    assert response.status_code == 200
    prompt.refresh_from_db()
    assert (prompt.tags, prompt.active, prompt.text) == (["sky"], False, "A kite over a hill")


def test_an_editing_prompt_with_images_opens_in_the_admin(staff):
    prompt, _ = edit_prompt_create(instruction="Make it red", source=png_bytes(size=(96, 96)))
    GenerationFactory(prompt=prompt)

    page = staff.get(f"/admin/catalog/prompt/{prompt.pk}/change/")

    assert page.status_code == 200
    assert prompt.source_image.url in page.content.decode()


def test_an_editing_prompt_added_by_hand_gets_its_perceptual_hash(staff):
    source = png_bytes(size=(96, 96))
    upload = SimpleUploadedFile("cube.png", source, content_type="image/png")

    staff.post(
        "/admin/catalog/prompt/add/",
        {"arena": "edit", "text": "Make it  red", "tags": "[]", "active": "on",
         "source_upload": upload},
    )  # fmt: skip

    prompt = Prompt.objects.get()
    made_by_service, created = edit_prompt_create(instruction="Make it red!", source=source)
    assert not created  # the same prompt, by the same rule
    assert made_by_service == prompt
    assert prompt.source_phash == image_phash(source_image_clean(source))


def test_an_editing_prompt_imported_before_is_refused_when_added_by_hand(staff):
    source = png_bytes(size=(96, 96))
    edit_prompt_create(instruction="Make it red", source=source)

    response = staff.post(
        "/admin/catalog/prompt/add/",
        {"arena": "edit", "text": "Make it red.", "tags": "[]", "active": "on",
         "source_upload": SimpleUploadedFile("cube.png", source, content_type="image/png")},
    )  # fmt: skip

    assert "already in the arena" in response.content.decode()
    assert Prompt.objects.count() == 1


def test_a_text_to_image_prompt_takes_no_source_image(staff):
    upload = SimpleUploadedFile("cube.png", png_bytes(size=(96, 96)), content_type="image/png")

    response = staff.post(
        "/admin/catalog/prompt/add/",
        {"arena": "t2i", "text": "A cube", "tags": "[]", "active": "on", "source_upload": upload},
    )

    assert "Text-to-Image prompts have no source image" in response.content.decode()
    assert not Prompt.objects.exists()


def test_replacing_the_source_of_an_editing_prompt_updates_its_hashes(staff):
    prompt, _ = edit_prompt_create(instruction="Make it red", source=png_bytes(size=(96, 96)))
    other = png_bytes(color=(10, 200, 10), size=(128, 96))

    staff.post(
        f"/admin/catalog/prompt/{prompt.pk}/change/",
        {"arena": "edit", "text": "Make it red", "tags": "[]", "active": "on",
         "source_upload": SimpleUploadedFile("green.png", other, content_type="image/png")},
    )  # fmt: skip

    prompt.refresh_from_db()
    assert prompt.source_phash == image_phash(source_image_clean(other))
    assert prompt.source_sha256 == hashlib.sha256(source_image_clean(other)).hexdigest()


@pytest.mark.parametrize(
    ("tags", "text", "reason"),
    [
        ('["\\u0000"]', "A cat", "Tags must be"),
        ('["\\ud800"]', "A cat", "Tags must be"),
        ("1e999999", "A cat", "Tags must be"),
        ('{"a": 1}', "A cat", "Tags must be"),
        ("[]", "x" * 4001, "longer than 4000 characters"),
    ],
)
def test_a_prompt_added_by_hand_is_checked_like_an_imported_one(staff, tags, text, reason):
    response = staff.post(
        "/admin/catalog/prompt/add/", {"arena": "t2i", "text": text, "tags": tags, "active": "on"}
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Prompt.objects.exists()


def test_call_rows_show_the_providers_request_id(staff):
    model = AIModel.objects.first()
    attempt = gateway.Attempt(
        model=model.slug,
        provider="local",
        provider_model="local",
        started_at=timezone.now(),
        ok=True,
        total_ms=5,
        provider_request_id="req-7f3a",
    )
    calls_record(operation=gateway.Operation.GENERATE, attempts=[attempt])

    page = staff.get("/admin/catalog/providercall/?q=req-7f3a").content.decode()

    assert "req-7f3a" in page
    assert ProviderCall.objects.get().provider_request_id == "req-7f3a"


def test_call_rows_show_what_the_provider_told_of_the_images(staff):
    model = AIModel.objects.first()
    attempt = gateway.Attempt(
        model=model.slug,
        provider="local",
        provider_model="local",
        started_at=timezone.now(),
        ok=True,
        total_ms=5,
        seeds=(918273,),
        revised_prompts=("A lighthouse at dusk, oil painting",),
        safety=("HARM_CATEGORY_DANGEROUS_CONTENT: MEDIUM",),
    )
    (call,) = calls_record(operation=gateway.Operation.GENERATE, attempts=[attempt])

    listing = staff.get("/admin/catalog/providercall/").content.decode()
    detail = staff.get(f"/admin/catalog/providercall/{call.pk}/change/")

    for page in (listing, detail.content.decode()):
        assert "918273" in page
        assert "A lighthouse at dusk, oil painting" in page
        assert "HARM_CATEGORY_DANGEROUS_CONTENT: MEDIUM" in page
    assert b'name="revised_prompt"' not in detail.content  # shown, not editable
