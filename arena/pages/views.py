from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_cookie, vary_on_headers

from arena.battles.models import Battle, EloRating, Vote
from arena.catalog.models import AIModel, Arena, Generation, Prompt, Provider
from arena.pages import figures
from arena.pages.index import SORTS, ModelIndexQuery
from arena.ratings.models import Rating

COMPETITION_IMAGES_SHOWN = 48
BEST_FOR_SHOWN = 3


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    leaders = {
        arena: list(Rating.objects.leaderboard(arena).filter(preliminary=False)[:5])
        or list(EloRating.objects.leaderboard(arena)[:5])
        for arena in Arena
    }
    return render(
        request,
        "pages/home.html",
        {
            "leaders": list(leaders.items()),
            "votes": Vote.objects.count(),
            "models": AIModel.objects.active().count(),
            "prompts": Prompt.objects.active().count(),
        },
    )


@vary_on_headers("HX-Request")
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    """Every catalog model, filtered and sorted by the query string; for htmx, just the list."""
    providers = Provider.objects.in_bulk()
    query = ModelIndexQuery(request.GET, providers=list(providers.values()))
    template = "pages/model_list.html#index" if request.htmx else "pages/model_list.html"
    if not query.is_valid():
        context = {"query": query, "problems": query.problems()}
        return render(request, template, context, status=400)
    rows = query.select(figures.model_index(figures.provider_speed(), providers))
    sorts = [(value, label, query.link(sort=value)) for value, label in SORTS]
    context = {"query": query, "rows": rows, "sorts": sorts, "sort": query.sort_by}
    return render(request, template, context)


@require_GET
@vary_on_cookie  # the gallery depends on what this visitor has voted on
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(AIModel, slug=slug)
    ratings = {row.arena: row for row in Rating.objects.main().filter(model=model)}
    elo = {row.arena: row for row in EloRating.objects.filter(model=model)}
    ranked = dict(
        Rating.objects.main()
        .filter(preliminary=False)
        .values("arena")
        .annotate(models=Count("pk"))
        .values_list("arena", "models")
    )
    standings = [
        {
            "arena": arena,
            "rating": ratings.get(arena),
            "elo": elo.get(arena),
            "of": ranked.get(arena.value, 0),
        }
        for arena in Arena
        if model.competes_in(arena) or arena.value in elo
    ]
    speed = figures.provider_speed()
    offerings = [
        (offering, speed.get((model.pk, offering.provider_id)))
        for offering in model.offerings.select_related("provider")
    ]
    charts = [
        {"arena": arena, "id": f"points-{arena}", "points": figures.arena_points(arena, speed)}
        for arena in Arena
        if arena in ratings
    ]
    # Images still in battles stay hidden until this visitor has voted on them: otherwise
    # anyone could look a battle image up here and know its model before voting.
    made = Generation.objects.filter(model=model)
    public = made.public(revealed_battles=Battle.objects.revealed_to(request.session.session_key))
    return render(
        request,
        "pages/model_detail.html",
        {
            "model": model,
            "standings": standings,
            "best_for": Rating.objects.category_ranks(model)[:BEST_FOR_SHOWN],
            "offerings": offerings,
            "charts": charts,
            "speed_days": figures.SPEED_DAYS,
            "images": public.select_related("prompt").order_by(
                "-prompt__active", "prompt__arena", "-prompt__created_at"
            )[:COMPETITION_IMAGES_SHOWN],
            "hidden": made.ready().exclude(pk__in=public.values("pk")).count(),
            "reliability": made.reliability(),
        },
    )
