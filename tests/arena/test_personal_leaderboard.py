"""A visitor's own leaderboard at /leaderboard/me/: the engine on their votes alone, shown
after ARENA_PERSONAL_MIN_VOTES, beside the main board with Kendall tau; a shared copy is frozen
and tells nothing about anyone."""

import html
import re
import urllib.parse
from importlib import import_module

import numpy as np
import pytest
import scipy.stats
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from arena.battles.models import Vote
from arena.battles.outcomes import OUTCOMES, Choice
from arena.battles.services import anonymous_id
from arena.ratings import engine
from arena.ratings.models import PersonalBoard, Rating
from arena.ratings.personal import kendall_tau, personal_ranking
from arena.ratings.services import ratings_recompute
from tests.arena.helpers import open_battle, votes_bulk
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db

SLUGS = ["ace", "bold", "crisp", "dull"]
ROW_FIELDS = {
    "model",
    "name",
    "rank",
    "rating",
    "ci_low",
    "ci_high",
    "votes",
    "main_rank",
    "main_rating",
    "main_ci_low",
    "main_ci_high",
    "main_preliminary",
}


def visitor() -> tuple[Client, str]:
    """A browser with a session of its own, and that session's key."""
    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store.create()
    client = Client()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = store.session_key
    return client, store.session_key


@pytest.fixture
def images():
    """One prompt in each arena with an image by each of four models: slug -> generation."""
    models = [AIModelFactory(slug=slug, name=slug.title(), can_edit=True) for slug in SLUGS]
    prompts = {arena: PromptFactory(arena=arena) for arena in ("t2i", "edit")}
    return {
        arena: {m.slug: GenerationFactory(prompt=prompt, model=m) for m in models}
        for arena, prompt in prompts.items()
    }


def ordered_votes(images, session: str, order: list[str], rounds: int, arena: str = "t2i"):
    """`rounds` votes on every pair, the model earlier in `order` winning, sides alternating;
    one draw per pair in each round of four, so no model only wins or only loses."""
    rows = []
    for k in range(rounds):
        for i, better in enumerate(order):
            for worse in order[i + 1 :]:
                left, right = (better, worse) if k % 2 else (worse, better)
                choice = "tie" if k % 4 == 3 else ("left" if left == better else "right")
                rows.append((images[arena][left], images[arena][right], choice, session))
    return votes_bulk(rows)


def page_rows(page: str) -> list[tuple[str, str]]:
    """(rank, model name) of the first table of a personal board page: the visitor's own."""
    if 'id="yours-title"' not in page:
        return []
    own = page.split('id="yours-title"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="rank">(\d+)</td>\s*<td><a href="[^"]+">([^<]+)</a>', own)


def test_the_personal_fit_is_the_engine_on_that_visitors_votes_only(images, settings):
    _, session = visitor()
    mine = ordered_votes(images, session, ["dull", "crisp", "bold", "ace"], rounds=6)
    ordered_votes(images, "someone-else", SLUGS, rounds=20)  # the opposite opinion, outvoting
    ordered_votes(images, session, SLUGS, rounds=1, arena="edit")  # another arena's votes
    Vote.objects.filter(pk=mine[0].pk).update(flagged=True)  # their own board counts it still

    ranking = personal_ranking(arena="t2i", voter=anonymous_id(session))

    index = {slug: i for i, slug in enumerate(sorted(SLUGS))}
    expected = engine.compute_leaderboard(
        engine.count_votes(
            sorted(SLUGS),
            [index[vote.left_model.slug] for vote in mine],
            [index[vote.right_model.slug] for vote in mine],
            [OUTCOMES[Choice(vote.choice)].code for vote in mine],
        ),
        bootstrap=settings.ARENA_BOOTSTRAP_ROUNDS,
        seed=settings.ARENA_RATINGS_SEED,
    ).rows()
    keys = ("model", "rating", "ci_low", "ci_high", "rank", "votes")
    assert [{k: row[k] for k in keys} for row in ranking.rows] == [
        {k: row[k] for k in keys} for row in expected
    ]
    assert ranking.votes == len(mine) == 36
    assert [row["model"] for row in ranking.rows] == ["dull", "crisp", "bold", "ace"]
    assert all(row["ci_high"] - row["ci_low"] > 100 for row in ranking.rows)  # few votes: wide


def test_before_the_threshold_the_page_counts_the_votes_to_go(images, settings):
    settings.ARENA_VOTES_PER_MINUTE = settings.ARENA_IP_VOTES_PER_MINUTE = 0
    client = Client()
    for _ in range(settings.ARENA_PERSONAL_MIN_VOTES - 1):
        battle = open_battle(client)
        client.post(f"/battle/{battle.token}/", {"choice": "left"})

    page = client.get("/leaderboard/me/").content.decode()

    assert settings.ARENA_PERSONAL_MIN_VOTES == 30
    assert '1 <span class="of">vote to go</span>' in page
    assert "you have cast 29" in page
    assert 'id="yours-title"' not in page

    battle = open_battle(client)
    client.post(f"/battle/{battle.token}/", {"choice": "right"})
    page = client.get("/leaderboard/me/").content.decode()

    assert "to go" not in page
    assert len(page_rows(page)) == 4
    assert "from 30 votes" in page


def test_the_threshold_is_a_setting_and_counts_per_arena(images, settings):
    settings.ARENA_PERSONAL_MIN_VOTES = 12
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=2)  # 12 text-to-image votes

    t2i = client.get("/leaderboard/me/?arena=t2i").content.decode()
    edit = client.get("/leaderboard/me/?arena=edit").content.decode()

    assert len(page_rows(t2i)) == 4
    assert '12 <span class="of">votes to go</span>' in edit


def test_tau_compares_the_orders_of_the_models_both_rank(images):
    client, session = visitor()
    # Everyone: ace > bold > crisp > dull. This visitor swaps bold and crisp: 5 of the 6 pairs
    # agree, 1 is reversed, so tau = (5 - 1) / 6.
    ordered_votes(images, "crowd", SLUGS, rounds=40)
    ratings_recompute(arena="t2i")
    ordered_votes(images, session, ["ace", "crisp", "bold", "dull"], rounds=8)

    ranking = personal_ranking(arena="t2i", voter=anonymous_id(session))
    page = client.get("/leaderboard/me/").content.decode()

    assert ranking.tau == pytest.approx(4 / 6)
    assert "Kendall τ = 0.67" in page
    assert "over the 4 models both rank" in page
    everyone = page.split('id="everyone-title"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'href="/models/([^/]+)/"', everyone) == SLUGS


def test_tau_leaves_out_models_the_main_board_has_not_rated(images):
    _, session = visitor()
    ordered_votes(images, "crowd", SLUGS, rounds=40)
    ratings_recompute(arena="t2i")
    Rating.objects.filter(model__slug="dull").delete()
    ordered_votes(images, session, ["dull", "ace", "crisp", "bold"], rounds=8)

    ranking = personal_ranking(arena="t2i", voter=anonymous_id(session))

    # Over ace, bold, crisp: the visitor has (ace, crisp, bold), everyone (ace, bold, crisp).
    assert ranking.tau == pytest.approx(1 / 3)
    assert {row["model"]: row["main_rating"] for row in ranking.rows}["dull"] is None


@pytest.mark.parametrize("seed", range(5))
def test_kendall_tau_is_scipys_tau_b_ties_included(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 4, 9).astype(float), rng.integers(0, 4, 9).astype(float)

    assert kendall_tau(a, b) == pytest.approx(scipy.stats.kendalltau(a, b).statistic)


def test_kendall_tau_is_undefined_without_two_distinct_values():
    assert kendall_tau([1000.0], [990.0]) is None
    assert kendall_tau([1000.0, 1000.0, 1000.0], [3.0, 2.0, 1.0]) is None
    assert kendall_tau([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == -1.0


def shared_part(page: str) -> str:
    """The page without what changes per request (the CSRF token in the body tag)."""
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def test_a_shared_copy_is_frozen_and_open_to_anyone(images):
    client, session = visitor()
    ordered_votes(images, "crowd", SLUGS, rounds=40)
    ratings_recompute(arena="t2i")
    ordered_votes(images, session, ["ace", "crisp", "bold", "dull"], rounds=5)
    live = client.get("/leaderboard/me/").content.decode()

    response = client.post("/leaderboard/me/", {"arena": "t2i"})

    board = PersonalBoard.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leaderboard/me/{board.token}/"
    stranger = Client()
    frozen = shared_part(stranger.get(response["Location"]).content.decode())
    assert page_rows(frozen) == page_rows(live)
    assert "Kendall τ = 0.67" in frozen

    ordered_votes(images, session, ["dull", "bold", "crisp", "ace"], rounds=20)
    ordered_votes(images, "crowd", ["dull", "crisp", "bold", "ace"], rounds=80)
    ratings_recompute(arena="t2i")

    assert page_rows(client.get("/leaderboard/me/").content.decode()) != page_rows(live)
    assert shared_part(stranger.get(response["Location"]).content.decode()) == frozen


def test_a_shared_copy_holds_the_ranking_and_nothing_that_leads_to_anyone(images):
    client, session = visitor()
    ordered_votes(images, "crowd", SLUGS, rounds=40)
    ratings_recompute(arena="t2i")
    ordered_votes(images, session, SLUGS, rounds=5)

    location = client.post("/leaderboard/me/", {"arena": "t2i"})["Location"]
    board = PersonalBoard.objects.get()
    page = html.unescape(Client().get(location).content.decode())

    assert all(set(row) == ROW_FIELDS for row in board.rows)
    assert {f.name for f in PersonalBoard._meta.fields} == {
        "id",
        "token",
        "arena",
        "rows",
        "votes",
        "tau",
        "created_at",
    }
    secrets = [session, anonymous_id(session), anonymous_id("crowd"), "crowd"]
    assert not [secret for secret in secrets if secret in page]
    assert not [secret for secret in secrets if secret in str(board.rows)]
    assert "from 30 votes" in page


def test_sharing_again_without_a_new_vote_hands_back_the_same_link(images):
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=5)

    first = client.post("/leaderboard/me/", {"arena": "t2i"})["Location"]
    again = client.post("/leaderboard/me/", {"arena": "t2i"})["Location"]
    ordered_votes(images, session, SLUGS, rounds=1)
    after_a_vote = client.post("/leaderboard/me/", {"arena": "t2i"})["Location"]

    assert first == again != after_a_vote
    assert PersonalBoard.objects.count() == 2


def test_sharing_before_the_threshold_is_refused_with_a_reason(images):
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=2)

    response = client.post("/leaderboard/me/", {"arena": "t2i"})

    assert response.status_code == 400
    assert "after 30 votes in that arena; you have cast 12. Vote 18 more times" in (
        html.unescape(response.content.decode())
    )
    assert not PersonalBoard.objects.exists()


def test_an_unknown_arena_is_refused_with_a_reason(images):
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=5)

    pages = [
        client.get("/leaderboard/me/?arena=video"),
        client.post("/leaderboard/me/", {"arena": "video"}),
    ]

    assert [page.status_code for page in pages] == [400, 400]
    assert all("There is no such arena" in page.content.decode() for page in pages)
    assert not PersonalBoard.objects.exists()


def test_another_visitor_cannot_see_your_live_board(images):
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=5)
    other, _ = visitor()

    mine = client.get("/leaderboard/me/").content.decode()
    theirs = other.get("/leaderboard/me/").content.decode()
    anonymous = Client().get("/leaderboard/me/").content.decode()

    assert len(page_rows(mine)) == 4
    for page in (theirs, anonymous):
        assert '30 <span class="of">votes to go</span>' in page
        assert not page_rows(page)


def test_the_live_board_is_never_cached_and_says_it_varies_with_htmx(images):
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=5)

    response = client.get("/leaderboard/me/?arena=t2i")
    partial = client.get("/leaderboard/me/?arena=t2i", headers={"HX-Request": "true"})

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]
    assert partial.content.decode().lstrip().startswith('<section id="personal"')
    assert page_rows(partial.content.decode()) == page_rows(response.content.decode())


@pytest.mark.parametrize("token", ["nope", "A" * 22, "A" * 500, "-_-", "0123456789abcdefghijkl"])
def test_a_forged_or_unknown_token_is_a_404(images, token):
    assert Client().get(f"/leaderboard/me/{token}/").status_code == 404


def test_the_leaderboard_leads_to_the_personal_board(images):
    for arena in ("t2i", "edit"):
        page = Client().get(f"/leaderboard/{arena}/").content.decode()
        assert f'href="/leaderboard/me/?arena={arena}"' in page


def test_the_board_costs_the_same_few_queries_at_any_number_of_votes(
    images, django_assert_max_num_queries, settings
):
    # Sessions and fits in a cache of the process, as with Redis: no cache queries counted.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client, session = visitor()
    ordered_votes(images, "crowd", SLUGS, rounds=10)
    ratings_recompute(arena="t2i")
    ordered_votes(images, session, SLUGS, rounds=5)
    with django_assert_max_num_queries(3):  # count table, main board, names
        client.get("/leaderboard/me/")

    ordered_votes(images, session, SLUGS, rounds=100)
    with django_assert_max_num_queries(3):
        page = client.get("/leaderboard/me/").content.decode()
    assert "from 630 votes" in page


FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
wire_text = st.text(st.characters(codec="utf-8"), max_size=40)


@FUZZ
@given(arena=wire_text | st.sampled_from(["t2i", "edit", "T2I", " t2i"]), token=wire_text)
def test_any_arena_or_token_is_answered_without_a_server_error(images, arena, token):
    client = Client()
    responses = [
        client.get("/leaderboard/me/", {"arena": arena}),
        client.post("/leaderboard/me/", {"arena": arena}),
        client.get(f"/leaderboard/me/{urllib.parse.quote(token, safe='')}/"),
    ]

    assert all(response.status_code < 500 for response in responses)
    assert not PersonalBoard.objects.exists()


def test_showing_the_same_votes_again_fits_them_once(images, monkeypatch):
    client, session = visitor()
    ordered_votes(images, session, SLUGS, rounds=5)
    fits = []
    fit = engine.compute_leaderboard

    def counted(*args, **kwargs):
        fits.append(args[0].total)
        return fit(*args, **kwargs)

    monkeypatch.setattr(engine, "compute_leaderboard", counted)

    first = client.get("/leaderboard/me/").content.decode()
    again = client.get("/leaderboard/me/").content.decode()
    ordered_votes(images, session, SLUGS, rounds=1)
    after_a_vote = client.get("/leaderboard/me/").content.decode()

    assert fits == [30, 36]
    assert page_rows(first) == page_rows(again)
    assert "from 36 votes" in after_a_vote
