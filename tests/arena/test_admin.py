"""Curating in the admin: generate, see progress, retry failures, retire prompts and models."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from arena.catalog.models import AIModel, Generation, Prompt
from arena.catalog.services import catalog_sync
from tests.arena.helpers import use_local_gateway
from tests.factories import PromptFactory

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
    assert '5 / <span class="errornote">1</span> / 6' in page

    use_local_gateway()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff, "/admin/catalog/prompt/", "retry_failed", [prompt.pk])

    assert "Retrying 1 failed generations" in response.content.decode()
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
        "/admin/ratings/elorating/",
        "/admin/catalog/aimodel/",
    ):
        assert staff.get(url).status_code == 200, url
