from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from arena.catalog.models import Arena
from arena.ratings.models import EloRating

TEMPLATE = "ratings/leaderboard.html"


@vary_on_headers("HX-Request")
@require_GET
def leaderboard(request: HttpRequest, arena: str) -> HttpResponse:
    context = {
        "arena": Arena(arena),
        "arenas": list(Arena),
        "rows": EloRating.objects.leaderboard(arena),
    }
    return render(request, f"{TEMPLATE}#board" if request.htmx else TEMPLATE, context)
