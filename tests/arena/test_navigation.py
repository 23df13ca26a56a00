"""The main navigation marks the section a page belongs to; small answers say what varies."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, BattleFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db

CURRENT = re.compile(r'<a href="([^"]+)" aria-current="page">')


def current(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return CURRENT.findall(response.content.decode())


@pytest.fixture
def arenas():
    for arena in ("t2i", "edit"):
        prompt = PromptFactory(arena=arena)
        for _ in range(2):
            GenerationFactory(prompt=prompt, model=AIModelFactory(can_edit=True))
    return AIModelFactory(slug="flux-1.1-pro")


def test_each_section_marks_its_own_link(arenas):
    client = Client()
    assert current(client, "/battle/t2i/") == ["/battle/t2i/"]
    assert current(client, "/battle/edit/") == ["/battle/edit/"]
    assert current(client, "/leaderboard/edit/") == ["/leaderboard/t2i/"]
    assert current(client, "/models/") == ["/models/"]
    assert current(client, "/models/flux-1.1-pro/") == ["/models/"]
    assert current(client, "/playground/") == ["/playground/"]
    assert current(client, "/") == []


def test_an_edit_battle_page_marks_the_edit_arena(arenas):
    client = Client()
    battle = open_battle(client, "edit")
    assert current(client, battle.get_absolute_url()) == ["/battle/edit/"]


def test_a_refused_vote_leads_back_to_the_battles_own_arena(arenas):
    battle = BattleFactory(arena="edit", session_key="someone-else")

    response = Client().post(battle.get_absolute_url(), {"choice": "left"})

    assert response.status_code == 403
    assert 'href="/battle/edit/"' in response.content.decode()


def test_the_playground_says_its_answer_varies_with_htmx():
    response = Client().get("/playground/")
    assert "HX-Request" in response["Vary"]


def test_every_page_names_the_sites_icon_which_is_shipped():
    from django.contrib.staticfiles import finders

    page = Client().get("/models/").content.decode()

    match = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert match
    assert match[1].endswith("arena/icon.svg")
    assert "<svg" in Path(finders.find("arena/icon.svg")).read_text()
