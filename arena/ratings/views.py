from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from arena.battles.models import EloRating
from arena.catalog.models import Arena, Category
from arena.ratings.models import MAIN, Rating, RatingRun
from arena.ratings.services import EXPORT_DIR

TEMPLATE = "ratings/leaderboard.html"


@vary_on_headers("HX-Request")
@require_GET
def leaderboard(request: HttpRequest, arena: Arena) -> HttpResponse:
    """The arena's main board, or with ?category=<slug> the board of one of its categories
    (an unknown one is a 404 that says so, with the arena's categories to pick from)."""
    asked = request.GET.get("category", "")
    category = Category.objects.find(arena, asked) if asked else None
    known = not asked or category is not None
    board = category.slug if category else MAIN
    ratings = list(Rating.objects.leaderboard(arena, category=board)) if known else []
    # Live Elo follows every vote of the arena, whatever the prompt: the main board's alone.
    elo = {} if asked else {row.model_id: row for row in EloRating.objects.for_arena(arena)}
    for rating in ratings:
        rating.elo = elo.get(rating.model_id)
    context = {
        "arena": Arena(arena),
        "arenas": list(Arena),
        "established": [rating for rating in ratings if not rating.preliminary],
        "preliminary": [rating for rating in ratings if rating.preliminary],
        "elo_only": [] if ratings or asked else list(EloRating.objects.leaderboard(arena)),
        "run": RatingRun.objects.board(arena, category=board).first() if known else None,
        "min_votes": settings.ARENA_MIN_VOTES,
        "categories": list(Category.objects.for_arena(arena)),
        "category": category,
        "asked_category": asked,
        "category_min_votes": settings.ARENA_CATEGORY_MIN_VOTES,
    }
    # Going back to a swapped-in board, htmx asks for the whole page (it replaces the body).
    swap = request.htmx and not request.htmx.history_restore_request
    template = f"{TEMPLATE}#board" if swap else TEMPLATE
    return render(request, template, context, status=200 if known else 404)


@require_GET
def vote_data(request: HttpRequest) -> HttpResponse:
    """The public vote files, rewritten every night, and how to reproduce the leaderboards."""
    files = []
    for arena in Arena:
        name = f"{EXPORT_DIR}/votes-{arena.value}.jsonl"
        if default_storage.exists(name):
            files.append(
                {
                    "arena": arena,
                    "url": default_storage.url(name),
                    "name": name.rsplit("/", 1)[-1],
                    "size": default_storage.size(name),
                    "modified": default_storage.get_modified_time(name),
                }
            )
    return render(request, "ratings/data.html", {"files": files})
