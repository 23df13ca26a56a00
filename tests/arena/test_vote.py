"""Voting: the whole flow, the htmx partial, the no-JS redirect, and every rejected vote."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from arena.battles.models import Battle, EloRating, Vote
from arena.catalog.models import AIModel, Prompt
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompt() -> Prompt:
    prompt = PromptFactory(text="A red ball on a wooden table")
    for slug in ("alpha", "beta", "gamma"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug))
    return prompt


def test_vote_without_javascript_redirects_to_the_revealed_battle(prompt):
    client = Client()
    battle = open_battle(client)

    response = client.post(f"/battle/{battle.token}/", {"choice": "left"})

    assert response.status_code == 302
    assert response["Location"] == f"/battle/{battle.token}/"
    page = client.get(response["Location"]).content.decode()
    assert f'data-model="{battle.left.model.slug}"' in page
    assert f'data-model="{battle.right.model.slug}"' in page
    assert 'href="/battle/t2i/"' in page  # the next battle is one plain link away
    vote = Vote.objects.get(battle=battle)
    assert vote.choice == "left"
    assert vote.left_model_id == battle.left.model_id


def test_htmx_vote_returns_only_the_revealed_panel(prompt):
    client = Client()
    battle = open_battle(client)

    response = client.post(
        f"/battle/{battle.token}/", {"choice": "right"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="battle"')
    assert "<html" not in body
    assert f'data-model="{battle.right.model.slug}"' in body
    assert 'hx-get="/battle/t2i/"' in body
    assert "HX-Request" in response["Vary"]


def test_battle_page_is_a_full_page_or_a_partial_for_htmx(prompt):
    client = Client()
    full = client.get("/battle/t2i/")
    partial = client.get("/battle/t2i/", headers={"HX-Request": "true"})

    assert "<html" in full.content.decode()
    assert "<html" not in partial.content.decode()
    assert 'data-side="left"' in partial.content.decode()
    assert "HX-Request" in full["Vary"]


def test_vote_moves_elo_of_both_models_by_the_same_amount(prompt):
    client = Client()
    battle = open_battle(client)

    client.post(f"/battle/{battle.token}/", {"choice": "left"})

    left = EloRating.objects.get(arena="t2i", model=battle.left.model)
    right = EloRating.objects.get(arena="t2i", model=battle.right.model)
    assert left.rating == pytest.approx(1002.0)
    assert right.rating == pytest.approx(998.0)
    assert (left.wins, left.losses, right.wins, right.losses) == (1, 0, 0, 1)


def _nothing_stored(battle: Battle) -> None:
    assert not Vote.objects.filter(battle=battle).exists()
    assert not EloRating.objects.filter(votes__gt=0).exists()


def test_second_vote_on_a_battle_is_rejected(prompt):
    client = Client()
    battle = open_battle(client)
    client.post(f"/battle/{battle.token}/", {"choice": "left"})
    ratings = list(EloRating.objects.values_list("rating", flat=True).order_by("pk"))

    response = client.post(f"/battle/{battle.token}/", {"choice": "right"})

    assert response.status_code == 409
    assert "already voted" in response.content.decode()
    assert Vote.objects.filter(battle=battle).count() == 1
    assert list(EloRating.objects.values_list("rating", flat=True).order_by("pk")) == ratings


def test_vote_from_another_session_is_rejected(prompt):
    battle = open_battle(Client())

    response = Client().post(f"/battle/{battle.token}/", {"choice": "left"})

    assert response.status_code == 403
    assert "someone else" in response.content.decode()
    _nothing_stored(battle)


def test_vote_on_an_expired_battle_is_rejected(prompt):
    client = Client()
    battle = open_battle(client)
    Battle.objects.filter(pk=battle.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(f"/battle/{battle.token}/", {"choice": "left"})

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    _nothing_stored(battle)


def test_vote_with_a_forged_token_is_rejected(prompt):
    client = Client()
    battle = open_battle(client)

    response = client.post(f"/battle/{battle.token[:-2]}xx/", {"choice": "left"})

    assert response.status_code == 404
    assert "no such battle" in response.content.decode()
    _nothing_stored(battle)


@pytest.mark.parametrize("choice", ["", "middle", "LEFT", "left;drop"])
def test_vote_with_an_unknown_choice_is_rejected(prompt, choice):
    client = Client()
    battle = open_battle(client)

    response = client.post(f"/battle/{battle.token}/", {"choice": choice})

    assert response.status_code == 400
    assert "Choose left, right, tie or both_bad" in response.content.decode()
    _nothing_stored(battle)


def test_rejected_htmx_vote_is_shown_in_the_notice_slot(prompt):
    client = Client()
    battle = open_battle(client)
    client.post(f"/battle/{battle.token}/", {"choice": "tie"})

    response = client.post(
        f"/battle/{battle.token}/", {"choice": "tie"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#battle-notice"
    assert "<html" not in response.content.decode()


def test_vote_needs_a_csrf_token(prompt):
    client = Client(enforce_csrf_checks=True)
    battle = open_battle(client)

    response = client.post(f"/battle/{battle.token}/", {"choice": "left"})

    assert response.status_code == 403
    _nothing_stored(battle)


def test_battle_page_explains_when_no_battle_is_possible():
    response = Client().get("/battle/t2i/")

    assert response.status_code == 200
    assert "No Text-to-Image battles yet" in response.content.decode()


def test_retired_prompts_and_models_leave_the_battles(prompt):
    other = PromptFactory(text="A blue cube")
    for slug in ("alpha", "beta"):
        GenerationFactory(prompt=other, model=AIModelFactory(slug=slug))
    Prompt.objects.filter(pk=other.pk).update(active=False)
    AIModel.objects.filter(slug="gamma").update(active=False)

    for _ in range(20):
        battle = open_battle(Client())
        assert battle.prompt_id == prompt.pk
        assert {battle.left.model.slug, battle.right.model.slug} == {"alpha", "beta"}


def test_a_vote_and_its_reveal_read_the_battle_once(prompt, django_assert_num_queries):
    """The reveal shows only columns the vote's locked read fetched (Battle.objects.shown): a
    template reaching for another would fetch it lazily, one more query for every vote."""
    client = Client()
    battle = open_battle(client)

    # The battle, the two rating rows, one update each, the vote; and the savepoint around them.
    with django_assert_num_queries(7):
        response = client.post(
            f"/battle/{battle.token}/", {"choice": "left"}, headers={"HX-Request": "true"}
        )

    body = response.content.decode()
    assert f'<h1 id="battle-prompt" class="prompt-text">{prompt.text}</h1>' in body
    for side in (battle.left, battle.right):
        assert f'href="{side.model.get_absolute_url()}">{side.model.name}</a>' in body
        assert f'<span class="org">{side.model.organization}</span>' in body
