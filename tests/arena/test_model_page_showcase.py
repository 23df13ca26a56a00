"""The model page's competition results and gallery: what shows, to whom, and at what cost."""

import re
from pathlib import PurePosixPath

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.catalog.models import Arena, Competition, Generation
from arena.catalog.services import edit_prompt_create
from arena.pages.showcase import COMPETITION_PROMPTS_SHOWN, GALLERY_PAGE_SIZE
from tests.arena.helpers import open_battle, votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db


def traces(generation: Generation) -> list[str]:
    """Everything on a page that would give an image away: its URLs and its files' names."""
    found = []
    for field in (generation.image, generation.thumbnail):
        found += [field.url, field.name, PurePosixPath(field.name).name]
    return found


def assert_nothing_of(page: str, generation: Generation) -> None:
    for trace in traces(generation):
        assert trace not in page, trace


def prompt_block(page: str, text: str) -> str:
    """The part of the competition section about the prompt with this text."""
    start = page.index(f'<p class="contest-text">{text}</p>')
    end = min(
        i for i in (page.find('class="contest-prompt"', start), page.find("</ol>", start)) if i > 0
    )
    return page[start:end]


@pytest.fixture
def contest():
    """A competition with one retired prompt (public) and one still in battles (secret):
    Hero and two rivals made an image for each."""
    hero = AIModelFactory(slug="hero", name="Hero Model")
    rivals = [AIModelFactory(slug="rival-a", name="Rival A"), AIModelFactory(slug="rival-b")]
    past = PromptFactory(text="A harbour at dawn", active=False)
    live = PromptFactory(text="A kite over a hill")
    images = {
        (prompt, model.slug): GenerationFactory(prompt=prompt, model=model)
        for prompt in (past, live)
        for model in (hero, *rivals)
    }
    competition = Competition.objects.create(
        arena=Arena.T2I, name="Skies", slug="skies", description="Things that fly."
    )
    competition.prompts.set([past, live])
    return hero, past, live, images


def test_a_competition_prompt_shows_this_models_image_beside_its_opponents(contest):
    _, past, _, images = contest

    page = Client().get("/models/hero/").content.decode()
    section = page[page.index('id="competitions"') : page.index('id="gallery"')]

    assert "Skies" in section
    assert "Things that fly." in section
    assert "A harbour at dawn" in section
    own = images[(past, "hero")].thumbnail.url
    rival = images[(past, "rival-a")].thumbnail.url
    assert section.index(own) < section.index(rival)
    assert "Rival A" in section
    assert 'href="/models/rival-a/"' in section


def test_the_win_rate_on_a_prompt_counts_its_votes_with_this_model_ties_as_half(contest):
    _, past, _, images = contest
    mine, a, b = (images[(past, slug)] for slug in ("hero", "rival-a", "rival-b"))
    votes_bulk(
        [
            (mine, a, "left", "s1"),  # win
            (a, mine, "left", "s2"),  # loss
            (b, mine, "right", "s3"),  # win
            (mine, b, "tie", "s4"),  # half
            (a, b, "left", "s5"),  # not this model's battle
        ]
    )

    page = Client().get("/models/hero/").content.decode()

    assert "63% win rate" in page  # (2 + 0.5) / 4 = 62.5%
    assert "from 4 votes: 2 won, 1 tied, 1 lost" in page
    assert "No votes yet" in page  # the kite prompt has none


def test_flagged_votes_do_not_count_in_a_prompts_win_rate(contest):
    _, past, _, images = contest
    mine, a = images[(past, "hero")], images[(past, "rival-a")]
    flagged = votes_bulk([(mine, a, "left", "s1")])[0]
    flagged.flagged = True
    flagged.save()

    page = Client().get("/models/hero/").content.decode()

    assert "No votes yet" in prompt_block(page, "A harbour at dawn")
    assert "% win rate" not in page


def test_a_stranger_sees_no_trace_of_the_images_still_in_battles(contest):
    _, _, live, images = contest

    for slug in ("hero", "rival-a", "rival-b"):
        for path in (f"/models/{slug}/", f"/models/{slug}/competitions/skies/"):
            page = Client().get(path).content.decode()
            for model_slug in ("hero", "rival-a", "rival-b"):
                assert_nothing_of(page, images[(live, model_slug)])
            assert "Hidden until you vote" in page
            assert "2 opponents' images hidden until you vote" in page

    kite = prompt_block(Client().get("/models/hero/").content.decode(), "A kite over a hill")
    assert "Rival A" not in kite  # no opponent named beside a hidden image
    assert "<img " not in kite


def test_after_voting_on_a_battle_its_two_images_show_in_the_competition(contest):
    _, _, live, images = contest
    visitor = Client()
    battle = open_battle(visitor)
    assert battle.prompt == live
    assert visitor.post(f"/battle/{battle.token}/", {"choice": "left"}).status_code == 302

    kite = prompt_block(
        visitor.get(f"/models/{battle.left.model.slug}/").content.decode(), "A kite over a hill"
    )

    assert battle.left.thumbnail.url in kite
    assert battle.right.thumbnail.url in kite
    assert battle.right.model.name in kite
    third = next(
        g
        for (p, _), g in images.items()
        if p == live and g.pk not in (battle.left_id, battle.right_id)
    )
    assert_nothing_of(kite, third)
    assert "1 opponent's image hidden until you vote" in kite
    stranger = Client().get(f"/models/{battle.left.model.slug}/").content.decode()
    assert_nothing_of(stranger, battle.left)


def test_an_edit_prompt_shows_its_source_image_first(settings):
    settings.ARENA_IMAGE_SIZE = 96
    editor = AIModelFactory(slug="editor", can_edit=True)
    prompt, _ = edit_prompt_create(instruction="Make it red", source=png_bytes(size=(96, 96)))
    prompt.active = False
    prompt.save()
    mine = GenerationFactory(prompt=prompt, model=editor)
    competition = Competition.objects.create(arena=Arena.EDIT, name="Recolour", slug="recolour")
    competition.prompts.add(prompt)

    page = Client().get("/models/editor/").content.decode()
    large = Client().get(f"/models/editor/images/{mine.pk}/").content.decode()

    assert prompt.source_image.url in page
    assert page.index(prompt.source_image.url) < page.index(mine.thumbnail.url)
    assert large.index(prompt.source_image.url) < large.index(mine.image.url)


def test_a_model_without_images_in_any_competition_has_no_competition_section(contest):
    AIModelFactory(slug="loner")

    page = Client().get("/models/loner/").content.decode()

    assert 'id="competitions"' not in page
    assert "No images yet." in page


def test_a_long_competition_shows_its_first_prompts_and_links_to_the_rest(contest):
    hero = contest[0]
    competition = Competition.objects.get(slug="skies")
    extra = [PromptFactory(text=f"Balloon number {i}", active=False) for i in range(30)]
    for prompt in extra:
        GenerationFactory(prompt=prompt, model=hero)
    competition.prompts.add(*extra)

    page = Client().get("/models/hero/").content.decode()

    assert page.count('class="contest-prompt"') == COMPETITION_PROMPTS_SHOWN
    assert 'href="/models/hero/competitions/skies/"' in page
    assert "See all 32 prompts of Skies" in page
    first = Client().get("/models/hero/competitions/skies/").content.decode()
    second = Client().get("/models/hero/competitions/skies/?page=2").content.decode()
    assert first.count('class="contest-prompt"') + second.count('class="contest-prompt"') == 32
    assert "Page 2 of 2" in second


def test_a_competition_page_for_a_model_without_images_there_is_not_found(contest):
    AIModelFactory(slug="loner")

    assert Client().get("/models/loner/competitions/skies/").status_code == 404
    assert Client().get("/models/hero/competitions/nope/").status_code == 404


def measure(url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url).status_code == 200
    return len(queries)


def test_the_model_page_costs_the_same_queries_for_few_or_many_prompts_and_models(contest):
    hero, past, live, _ = contest
    measure("/models/hero/")  # the page's figures are cached from then on
    few = measure("/models/hero/")

    competition = Competition.objects.get(slug="skies")
    others = [AIModelFactory() for _ in range(5)]
    for i in range(12):
        prompt = PromptFactory(text=f"A paper plane number {i}", active=i % 2 == 0)
        for model in (hero, *others):
            GenerationFactory(prompt=prompt, model=model)
        competition.prompts.add(prompt)
    second = Competition.objects.create(arena=Arena.T2I, name="Planes", slug="planes")
    second.prompts.set([past, live])

    assert measure("/models/hero/") == few


def test_the_model_page_shows_the_galleries_first_page_and_links_to_all(contest):
    hero = contest[0]
    for i in range(20):
        GenerationFactory(prompt=PromptFactory(text=f"Gallery {i}", active=False), model=hero)

    page = Client().get("/models/hero/").content.decode()
    gallery = page[page.index('id="gallery"') :]

    assert gallery.count("<img ") == GALLERY_PAGE_SIZE
    assert "View all 21 images" in gallery  # 20 and the harbour; the kite is hidden
    assert 'href="/models/hero/images/?page=2"' in gallery
    assert "1 image for prompts still in competition is hidden" in gallery


def test_the_gallery_pages_hold_every_visible_image_once(contest):
    hero = contest[0]
    made = [
        GenerationFactory(prompt=PromptFactory(text=f"Gallery {i}", active=False), model=hero)
        for i in range(20)
    ]
    pages = [Client().get(f"/models/hero/images/?page={n}").content.decode() for n in (1, 2)]

    for generation in made:
        assert sum(generation.thumbnail.url in page for page in pages) == 1
    assert "Page 1 of 2" in pages[0]
    assert 'href="?page=2"' in pages[0]


@pytest.mark.parametrize("number", ["0", "-1", "abc", "2.5", "99999", "9" * 5000, "%00", ""])
def test_a_gallery_page_number_that_is_no_page_gives_the_nearest_page(contest, number):
    response = Client().get(f"/models/hero/images/?page={number}")

    assert response.status_code == 200
    assert "A harbour at dawn" in response.content.decode()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(number=st.text(st.characters(codec="utf-8"), max_size=40))
def test_any_page_number_gives_a_page_never_an_error(contest, number):
    for path in ("/models/hero/images/", "/models/hero/competitions/skies/"):
        assert Client().get(path, {"page": number}).status_code == 200, number


def test_a_gallery_page_costs_the_same_queries_for_few_or_many_images(contest):
    hero = contest[0]
    few = measure("/models/hero/images/")
    for i in range(40):
        GenerationFactory(prompt=PromptFactory(text=f"Gallery {i}", active=False), model=hero)

    assert measure("/models/hero/images/?page=2") == few


def test_no_gallery_page_shows_a_stranger_an_image_still_in_battles(contest):
    _, _, live, images = contest
    for i in range(30):
        GenerationFactory(
            prompt=PromptFactory(text=f"Gallery {i}", active=False), model=contest[0]
        )

    for number in (1, 2, 3, 99):
        page = Client().get(f"/models/hero/images/?page={number}").content.decode()
        assert_nothing_of(page, images[(live, "hero")])
        assert "A kite over a hill" not in page


def test_an_image_opens_large_with_its_prompt(contest):
    _, past, _, images = contest
    mine = images[(past, "hero")]

    page = Client().get("/models/hero/").content.decode()
    assert f'href="/models/hero/images/{mine.pk}/"' in page
    large = Client().get(f"/models/hero/images/{mine.pk}/").content.decode()

    assert mine.image.url in large
    assert "A harbour at dawn" in large


def without_token(page: bytes) -> bytes:
    """The page without its CSRF token, which is masked afresh on every answer."""
    return re.sub(rb'"X-CSRFToken": "[^"]*"', b"", page)


def test_an_image_still_in_battles_cannot_be_opened_until_the_visitor_votes(contest):
    _, _, live, images = contest
    secret = images[(live, "hero")]
    stranger = Client().get(f"/models/hero/images/{secret.pk}/")
    missing = Client().get("/models/hero/images/999999999/")

    assert stranger.status_code == missing.status_code == 404
    assert without_token(stranger.content) == without_token(
        missing.content.replace(b"999999999", str(secret.pk).encode())
    )
    assert_nothing_of(stranger.content.decode(), secret)

    # Battles are drawn at random: vote until one showed the secret image, which stays
    # hidden from this visitor until then.
    visitor = Client()
    for _ in range(30):
        assert visitor.get(f"/models/hero/images/{secret.pk}/").status_code == 404
        battle = open_battle(visitor)
        visitor.post(f"/battle/{battle.token}/", {"choice": "tie"})
        if secret.pk in (battle.left_id, battle.right_id):
            break
    else:
        pytest.fail("no battle in 30 showed the hero's image of the live prompt")
    assert visitor.get(f"/models/hero/images/{secret.pk}/").status_code == 200


@pytest.mark.parametrize("pk", ["99999999999999999999999", "0"])
def test_an_image_number_no_image_can_have_is_not_found(contest, pk):
    assert Client().get(f"/models/hero/images/{pk}/").status_code == 404


def test_another_models_image_does_not_open_under_this_models_address(contest):
    _, past, _, images = contest

    assert Client().get(f"/models/hero/images/{images[(past, 'rival-a')].pk}/").status_code == 404


def test_a_model_with_dots_in_its_id_has_a_gallery_image_pages_and_competitions():
    dotted = AIModelFactory(slug="flux-1.1-pro", name="Flux")
    rival = AIModelFactory(slug="other")
    prompt = PromptFactory(text="A comet", active=False)
    mine = GenerationFactory(prompt=prompt, model=dotted)
    GenerationFactory(prompt=prompt, model=rival)
    Competition.objects.create(arena=Arena.T2I, name="Space", slug="space").prompts.add(prompt)

    assert mine.thumbnail.url in Client().get("/models/flux-1.1-pro/images/").content.decode()
    assert Client().get(f"/models/flux-1.1-pro/images/{mine.pk}/").status_code == 200
    assert Client().get("/models/flux-1.1-pro/competitions/space/").status_code == 200
    assert Client().get("/models/flux..pro/images/").status_code == 404
