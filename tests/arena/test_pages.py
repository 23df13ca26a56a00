"""The public pages: home, leaderboard (with its tabs), model index and model pages."""

import pytest
from django.test import Client

from arena.ratings.services import elo_apply
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated():
    strong = AIModelFactory(slug="strong", name="Strong Model", organization="Acme")
    weak = AIModelFactory(slug="weak", name="Weak Model", organization="Beta Co")
    idle = AIModelFactory(slug="idle", name="Idle Model")
    prompt = PromptFactory(text="A lighthouse in a storm")
    for model in (strong, weak):
        GenerationFactory(prompt=prompt, model=model)
    for score in (1.0, 1.0, 1.0, 0.5):
        elo_apply(arena="t2i", left_model_id=strong.pk, right_model_id=weak.pk, left_score=score)
    return strong, weak, idle


def test_home_leads_to_voting_and_the_leaderboard(rated):
    page = Client().get("/").content.decode()

    assert 'href="/battle/t2i/"' in page
    assert 'href="/leaderboard/t2i/"' in page
    assert "Strong Model" in page


def test_leaderboard_ranks_models_by_elo_with_votes_and_win_rate(rated):
    page = Client().get("/leaderboard/t2i/").content.decode()

    assert page.index("Strong Model") < page.index("Weak Model")
    assert "Idle Model" not in page  # no votes, not ranked
    assert 'href="/models/strong/"' in page
    assert "Acme" in page
    assert "88%" in page  # 3 wins and a draw out of 4
    assert "12%" in page


def test_leaderboard_tabs_switch_with_htmx_and_work_as_links(rated):
    full = Client().get("/leaderboard/edit/")
    partial = Client().get("/leaderboard/edit/", headers={"HX-Request": "true"})

    assert 'href="/leaderboard/t2i/"' in full.content.decode()
    assert 'hx-get="/leaderboard/t2i/"' in full.content.decode()
    assert "<html" not in partial.content.decode()
    assert "No votes in the Image Editing arena yet" in partial.content.decode()
    assert "HX-Request" in partial["Vary"]


def test_leaderboard_root_goes_to_text_to_image():
    response = Client().get("/leaderboard/")

    assert response.status_code == 302
    assert response["Location"] == "/leaderboard/t2i/"


def test_model_page_shows_rank_rating_prices_and_competition_images(rated):
    page = Client().get("/models/weak/").content.decode()

    assert "Weak Model" in page
    assert "#2" in page
    assert "A lighthouse in a storm" in page
    assert "/media/" in page  # thumbnails of its images


def test_unknown_model_page_is_not_found():
    assert Client().get("/models/nope/").status_code == 404


def test_model_index_lists_every_model(rated):
    page = Client().get("/models/").content.decode()

    for name in ("Strong Model", "Weak Model", "Idle Model"):
        assert name in page
