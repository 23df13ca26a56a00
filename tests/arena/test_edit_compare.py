"""Editing battles carry the wipe and the flicker that compare both edits with the source; the
page they are on still works as plain HTML. Chromium drives them in
tests/browser/test_compare_in_browser.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from arena.battles.models import Battle, Vote
from arena.catalog.services import edit_prompt_create
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory, png_bytes

pytestmark = pytest.mark.django_db


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def having(self, attribute: str, tag: str = "") -> list[dict[str, str]]:
        return [a for t, a in self.tags if attribute in a and (not tag or t == tag)]


@pytest.fixture
def edit_prompt():
    prompt, _ = edit_prompt_create(instruction="Make the blue square red", source=png_bytes())
    for slug in ("painter", "retoucher"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug, can_edit=True))
    return prompt


def edit_battle_page(client: Client) -> tuple[Battle, str]:
    battle = open_battle(client, "edit")
    return battle, client.get(battle.get_absolute_url()).content.decode()


def test_an_edit_battle_carries_a_wipe_slider_and_a_flicker_toggle(edit_prompt):
    _, page = edit_battle_page(Client())
    tags = Tags(page)

    [slider] = tags.having("data-compare-wipe", "input")
    # a native slider: its role, value and arrow keys come with it
    assert slider["type"] == "range"
    assert (slider["min"], slider["max"], slider["value"]) == ("0", "100", "0")
    assert re.search(r"<label[^>]*>\s*<span>Wipe to the source</span>\s*<input", page)
    assert slider["aria-valuetext"] == "Both edits shown whole"
    [flicker] = tags.having("data-compare-flicker", "button")
    assert flicker["type"] == "button"  # never submits the vote form
    assert flicker["aria-pressed"] == "false"
    assert flicker["data-keys"].split() == ["f", "F"]
    assert len(tags.having("data-compare-frame")) == 2
    assert [a["src"] for a in tags.having("src", "script")][-1] == "/static/arena/compare.js"


def test_the_compare_uses_only_the_battles_own_images(edit_prompt):
    battle, page = edit_battle_page(Client())
    sources = [a["src"] for a in Tags(page).having("src", "img")]

    own = f"/battle/{battle.token}/"
    # the source above, and the source again over each edit, for the wipe
    assert sorted(sources) == sorted(
        [f"{own}{name}.png" for name in ("source", "left", "source", "right", "source")]
    )
    for slug in ("painter", "retoucher"):
        assert slug not in page


def test_without_javascript_the_source_both_edits_and_the_vote_form_are_plain_html(edit_prompt):
    client = Client()
    battle, page = edit_battle_page(client)
    tags = Tags(page)

    images = [(a["alt"], a["src"].rsplit("/", 1)[-1]) for a in tags.having("alt", "img")]
    assert ("The source image to edit", "source.png") in images
    edit = "One of the two edits of the source image"
    assert [src for alt, src in images if alt == edit] == ["left.png", "right.png"]
    [form] = [a for t, a in tags.tags if t == "form"]
    assert (form["method"], form["action"]) == ("post", battle.get_absolute_url())
    assert {a["value"] for a in tags.having("value", "button")} == {
        "left",
        "right",
        "tie",
        "both_bad",
    }  # the flicker toggle is no vote

    response = client.post(battle.get_absolute_url(), {"choice": "left"})
    revealed = client.get(response["Location"]).content.decode()

    assert Vote.objects.get(battle=battle).choice == "left"
    assert 'data-model="' in revealed
    assert "data-compare-wipe" in revealed  # the comparison still works after the reveal


def test_the_next_battle_swapped_in_by_htmx_brings_its_own_compare(edit_prompt):
    client = Client()
    open_battle(client, "edit")

    partial = client.get("/battle/edit/", headers={"HX-Request": "true"}).content.decode()

    assert partial.lstrip().startswith('<section id="battle"')
    assert len(Tags(partial).having("data-compare-frame")) == 2
    assert len(Tags(partial).having("data-compare-wipe")) == 1


def test_a_text_to_image_battle_has_nothing_to_compare():
    prompt = PromptFactory()
    for slug in ("painter", "retoucher"):
        GenerationFactory(prompt=prompt, model=AIModelFactory(slug=slug))

    page = Client().get("/battle/t2i/").content.decode()

    assert "data-side" in page
    assert "data-compare" not in page
    assert "compare.js" not in page
    assert "source.png" not in page
