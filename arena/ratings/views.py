from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from arena.battles.models import EloRating
from arena.battles.qualities import QUESTIONS, Question, question_for
from arena.catalog.models import Arena, Category
from arena.ratings.models import MAIN, Rating, RatingRun
from arena.ratings.services import vote_file_name

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


@require_GET
def vote_data(request: HttpRequest) -> HttpResponse:
    """The public vote files (the main vote's and each quality question's), rewritten every
    night, and how to reproduce the leaderboards."""
    files = []
    for arena in Arena:
        for question in (None, *QUESTIONS[arena]):
            name = vote_file_name(arena, question.quality if question else MAIN)
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
