"""Categories: curated tags on prompts, each with a leaderboard of its own fitted by the same
engine on the votes on its prompts alone, reproducible from the vote files."""

import importlib
import io
import json
import random
import re
import tomllib

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from arena.battles.models import Vote
from arena.battles.outcomes import OUTCOMES, Choice
from arena.catalog.models import Arena, Category, Prompt
from arena.pages.management.commands.seed_demo import DEMO_PROMPTS
from arena.ratings import engine
from arena.ratings.models import Rating, RatingRun
from arena.ratings.services import category_ratings_recompute, ratings_refresh
from tests.arena.helpers import votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db

# What the simulated voters believe, per kind of prompt: "ace" counts well and draws people
# badly, "poor" the other way round.
STRENGTH = {
    "counting": {"ace": 1300, "good": 1100, "fair": 1000, "poor": 800},
    "portrait": {"ace": 800, "good": 1000, "fair": 1100, "poor": 1300},
    "other": {"ace": 1000, "good": 1000, "fair": 1000, "poor": 1000},
}
# Prompts by what they are tagged with, and the kind of votes they get.
PROMPTS = {
    "counting": (["counting", "tabletop"], "counting"),
    "portrait": (["portrait"], "portrait"),
    "both": (["portrait", "counting"], "other"),
    "none": (["counts", "counting-stars"], "other"),
}


def category(arena: str, slug: str, name: str = "") -> Category:
    """A category, whether the data migration's rows are there or a flush took them."""
    return Category.objects.get_or_create(
        arena=arena, slug=slug, defaults={"name": name or slug.title()}
    )[0]


@pytest.fixture
def voted(settings):
    """Votes on four prompts (in counting, portrait, both, neither), written in bulk.

    Returns the votes as built: (left slug, right slug, choice, prompt key).
    """
    settings.ARENA_MIN_VOTES = 20
    settings.ARENA_CATEGORY_MIN_VOTES = 100
    category("t2i", "counting")
    category("t2i", "portrait")
    models = {slug: AIModelFactory(slug=slug) for slug in STRENGTH["counting"]}
    generations = {}
    for key, (tags, _) in PROMPTS.items():
        prompt = PromptFactory(tags=tags)
        generations[key] = [GenerationFactory(prompt=prompt, model=m) for m in models.values()]
    rng = random.Random(3)
    rows, built = [], []
    for i in range(520):
        key = ["counting", "portrait", "both", "none"][i % 4]
        strength = STRENGTH[PROMPTS[key][1]]
        left, right = rng.sample(generations[key], 2)
        a, b = left.model.slug, right.model.slug
        p_left = 1 / (1 + 10 ** ((strength[b] - strength[a]) / 400))
        choice = "left" if rng.random() < p_left else "right"
        choice = "tie" if rng.random() < 0.1 else choice
        rows.append((left, right, choice, f"voter-{i % 41}"))
        built.append((a, b, choice, key))
    votes_bulk(rows)
    return built


def expected_board(built, keys: set[str]) -> list[dict]:
    """What the engine makes of the votes on these prompts only, counted here, not by the site."""
    chosen = [vote for vote in built if vote[3] in keys]
    models = sorted({vote[0] for vote in chosen} | {vote[1] for vote in chosen})
    at = {slug: i for i, slug in enumerate(models)}
    counts = engine.count_votes(
        models,
        [at[vote[0]] for vote in chosen],
        [at[vote[1]] for vote in chosen],
        [OUTCOMES[Choice(vote[2])].code for vote in chosen],
    )
    return engine.compute_leaderboard(
        counts,
        bootstrap=django_settings.ARENA_BOOTSTRAP_ROUNDS,
        seed=django_settings.ARENA_RATINGS_SEED,
        min_votes=django_settings.ARENA_MIN_VOTES,
    ).rows()


def stored_board(slug: str) -> list[dict]:
    return [
        {
            "model": rating.model.slug,
            "rating": rating.rating,
            "ci_low": rating.ci_low,
            "ci_high": rating.ci_high,
            "rank": rating.rank,
            "votes": rating.votes,
            "preliminary": rating.preliminary,
        }
        for rating in Rating.objects.leaderboard("t2i", category=slug).order_by(
            "preliminary", "-rating", "model__slug"
        )
    ]


# --- Which prompts a category holds ------------------------------------------------------------


def test_a_prompt_belongs_to_the_categories_of_its_arena_that_its_tags_name():
    counting, portrait = category("t2i", "counting"), category("t2i", "portrait")
    style = category("edit", "style")
    tagged = PromptFactory(tags=["portrait", "counting", "studio"])
    near_miss = PromptFactory(tags=["counts", "counting-stars", "style"])
    edit = PromptFactory(arena="edit", tags=["style"])
    odd = PromptFactory(tags={"counting": True})  # tags that are not a list hold nothing

    assert tagged.categories_among([counting, portrait, style]) == [counting, portrait]
    assert near_miss.categories_among([counting, portrait, style]) == []
    assert edit.categories_among([counting, portrait, style]) == [style]
    assert set(Prompt.objects.in_category(counting)) == {tagged}
    assert set(Prompt.objects.in_category(style)) == {edit}
    slugs = Prompt.objects.category_slugs()
    assert set(slugs[tagged.pk]) == {"counting", "portrait"}
    assert slugs[near_miss.pk] == slugs[odd.pk] == []
    assert slugs[edit.pk] == ["style"]


def test_the_data_migration_creates_the_curated_list():
    migration = importlib.import_module("arena.catalog.migrations.0004_categories")
    Category.objects.all().delete()

    migration.categories_create(apps, None)
    migration.categories_create(apps, None)  # again: nothing doubles

    assert list(Category.objects.for_arena(Arena.T2I).values_list("slug", flat=True)) == [
        "portrait",
        "text-rendering",
        "photorealism",
        "illustration",
        "multiple-objects",
        "spatial-relations",
        "counting",
    ]
    assert list(Category.objects.for_arena(Arena.EDIT).values_list("slug", flat=True)) == [
        "recolour",
        "add",
        "remove",
        "style",
        "lighting",
    ]
    assert all(c.name and c.description for c in Category.objects.all())


def test_every_category_has_demo_prompts_and_they_keep_their_other_tags():
    data = tomllib.loads(DEMO_PROMPTS.read_text())
    migration = importlib.import_module("arena.catalog.migrations.0004_categories")
    for arena, slug, _, _ in migration.CATEGORIES:
        tagged = [e for e in data[arena] if slug in e["tags"] and not e.get("retired")]
        assert len(tagged) >= 2, f"{slug} has {len(tagged)} active demo prompts"
    assert next(e for e in data["t2i"] if e["text"].startswith("Three yellow apples"))["tags"] == [
        "counting",
        "counts",
        "tabletop",
    ]


# --- Category boards: the same engine on the votes of the category ---------------------------


def test_each_category_board_is_the_engine_on_the_votes_of_that_category_alone(voted):
    ratings_refresh()

    assert stored_board("counting") == expected_board(voted, {"counting", "both"})
    assert stored_board("portrait") == expected_board(voted, {"portrait", "both"})
    # Two different boards: the voters' tastes differ by kind of prompt.
    counting = [row["model"] for row in stored_board("counting")]
    portrait = [row["model"] for row in stored_board("portrait")]
    assert counting[0] == "ace"
    assert portrait[0] == "poor"
    run = RatingRun.objects.board("t2i", category="counting").get()
    assert run.votes == 260
    # The main board still counts every vote, and keeps its one run per refit.
    assert RatingRun.objects.board("t2i").get().votes == 520
    assert stored_board("") == expected_board(voted, set(PROMPTS))


def test_flagged_votes_stay_out_of_category_boards_too(voted):
    counting = Prompt.objects.in_category(Category.objects.get(arena="t2i", slug="counting"))
    Vote.objects.filter(left_model__slug="ace", prompt__in=counting).update(flagged=True)
    flagged = Vote.objects.filter(flagged=True).count()
    assert flagged > 0

    category_ratings_recompute(arena="t2i")

    run = RatingRun.objects.board("t2i", category="counting").get()
    assert (run.votes, run.flagged_votes) == (260 - flagged, flagged)


def test_a_category_below_the_minimum_has_a_run_but_no_table(voted, settings):
    settings.ARENA_CATEGORY_MIN_VOTES = 261
    category("t2i", "photorealism")  # no votes at all

    category_ratings_recompute(arena="t2i")

    assert not Rating.objects.board("t2i", category="counting").exists()
    assert RatingRun.objects.board("t2i", category="counting").get().votes == 260
    assert not RatingRun.objects.board("t2i", category="photorealism").exists()
    page = Client().get("/leaderboard/t2i/?category=counting")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Counting has 260 votes so far; its board is shown from 261." in text
    assert '<table class="leaderboard' not in text
    assert "No votes in the" not in text

    settings.ARENA_CATEGORY_MIN_VOTES = 260
    category_ratings_recompute(arena="t2i")

    text = Client().get("/leaderboard/t2i/?category=counting").content.decode()
    assert '<table class="leaderboard' in text
    assert "its board is shown from" not in text


def test_the_board_of_a_deleted_category_goes(voted):
    category_ratings_recompute(arena="t2i")
    Category.objects.filter(slug="portrait").delete()

    category_ratings_recompute(arena="t2i")

    assert not Rating.objects.filter(category="portrait").exists()
    assert Rating.objects.filter(category="counting").exists()
    assert Client().get("/leaderboard/t2i/?category=portrait").status_code == 404


# --- The filter on the leaderboard ------------------------------------------------------------


def links(html: str) -> dict[str, tuple[str, str]]:
    """The category filter's links: name -> (href, hx-get)."""
    nav = re.search(r'<nav class="categories".*?</nav>', html, re.S)
    assert nav, "no category filter"
    found = re.findall(r'<a href="([^"]+)"[^>]*?hx-get="([^"]+)"[^>]*>([^<]+)</a>', nav[0], re.S)
    return {name: (href.replace("&amp;", "&"), hx) for href, hx, name in found}


def test_the_filter_links_work_without_javascript_and_with_htmx(voted):
    ratings_refresh()
    main = Client().get("/leaderboard/t2i/").content.decode()
    filters = links(main)
    href, hx_get = filters["Counting"]
    assert href == hx_get == "/leaderboard/t2i/?category=counting"
    assert filters["All prompts"][0] == "/leaderboard/t2i/"
    assert "Recolour" not in filters  # the other arena's categories are on its own board

    page = Client().get(href)
    partial = Client().get(hx_get, headers={"HX-Request": "true"})

    for response in (page, partial):
        text = response.content.decode()
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        assert re.search(r'aria-current="page"[^>]*>Counting</a>', text, re.S)
        names = re.findall(r'<a href="/models/([^/]+)/">', text)
        assert sorted(names) == ["ace", "fair", "good", "poor"]
        assert "Live Elo" in text  # the same table, its arena-wide columns left empty
    assert "<html" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert partial.content.decode().lstrip().startswith('<section id="board"')
    back = links(partial.content.decode())["All prompts"][1]
    assert Client().get(back, headers={"HX-Request": "true"}).status_code == 200


def test_going_back_to_a_swapped_in_board_gets_the_whole_page():
    category("t2i", "counting")
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    response = Client().get("/leaderboard/t2i/?category=counting", headers=restore)

    assert "<html" in response.content.decode()
    assert 'class="site-header"' in response.content.decode()


@pytest.mark.parametrize("asked", ["nope", "recolour", "Counting", "counting/", "x" * 40])
def test_an_unknown_category_is_a_404_that_says_so(asked):
    category("t2i", "counting")
    category("edit", "recolour")

    for headers in ({}, {"HX-Request": "true"}):
        response = Client().get("/leaderboard/t2i/", {"category": asked}, headers=headers)
        text = response.content.decode()
        assert response.status_code == 404
        assert "The Text-to-Image arena has no category" in text
        assert 'href="/leaderboard/t2i/?category=counting"' in text


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(asked=st.text(st.characters(codec="utf-8"), max_size=60))
def test_any_category_text_is_a_board_or_a_404_never_an_error(asked):
    category("t2i", "counting")
    Category.objects.exclude(slug="counting").delete()
    response = Client().get("/leaderboard/t2i/", {"category": asked})
    assert response.status_code in (200, 404)
    assert (response.status_code == 200) == (asked in ("", "counting"))


# --- Reproducible from the vote files ---------------------------------------------------------


def test_ratings_compute_of_a_category_prints_the_stored_category_board(voted, tmp_path):
    ratings_refresh()
    export = tmp_path / "votes.jsonl"
    call_command("export_votes", "--arena", "t2i", "--output", str(export))
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert sum("counting" in line["categories"] for line in lines) == 260
    assert sum(line["categories"] == [] for line in lines) == 130

    for slug in ("counting", "portrait"):
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "ratings_compute", "--votes", str(export), "--category", slug, stdout=out, stderr=err
        )
        assert json.loads(out.getvalue()) == stored_board(slug)
        assert err.getvalue() == ""


def test_ratings_compute_says_when_a_category_is_below_the_sites_minimum(
    voted, tmp_path, settings
):
    export = tmp_path / "votes.jsonl"
    call_command("export_votes", "--output", str(export))
    err = io.StringIO()
    settings.ARENA_CATEGORY_MIN_VOTES = 1000

    call_command(
        "ratings_compute", "--votes", str(export), "--category", "portrait",
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip

    assert "portrait has 260 votes; the site shows a category's board from 1000." in err.getvalue()


def test_a_vote_file_without_categories_cannot_give_a_category_and_says_why(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text(
        '{"model_a": "x", "model_b": "y", "winner": "model_a", "tstamp": 1, "arena": "t2i",'
        ' "prompt_id": 1, "judge": "j"}\n'
    )

    with pytest.raises(CommandError, match=r"line 1: .*categories"):
        call_command("ratings_compute", "--votes", str(path), "--category", "counting")


# --- The model page ---------------------------------------------------------------------------


def test_the_model_page_says_where_the_model_ranks_best(voted):
    ratings_refresh()
    best = {}
    for slug in ("ace", "poor"):
        text = Client().get(f"/models/{slug}/").content.decode()
        found = re.search(r'<p class="best-for">.*?</p>', text, re.S)
        assert found, f"{slug}'s page says nothing of its categories"
        best[slug] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found[0])).strip()
    counting = {row["model"]: row["rank"] for row in stored_board("counting")}
    portrait = {row["model"]: row["rank"] for row in stored_board("portrait")}

    assert best["ace"].startswith(f"Best for Counting (#{counting['ace']} of 4)")
    assert best["poor"].startswith(f"Best for Portrait (#{portrait['poor']} of 4)")
    link = '<a href="/leaderboard/t2i/?category=counting">Counting</a>'
    assert link in Client().get("/models/ace/").content.decode()


def test_a_model_with_no_category_ranks_says_nothing_of_them():
    model = AIModelFactory(slug="lonely")
    assert "Best for" not in Client().get(f"/models/{model.slug}/").content.decode()


# --- The admin --------------------------------------------------------------------------------


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("curator", "c@x.org", "pw"))
    return client


def test_the_admin_edits_the_list_of_categories(staff):
    added = staff.post(
        "/admin/catalog/category/add/",
        {
            "arena": "t2i",
            "name": "Animals",
            "slug": "animals",
            "description": "Cats, dogs and the rest.",
            "order": "3",
        },
    )
    assert added.status_code == 302
    animals = Category.objects.get(arena="t2i", slug="animals")

    refused = staff.post(
        "/admin/catalog/category/add/",
        {"arena": "t2i", "name": "Bad", "slug": "Big Cats", "description": "", "order": "0"},
    )
    assert "Use lower-case letters, digits" in refused.content.decode()
    twin = staff.post(
        "/admin/catalog/category/add/",
        {"arena": "t2i", "name": "Again", "slug": "animals", "description": "", "order": "0"},
    )
    assert twin.status_code == 200
    assert Category.objects.filter(slug="animals").count() == 1

    staff.post(
        f"/admin/catalog/category/{animals.pk}/change/",
        {"arena": "t2i", "name": "Animals", "slug": "pets", "description": "", "order": "3"},
    )
    animals.refresh_from_db()
    assert animals.slug == "pets"
    staff.post(f"/admin/catalog/category/{animals.pk}/delete/", {"post": "yes"})
    assert not Category.objects.filter(pk=animals.pk).exists()


def test_the_admin_shows_and_filters_prompts_by_category(staff):
    counting = category("t2i", "counting", "Counting")
    category("t2i", "portrait", "Portrait")
    apples = PromptFactory(text="Three apples", tags=["counting", "tabletop"])
    PromptFactory(text="A cat", tags=["portrait"])
    PromptFactory(text="A sunset", tags=["outdoor"])

    everything = staff.get("/admin/catalog/prompt/").content.decode()
    filtered = staff.get(f"/admin/catalog/prompt/?category={counting.pk}").content.decode()
    categories_page = staff.get("/admin/catalog/category/").content.decode()

    row = r'Three apples.*?<td class="field-category_list">Counting</td>'
    assert re.search(row, everything, re.S)
    assert "A sunset" in everything
    assert "Three apples" in filtered
    assert "A cat" not in filtered
    assert "A sunset" not in filtered
    assert f'?category={counting.pk}">1</a>' in categories_page
    assert apples.categories_among([counting]) == [counting]
