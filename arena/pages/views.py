from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_cookie, vary_on_headers

from arena.battles.models import EloRating, Vote
from arena.catalog.models import AIModel, Arena, Competition, Prompt, Provider
from arena.pages import about, figures, showcase
from arena.pages.index import SORTS, ModelIndexQuery
from arena.ratings.models import Rating


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
    # A form submits its empty fields too: the address bar shows the query without them.
    canonical = reverse("pages:model_list") + query.link().rstrip("?")
    if not request.htmx and canonical != request.get_full_path():
        return redirect(canonical)
    rows = query.select(figures.model_index(figures.provider_speed(), providers))
    sorts = [(value, label, query.link(sort=value)) for value, label in SORTS]
    context = {"query": query, "rows": rows, "sorts": sorts, "sort": query.sort_by}
    response = render(request, template, context)
    if request.htmx:
        response["HX-Push-Url"] = canonical
    return response


@require_GET
@vary_on_cookie  # the gallery depends on what this visitor has voted on
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A model's catalogue page, section by section (templates/pages/model/)."""
    model = get_object_or_404(AIModel, slug=slug)
    context: dict[str, Any] = {"model": model}
    context |= about.model_about(model, api_base=about.api_base(request))
    context |= figures.model_figures(model)
    context |= showcase.model_showcase(model, session_key=request.session.session_key)
    return render(request, "pages/model_detail.html", context)


@require_GET
@vary_on_cookie  # what shows depends on what this visitor has voted on
def model_images(request: HttpRequest, slug: str) -> HttpResponse:
    """The model's gallery, a page at a time (?page=N; anything else is the nearest page)."""
    model = get_object_or_404(AIModel, slug=slug)
    page = showcase.gallery_page(
        model, session_key=request.session.session_key, number=request.GET.get("page")
    )
    return render(request, "pages/model_images.html", {"model": model, "page": page})


@require_GET
@vary_on_cookie
def model_image(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One of the model's images, large, with its prompt."""
    model = get_object_or_404(AIModel, slug=slug)
    generation = showcase.gallery_image(model, session_key=request.session.session_key, pk=pk)
    if generation is None:
        raise Http404("No such image, or one still in battles that you have not voted on.")
    return render(request, "pages/model_image.html", {"model": model, "generation": generation})


@require_GET
@vary_on_cookie
def model_competition(request: HttpRequest, slug: str, competition: str) -> HttpResponse:
    """Every prompt of one competition with this model's image beside its opponents'."""
    model = get_object_or_404(AIModel, slug=slug)
    contest = get_object_or_404(Competition, slug=competition)
    page, result = showcase.competition_page(
        model, contest, session_key=request.session.session_key, number=request.GET.get("page")
    )
    if not result.total:
        raise Http404("This model has no images for that competition's prompts.")
    context = {"model": model, "page": page, "result": result}
    return render(request, "pages/model_competition.html", context)
