"""Curating competitions in the admin: group prompts under a name, see them from both sides."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from arena.catalog.models import Arena, Competition
from arena.catalog.services import edit_prompt_create
from tests.factories import GenerationFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("curator", "c@x.org", "pw"))
    return client


@pytest.fixture
def crowded() -> Competition:
    """A competition of many prompts, each with images."""
    competition = Competition.objects.create(arena=Arena.T2I, name="Crowded", slug="crowded")
    prompts = [PromptFactory(text=f"A crowd of {i} people") for i in range(40)]
    for prompt in prompts[:5]:
        GenerationFactory(prompt=prompt)
    competition.prompts.set(prompts)
    return competition


def test_a_curator_adds_a_competition_of_prompts(staff):
    kite, plane = PromptFactory(text="A kite"), PromptFactory(text="A plane")

    response = staff.post(
        "/admin/catalog/competition/add/",
        {
            "arena": "t2i",
            "name": "Things that fly",
            "slug": "things-that-fly",
            "description": "Up in the sky.",
            "order": "1",
            "prompts": [kite.pk, plane.pk],
        },
        follow=True,
    )

    assert response.status_code == 200
    competition = Competition.objects.get(slug="things-that-fly")
    assert set(competition.prompts.all()) == {kite, plane}
    assert str(competition) == "Things that fly (Text-to-Image)"


def test_a_competition_refuses_a_prompt_of_the_other_arena(staff):
    edit, _ = edit_prompt_create(instruction="Make it red", source=png_bytes(size=(96, 96)))

    response = staff.post(
        "/admin/catalog/competition/add/",
        {"arena": "t2i", "name": "Mixed", "slug": "mixed", "order": "0", "prompts": [edit.pk]},
    )

    assert response.status_code == 200  # the form again, with the reason
    assert "holds Text-to-Image prompts only" in response.content.decode()
    assert not Competition.objects.exists()


def test_the_competition_list_counts_each_competitions_prompts(staff, crowded):
    page = staff.get("/admin/catalog/competition/").content.decode()

    assert f"?competitions__id__exact={crowded.pk}" in page
    assert ">40</a>" in page


def test_a_competition_of_many_prompts_with_images_opens(staff, crowded):
    response = staff.get(f"/admin/catalog/competition/{crowded.pk}/change/")

    assert response.status_code == 200
    assert "A crowd of 39 people" in response.content.decode()  # chosen prompts are listed


def test_a_prompt_with_images_shows_the_competitions_it_is_in(staff, crowded):
    prompt = crowded.prompts.filter(generations__isnull=False).first()

    response = staff.get(f"/admin/catalog/prompt/{prompt.pk}/change/")

    assert response.status_code == 200
    assert f'href="/admin/catalog/competition/{crowded.pk}/change/"' in response.content.decode()
    assert "Crowded (Text-to-Image)" in response.content.decode()


def test_the_prompt_list_filters_by_competition(staff, crowded):
    PromptFactory(text="A lonely lighthouse")

    page = staff.get(f"/admin/catalog/prompt/?competitions__id__exact={crowded.pk}")

    assert page.status_code == 200
    assert "A crowd of 7 people" in page.content.decode()
    assert "A lonely lighthouse" not in page.content.decode()


def test_prompts_are_found_for_a_competition_by_typing(staff, crowded):
    response = staff.get(
        "/admin/autocomplete/",
        {
            "app_label": "catalog",
            "model_name": "competition",
            "field_name": "prompts",
            "term": "12",
        },
    )

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["A crowd of 12 people"]
