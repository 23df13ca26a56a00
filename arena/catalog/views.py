from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from arena.battles.models import Vote
from arena.catalog.models import AIModel, Arena, Generation, Offering, Prompt
from arena.ratings.models import EloRating

COMPETITION_IMAGES_SHOWN = 48


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    leaders = {arena: list(EloRating.objects.leaderboard(arena)[:5]) for arena in Arena.values}
    return render(
        request,
        "catalog/home.html",
        {
            "leaders": [(Arena(arena), rows) for arena, rows in leaders.items()],
            "votes": Vote.objects.count(),
            "models": AIModel.objects.active().count(),
            "prompts": Prompt.objects.active().count(),
        },
    )


@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    models = AIModel.objects.prefetch_related(
        Prefetch("elo_ratings", to_attr="ratings"),
        Prefetch("offerings", queryset=Offering.objects.select_related("provider")),
    ).order_by("-active", "name")
    return render(request, "catalog/model_list.html", {"models": models})


@require_GET
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(AIModel, slug=slug)
    standings = []
    for arena in Arena:
        if not model.competes_in(arena):
            continue
        board = list(EloRating.objects.leaderboard(arena))
        rank, rating = next(
            ((i, row) for i, row in enumerate(board, start=1) if row.model_id == model.pk),
            (None, None),
        )
        standings.append({"arena": arena, "rank": rank, "rating": rating, "of": len(board)})
    images = (
        Generation.objects.ready()
        .filter(model=model, prompt__active=True)
        .select_related("prompt")
        .order_by("prompt__arena", "-prompt__created_at")[:COMPETITION_IMAGES_SHOWN]
    )
    return render(
        request,
        "catalog/model_detail.html",
        {
            "model": model,
            "standings": standings,
            "offerings": model.offerings.select_related("provider"),
            "images": images,
        },
    )
