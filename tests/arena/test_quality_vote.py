"""The optional questions after the vote (which image follows the prompt better, which looks
better): asked only after the vote, one answer per battle and question, without JavaScript and
with htmx, and every refused answer stores nothing."""

import urllib.parse
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.battles.models import Battle, QualityVote
from arena.battles.qualities import QUESTIONS, Quality
from arena.battles.services import anonymous_id
from arena.catalog.models import Arena
from arena.catalog.services import edit_prompt_create
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompt():
    prompt = PromptFactory(text="A red ball on a wooden table")
    for slug in ("alpha", "beta"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug))
    return prompt


@pytest.fixture
def voted(prompt) -> tuple[Client, Battle]:
    """A visitor who has just voted on their battle."""
    client = Client()
    battle = open_battle(client)
    assert client.post(f"/battle/{battle.token}/", {"choice": "left"}).status_code == 302
    return client, battle


def answer(client: Client, battle: Battle, quality: str, choice: str, **headers: str):
    return client.post(
        f"/battle/{battle.token}/quality/", {"quality": quality, "choice": choice}, headers=headers
    )


def test_the_questions_are_asked_only_after_the_vote(prompt):
    client = Client()
    battle = open_battle(client)
    before = client.get(f"/battle/{battle.token}/").content.decode()

    client.post(f"/battle/{battle.token}/", {"choice": "tie"})
    after = client.get(f"/battle/{battle.token}/").content.decode()

    assert "quality-step" not in before
    assert "Which image follows the prompt better?" in after
    assert "Which image looks better?" in after
    assert after.count(f'action="/battle/{battle.token}/quality/"') == 2


def test_the_next_battle_button_comes_before_the_questions(prompt):
    client = Client()
    battle = open_battle(client)

    page = client.post(
        f"/battle/{battle.token}/", {"choice": "right"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert "Which image looks better?" in page
    assert page.index('data-keys="n N Enter"') < page.index('id="quality-step"')


def test_an_answer_without_javascript_comes_back_to_the_questions(voted):
    client, battle = voted

    response = answer(client, battle, "adherence", "right")

    assert response.status_code == 302
    assert response["Location"] == f"/battle/{battle.token}/#quality-step"
    stored = QualityVote.objects.get()
    assert (stored.battle_id, stored.quality, stored.choice) == (battle.pk, "adherence", "right")
    assert stored.voter == battle.vote.voter == anonymous_id(client.session.session_key)
    page = client.get(f"/battle/{battle.token}/").content.decode()
    assert '<p class="quality-answered" data-quality="adherence">' in page
    assert page.count(f'action="/battle/{battle.token}/quality/"') == 1  # only the open one


def test_an_htmx_answer_swaps_only_the_questions(voted):
    client, battle = voted

    response = answer(client, battle, "aesthetics", "tie", HX_Request="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="quality-step"')
    assert "<html" not in body
    assert "About the same" in body
    assert "HX-Request" in response["Vary"]
    assert QualityVote.objects.get().choice == "tie"


def test_after_both_answers_the_step_thanks_and_offers_no_form(voted):
    client, battle = voted
    answer(client, battle, "adherence", "left")

    body = answer(client, battle, "aesthetics", "right", HX_Request="true").content.decode()

    assert "Thank you" in body
    assert "<form" not in body
    assert QualityVote.objects.count() == 2


def test_an_edit_battle_asks_about_the_instruction_and_the_untouched_parts():
    prompt, _ = edit_prompt_create(instruction="Make the ball blue", source=png_bytes())
    for slug in ("editor-a", "editor-b"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug, can_edit=True))
    client = Client()
    battle = open_battle(client, "edit")
    client.post(f"/battle/{battle.token}/", {"choice": "left"})

    page = client.get(f"/battle/{battle.token}/").content.decode()

    assert "Which edit follows the instruction better?" in page
    assert "Which edit keeps the untouched parts of the picture better?" in page
    assert "looks better" not in page
    assert answer(client, battle, "preservation", "left").status_code == 302
    assert QualityVote.objects.get().quality == "preservation"


def test_one_answer_per_battle_and_question(voted):
    client, battle = voted
    answer(client, battle, "adherence", "left")

    again = answer(client, battle, "adherence", "right")
    other = answer(client, battle, "aesthetics", "right")

    assert again.status_code == 409
    assert "already answered this question" in again.content.decode()
    assert other.status_code == 302
    assert sorted(QualityVote.objects.values_list("quality", "choice")) == [
        ("adherence", "left"),
        ("aesthetics", "right"),
    ]


def test_an_answer_on_someone_elses_battle_is_refused(voted):
    _, battle = voted

    response = answer(Client(), battle, "adherence", "left")

    assert response.status_code == 403
    assert "someone else" in response.content.decode()
    assert not QualityVote.objects.exists()


def test_an_answer_before_the_vote_is_refused(prompt):
    client = Client()
    battle = open_battle(client)

    response = answer(client, battle, "adherence", "left")

    assert response.status_code == 409
    assert "Vote on the battle first" in response.content.decode()
    assert not QualityVote.objects.exists()


def test_an_answer_after_the_battle_expired_is_refused_and_no_longer_asked(voted):
    client, battle = voted
    Battle.objects.filter(pk=battle.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = answer(client, battle, "adherence", "left")

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not QualityVote.objects.exists()
    assert "quality-step" not in client.get(f"/battle/{battle.token}/").content.decode()


@pytest.mark.parametrize("quality", ["", "beauty", "ADHERENCE", "adherence;drop", "x" * 200])
def test_an_unknown_question_is_refused(voted, quality):
    client, battle = voted

    response = answer(client, battle, quality, "left")

    assert response.status_code == 400
    assert "There is no such question" in response.content.decode()
    assert not QualityVote.objects.exists()


def test_a_question_of_the_other_arena_is_refused(voted):
    client, battle = voted

    response = answer(client, battle, Quality.PRESERVATION, "left")

    assert response.status_code == 400
    assert "The Text-to-Image arena does not ask that question" in response.content.decode()
    assert not QualityVote.objects.exists()


@pytest.mark.parametrize("choice", ["both_bad", "", "LEFT", "middle"])
def test_an_answer_other_than_a_b_or_the_same_is_refused(voted, choice):
    client, battle = voted

    response = answer(client, battle, "adherence", choice)

    assert response.status_code == 400
    assert "Choose left, right or tie" in response.content.decode()
    assert not QualityVote.objects.exists()


def test_an_answer_with_a_forged_token_is_refused(voted):
    client, battle = voted

    response = client.post(
        f"/battle/{battle.token[:-2]}xx/quality/", {"quality": "adherence", "choice": "left"}
    )

    assert response.status_code == 404
    assert not QualityVote.objects.exists()


def test_a_refused_htmx_answer_is_shown_in_the_questions_notice_slot(voted):
    client, battle = voted
    answer(client, battle, "adherence", "left")

    response = answer(client, battle, "adherence", "left", HX_Request="true")

    assert response.status_code == 409
    assert response["HX-Retarget"] == "#quality-notice"
    assert "<html" not in response.content.decode()


def test_an_answer_needs_post_and_a_csrf_token(prompt):
    client = Client(enforce_csrf_checks=True)
    battle = open_battle(client)
    token = client.cookies["csrftoken"].value
    client.post(f"/battle/{battle.token}/", {"choice": "left", "csrfmiddlewaretoken": token})

    assert client.get(f"/battle/{battle.token}/quality/").status_code == 405
    assert answer(client, battle, "adherence", "left").status_code == 403
    assert not QualityVote.objects.exists()


def test_the_vote_itself_never_reads_or_writes_the_answers(prompt):
    client = Client()
    plain, htmx = open_battle(client), open_battle(client)

    with CaptureQueriesContext(connection) as queries:
        client.post(f"/battle/{plain.token}/", {"choice": "left"})
        client.post(f"/battle/{htmx.token}/", {"choice": "left"}, headers={"HX-Request": "true"})

    assert len(queries) > 0
    assert not [q["sql"] for q in queries if "qualityvote" in q["sql"].lower()]


def test_every_arena_asks_its_adherence_question_first():
    for arena in Arena:
        assert QUESTIONS[arena][0].quality == Quality.ADHERENCE
        assert len(QUESTIONS[arena]) == 2


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    token=st.none() | st.text(max_size=30),
    quality=st.sampled_from([*Quality.values, ""]) | st.text(st.characters(codec="utf-8")),
    choice=st.sampled_from(["left", "right", "tie", "both_bad"]) | st.text(max_size=10),
    htmx=st.booleans(),
)
def test_answers_take_any_token_question_and_choice(voted, token, quality, choice, htmx):
    client, battle = voted
    path = urllib.parse.quote(token if token is not None else battle.token, safe="")
    before = QualityVote.objects.count()

    response = client.post(
        f"/battle/{path}/quality/",
        {"quality": quality, "choice": choice},
        headers={"HX-Request": "true"} if htmx else {},
    )

    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert QualityVote.objects.count() == before
