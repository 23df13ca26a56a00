"""The public pages: home, leaderboard (with its tabs), model index and model pages."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

import gateway
from arena.battles.services import battle_create, vote_record
from arena.catalog.services import catalog_sync
from arena.ratings.services import ratings_recompute
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


def cast(strong, weak, choices: str) -> None:
    """One vote per letter: s = strong wins, w = weak wins, t = tie, each by a new visitor."""
    for i, letter in enumerate(choices):
        battle = battle_create(arena="t2i", session_key=f"voter-{letter}-{i}")
        strong_left = battle.left.model_id == strong.pk
        choice = {"s": "left" if strong_left else "right", "w": "right" if strong_left else "left"}
        vote_record(
            token=battle.token, session_key=battle.session_key, choice=choice.get(letter, "tie")
        )


@pytest.fixture
def rated(settings):
    settings.ARENA_MIN_VOTES = 10
    strong = AIModelFactory(slug="strong", name="Strong Model", organization="Acme")
    weak = AIModelFactory(slug="weak", name="Weak Model", organization="Beta Co")
    idle = AIModelFactory(slug="idle", name="Idle Model")
    prompt = PromptFactory(text="A lighthouse in a storm")
    for model in (strong, weak):
        GenerationFactory(prompt=prompt, model=model)
    cast(strong, weak, "s" * 36 + "w" * 2 + "t" * 2)
    ratings_recompute(arena="t2i")
    return strong, weak, idle


def test_home_leads_to_voting_and_the_leaderboard(rated):
    page = Client().get("/").content.decode()

    assert 'href="/battle/t2i/"' in page
    assert 'href="/leaderboard/t2i/"' in page
    assert "Strong Model" in page


def test_leaderboard_ranks_models_with_intervals_votes_elo_and_win_rate(rated):
    page = Client().get("/leaderboard/t2i/").content.decode()

    assert page.index("Strong Model") < page.index("Weak Model")
    assert "Idle Model" not in page  # no votes, not ranked
    assert 'href="/models/strong/"' in page
    assert "Acme" in page
    assert "92%" in page  # 36 wins and 2 draws out of 40
    assert "8%" in page
    assert '<td class="rank">2</td>' in page
    assert 'class="plus">+' in page
    assert "The left image is worth" in page
    assert "from 40 votes" in page


def test_leaderboard_lists_models_with_few_votes_apart(rated, settings):
    settings.ARENA_MIN_VOTES = 1000
    ratings_recompute(arena="t2i")

    page = Client().get("/leaderboard/t2i/").content.decode()

    assert "Preliminary" in page
    assert "fewer than 1000 votes" in page


def test_before_the_first_recompute_the_leaderboard_shows_live_elo(rated):
    from arena.ratings.models import Rating

    Rating.objects.all().delete()

    page = Client().get("/leaderboard/t2i/").content.decode()

    assert "appear after the first recompute" in page
    assert page.index("Strong Model") < page.index("Weak Model")


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
    _, weak, _ = rated
    retired = PromptFactory(text="An old harbour at dawn", active=False)
    GenerationFactory(prompt=retired, model=weak)

    response = Client().get("/models/weak/")
    page = response.content.decode()

    assert "Weak Model" in page
    assert "#2 in Text-to-Image" in page
    assert "An old harbour at dawn" in page  # a retired prompt's image is no secret
    assert "past prompt" in page
    assert page.count("<img ") == 1
    # The lighthouse is still in battles: a stranger must not find its images here.
    assert "A lighthouse in a storm" not in page
    assert "1 image for prompts still in competition is hidden" in page
    assert "Cookie" in response["Vary"]


def test_a_battles_images_show_on_the_model_pages_once_the_visitor_has_voted_on_it(rated):
    visitor = Client()
    battle = open_battle(visitor)
    for slug in ("strong", "weak"):
        assert "A lighthouse in a storm" not in visitor.get(f"/models/{slug}/").content.decode()

    assert visitor.post(f"/battle/{battle.token}/", {"choice": "tie"}).status_code == 302

    for generation in (battle.left, battle.right):
        page = visitor.get(f"/models/{generation.model.slug}/").content.decode()
        assert "A lighthouse in a storm" in page
        assert generation.thumbnail.url in page
    assert "A lighthouse in a storm" not in Client().get("/models/weak/").content.decode()


def test_unknown_model_page_is_not_found():
    assert Client().get("/models/nope/").status_code == 404


def test_model_index_lists_every_model(rated):
    page = Client().get("/models/").content.decode()

    for name in ("Strong Model", "Weak Model", "Idle Model"):
        assert name in page


def test_every_catalog_model_has_a_page_and_the_index_links_to_it():
    catalog_sync()
    ids = [spec.id for spec in gateway.default_catalog()]
    assert "flux-1.1-pro" in ids  # a model id with dots

    index = Client().get("/models/")

    assert index.status_code == 200
    for model_id in ids:
        assert f'href="/models/{model_id}/"' in index.content.decode()
        assert Client().get(f"/models/{model_id}/").status_code == 200, model_id


@pytest.mark.parametrize("path", ["/models/../", "/models/a..b/", "/models/.flux/", "/models/x./"])
def test_model_ids_are_never_path_tricks(path):
    AIModelFactory(slug="a.b")

    assert Client().get(path).status_code == 404


@pytest.mark.parametrize("model_id", ["flux-1.1-pro", "gpt_image-1", "A1"])
def test_a_model_id_with_single_dots_inside_is_a_valid_id(model_id):
    AIModelFactory.build(slug=model_id).full_clean(exclude=["created_at"])


@pytest.mark.parametrize("model_id", ["a..b", ".a", "a.", "a/b", "a b", ""])
def test_a_model_id_that_could_be_a_path_is_refused(model_id):
    with pytest.raises(ValidationError):
        AIModelFactory.build(slug=model_id).full_clean(exclude=["created_at"])


@pytest.mark.parametrize("token", ["%00", "a%00b", "x" * 65, "%ED%A0%80", "a.b"])
@pytest.mark.parametrize("suffix", ["", "left.png", "source.png"])
def test_a_battle_url_with_a_token_no_battle_can_have_is_not_found(token, suffix):
    assert Client().get(f"/battle/{token}/{suffix}").status_code == 404
    assert Client().post(f"/battle/{token}/{suffix}", {"choice": "left"}).status_code == 404
