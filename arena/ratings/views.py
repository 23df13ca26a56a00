from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from arena.battles.matchmaking import VARIETY_BATTLES, VARIETY_MAX
from arena.battles.models import EloRating
from arena.battles.qualities import QUESTIONS, Question, question_for
from arena.battles.sampling import EXPLORATION
from arena.battles.services import anonymous_id
from arena.catalog.models import Arena, Category, Generation, Reliability
from arena.ratings.models import MAIN, PersonalBoard, Rating, RatingRun
from arena.ratings.pairing import NEW_MODEL_BOOST, SETTLED_VOTES
from arena.ratings.personal import PersonalRanking, personal_ranking, shown
from arena.ratings.record import WINDOWS, sampling_record
from arena.ratings.services import (
    EXPORT_DIR,
    NotEnoughVotes,
    personal_board_share,
    vote_file_name,
)

TEMPLATE = "ratings/leaderboard.html"
# The main board lists the models whose ranks on an arena's two quality boards are this far apart.
RANK_GAP = 2


@vary_on_headers("HX-Request")
@require_GET
def leaderboard(request: HttpRequest, arena: Arena) -> HttpResponse:
    """The arena's main board; with ?category=<slug> the board of one of its categories, or
    with ?quality=<name> one quality question's. An unknown one is a 404 (category) or a 400
    (question) that says so, with the boards to pick from."""
    quality = request.GET.get("quality", MAIN)
    question = question_for(arena, quality) if quality else None
    if quality and question is None:
        return render(
            request,
            "ratings/no_board.html#board" if request.htmx else "ratings/no_board.html",
            {"arena": Arena(arena), "questions": QUESTIONS[arena]},
            status=400,
        )
    # A quality question's board spans the arena: it has no category boards.
    asked = "" if quality else request.GET.get("category", "")
    category = Category.objects.find(arena, asked) if asked else None
    known = not asked or category is not None
    board = category.slug if category else MAIN
    ratings = (
        list(Rating.objects.leaderboard(arena, category=board, quality=quality)) if known else []
    )
    # Live Elo follows every main vote of the arena, whatever the prompt: the main board's alone.
    main = not asked and not quality
    elo = {row.model_id: row for row in EloRating.objects.for_arena(arena)} if main else {}
    for rating in ratings:
        rating.elo = elo.get(rating.model_id)
    context = {
        "arena": Arena(arena),
        "arenas": list(Arena),
        "established": [rating for rating in ratings if not rating.preliminary],
        "preliminary": [rating for rating in ratings if rating.preliminary],
        "elo_only": [] if ratings or not main else list(EloRating.objects.leaderboard(arena)),
        "run": (
            RatingRun.objects.board(arena, category=board, quality=quality).first()
            if known
            else None
        ),
        "min_votes": settings.ARENA_MIN_VOTES,
        "categories": list(Category.objects.for_arena(arena)),
        "category": category,
        "asked_category": asked,
        "category_min_votes": settings.ARENA_CATEGORY_MIN_VOTES,
        **_qualities(arena, question, main=main),
        # How images ended is the arena's, whatever the board: shown with the main one.
        "reliability": _reliability(arena) if main else [],
    }
    # Going back to a swapped-in board, htmx asks for the whole page (it replaces the body).
    swap = request.htmx and not request.htmx.history_restore_request
    template = f"{TEMPLATE}#board" if swap else TEMPLATE
    return render(request, template, context, status=200 if known else 404)


def _qualities(arena: Arena, question: Question | None, *, main: bool) -> dict[str, object]:
    """The arena's quality boards, the one shown (None: none) and, on the main board, how the
    models' ranks on the first two compare."""
    questions = QUESTIONS[arena]
    first, second = questions[0], questions[1]
    paired = Rating.objects.paired_ranks(arena, first.quality, second.quality) if main else []
    return {
        "question": question,
        "questions": questions,
        "disagreement": {
            "first": first,
            "second": second,
            "gap": RANK_GAP,
            "rows": [row for row in paired if abs(row[1] - row[2]) >= RANK_GAP],
        }
        if len(paired) > 1
        else None,
    }


# How each model's images ended, for the failures table: counted over every generation of the
# arena, so once per few minutes rather than per view.
RELIABILITY_CACHE_SECONDS = 300


def _reliability(arena: Arena) -> list[Reliability]:
    return cache.get_or_set(
        f"ratings:reliability:{arena}",
        lambda: Generation.objects.filter(prompt__arena=arena).reliability(),
        RELIABILITY_CACHE_SECONDS,
    )


@require_GET
def sampling(request: HttpRequest) -> HttpResponse:
    """The public sampling record: how battles are chosen, and what came of it."""
    records, counted_at = sampling_record()
    context = {
        "records": records,
        "counted_at": counted_at,
        "windows": WINDOWS,
        "exploration": EXPLORATION,
        "floor_share": settings.ARENA_FLOOR_SHARE,
        "boost_max": 1 + NEW_MODEL_BOOST,
        "settled_votes": SETTLED_VOTES,
        "variety_battles": VARIETY_BATTLES,
        "variety_max": VARIETY_MAX,
        "refit_seconds": settings.ARENA_RATINGS_EVERY_SECONDS,
        "refit_after_vote_seconds": settings.ARENA_REFIT_AFTER_VOTE_SECONDS,
    }
    return render(request, "ratings/sampling.html", context)


@require_GET
def vote_data(request: HttpRequest) -> HttpResponse:
    """The public vote files (the main vote's and each quality question's) and how each
    model's generations ended, rewritten every night, and how to reproduce the leaderboards."""
    files = []
    for arena in Arena:
        named = [
            (question, vote_file_name(arena, question.quality if question else MAIN))
            for question in (None, *QUESTIONS[arena])
        ]
        named.append((None, f"{EXPORT_DIR}/generations-{arena.value}.json"))
        for question, name in named:
            if default_storage.exists(name):
                files.append(
                    {
                        "arena": arena,
                        "question": question,
                        "url": default_storage.url(name),
                        "name": name.rsplit("/", 1)[-1],
                        "size": default_storage.size(name),
                        "modified": default_storage.get_modified_time(name),
                    }
                )
    return render(request, "ratings/data.html", {"files": files})


PERSONAL = "ratings/personal.html"
# The session remembers the copy a visitor shared last in each arena, so sharing again
# without a new vote hands back the same link.
SHARED_SESSION_KEY = "personal-shared-{arena}"


@never_cache  # one visitor's own: no cache may keep it
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def personal(request: HttpRequest) -> HttpResponse:
    """The visitor's own leaderboard (GET ?arena=); a POST freezes a copy to share."""
    data = request.POST if request.method == "POST" else request.GET
    arena = _arena(data.get("arena", Arena.T2I.value))
    if arena is None:
        return _personal_page(request, None, error=UNKNOWN_ARENA, status=400)
    session_key = request.session.session_key or ""
    if request.method == "POST":
        remembered = SHARED_SESSION_KEY.format(arena=arena.value)
        try:
            board = personal_board_share(
                arena=arena, session_key=session_key, previous=request.session.get(remembered, "")
            )
        except NotEnoughVotes as exc:
            return _personal_page(request, exc.ranking, error=str(exc), status=400)
        request.session[remembered] = board.token
        return redirect(board)
    voter = anonymous_id(session_key) if session_key else ""
    return _personal_page(request, personal_ranking(arena=arena, voter=voter))


UNKNOWN_ARENA = "There is no such arena: choose Text-to-Image (t2i) or Image Editing (edit)."


def _arena(value: str) -> Arena | None:
    return Arena(value) if value in Arena.values else None


def _personal_page(
    request: HttpRequest, ranking: PersonalRanking | None, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "arena": ranking.arena if ranking else None,
        "arenas": list(Arena),
        "ranking": ranking,
        "error": error,
        **shown(ranking.rows if ranking else []),
    }
    template = f"{PERSONAL}#personal" if request.htmx else PERSONAL
    return render(request, template, context, status=status)


@require_GET
def personal_shared(request: HttpRequest, token: str) -> HttpResponse:
    """A visitor's own leaderboard as they shared it: frozen, and open to anyone."""
    board = get_object_or_404(PersonalBoard, token=token)
    context = {"board": board, "arena": Arena(board.arena), **shown(board.rows)}
    return render(request, "ratings/personal_shared.html", context)
