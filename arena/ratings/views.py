from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from arena.battles.matchmaking import VARIETY_BATTLES, VARIETY_MAX
from arena.battles.models import EloRating
from arena.battles.sampling import EXPLORATION
from arena.catalog.models import Arena
from arena.ratings.models import Rating, RatingRun
from arena.ratings.pairing import NEW_MODEL_BOOST, SETTLED_VOTES
from arena.ratings.record import WINDOWS, sampling_record
from arena.ratings.services import EXPORT_DIR

TEMPLATE = "ratings/leaderboard.html"


@vary_on_headers("HX-Request")
@require_GET
def leaderboard(request: HttpRequest, arena: Arena) -> HttpResponse:
    elo = {row.model_id: row for row in EloRating.objects.for_arena(arena)}
    ratings = list(Rating.objects.leaderboard(arena))
    for rating in ratings:
        rating.elo = elo.get(rating.model_id)
    context = {
        "arena": Arena(arena),
        "arenas": list(Arena),
        "established": [rating for rating in ratings if not rating.preliminary],
        "preliminary": [rating for rating in ratings if rating.preliminary],
        "elo_only": [] if ratings else list(EloRating.objects.leaderboard(arena)),
        "run": RatingRun.objects.board(arena).first(),
        "min_votes": settings.ARENA_MIN_VOTES,
    }
    return render(request, f"{TEMPLATE}#board" if request.htmx else TEMPLATE, context)


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
