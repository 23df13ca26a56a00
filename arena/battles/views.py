from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget

from arena.battles.models import Battle, Vote, VoteRejected
from arena.battles.qualities import QUESTIONS
from arena.battles.services import (
    NoBattleAvailable,
    battle_create,
    quality_vote_record,
    vote_allowance_take,
    vote_record,
)
from arena.catalog.images import padded_length, png_padded
from arena.catalog.models import Arena
from arena.visitors import client_ip, visitor_session

TEMPLATE = "battles/battle.html"
QUALITY_STEP = "battles/_quality_step.html"
# What the page shows of a battle's vote.
VOTE_SHOWN = ("choice", "left_elo_before", "left_elo_after", "right_elo_before", "right_elo_after")


def _template(request: HttpRequest) -> str:
    return f"{TEMPLATE}#battle" if request.htmx else TEMPLATE


@never_cache
@vary_on_headers("HX-Request")
@require_GET
def battle_new(request: HttpRequest, arena: Arena) -> HttpResponse:
    try:
        battle = battle_create(arena=arena, session_key=visitor_session(request))
    except NoBattleAvailable:
        template = "battles/empty.html#battle" if request.htmx else "battles/empty.html"
        return render(request, template, {"arena": Arena(arena)})
    return render(request, _template(request), _context(battle, vote=None))


def _context(
    battle: Battle, vote: Vote | None, answers: dict[str, str] | None = None
) -> dict[str, object]:
    nav = "edit" if battle.arena == Arena.EDIT else "vote"
    return {
        "battle": battle,
        "arena": Arena(battle.arena),
        "vote": vote,
        "nav": nav,
        "qualities": _qualities(battle, answers) if vote else None,
    }


def _qualities(battle: Battle, answers: dict[str, str] | None) -> dict[str, object] | None:
    """The quality questions of a voted battle, each with the visitor's answer (a choice) or
    None. `answers` None: read them (a vote just recorded passes {}: it has none yet)."""
    if battle.expired:
        return None
    if answers is None:
        answers = dict(battle.quality_votes.values_list("quality", "choice"))
    questions = QUESTIONS[Arena(battle.arena)]
    return {
        "questions": [
            {"question": question, "answer": answers.get(question.quality)}
            for question in questions
        ],
        "done": all(question.quality in answers for question in questions),
        "first": questions[0].quality,
    }


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def battle_detail(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        return _vote(request, token)
    return _shown(request, token)


def _vote(request: HttpRequest, token: str) -> HttpResponse:
    session_key, ip = visitor_session(request), client_ip(request)
    try:
        vote_allowance_take(session_key=session_key, ip=ip)
        vote = vote_record(
            token=token, session_key=session_key, choice=request.POST.get("choice", ""), ip=ip
        )
    except VoteRejected as exc:
        return _rejected(request, token, exc, slot="#battle-notice")
    if not request.htmx:
        return redirect("battles:detail", token=token)
    return render(request, _template(request), _context(vote.battle, vote, answers={}))


@never_cache
@vary_on_headers("HX-Request")
@require_POST
def quality_vote(request: HttpRequest, token: str) -> HttpResponse:
    """An answer to one quality question after the vote. Without JavaScript the page comes
    back at the questions; with htmx only the questions are swapped."""
    try:
        quality_vote_record(
            token=token,
            session_key=visitor_session(request),
            quality=request.POST.get("quality", ""),
            choice=request.POST.get("choice", ""),
        )
    except VoteRejected as exc:
        return _rejected(request, token, exc, slot="#quality-notice")
    if not request.htmx:
        return redirect(f"{reverse('battles:detail', args=[token])}#quality-step")
    battle = _own_battle(request, token)
    return render(request, QUALITY_STEP, _context(battle, battle.vote))


def _rejected(request: HttpRequest, token: str, exc: VoteRejected, *, slot: str) -> HttpResponse:
    arena = Battle.objects.filter(token=token).values_list("arena", flat=True).first()
    response = render(
        request,
        "battles/rejected.html#notice" if request.htmx else "battles/rejected.html",
        {"message": exc.message, "arena": arena or Arena.T2I},
        status=exc.status,
    )
    return retarget(response, slot) if request.htmx else response


def _shown(request: HttpRequest, token: str) -> HttpResponse:
    battle = _own_battle(request, token)
    return render(request, _template(request), _context(battle, getattr(battle, "vote", None)))


def _own_battle(request: HttpRequest, token: str) -> Battle:
    """The battle behind a token, only for the visitor it was shown to."""
    try:
        return Battle.objects.shown(vote_fields=VOTE_SHOWN).get(
            token=token, session_key=request.session.session_key or ""
        )
    except Battle.DoesNotExist:
        raise Http404("There is no such battle.") from None


@require_GET
def battle_image(request: HttpRequest, token: str, side: str) -> HttpResponse:
    """A battle's image under the battle's token: nothing in the URL or headers names the model."""
    battle = (
        Battle.objects.select_related("prompt", "left", "right")
        .filter(token=token, session_key=request.session.session_key or "")
        .first()
    )
    if battle is None:
        raise Http404("There is no such battle.")
    if side == "source":
        if not battle.prompt.source_image:  # a text-to-image battle has no source
            raise Http404("This battle has no source image.")
        response = _stored_png(battle.prompt.source_image.name, side)
    else:
        response = _battle_side(battle, side)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _battle_side(battle: Battle, side: str) -> HttpResponse:
    """One side of a battle, exactly as long as the other: a length that follows a model's
    style would name it. Stored images are padded to a band, so most pairs are already equal
    and nginx may hand them out; otherwise both sides are padded here. Either way the two
    answers come the same way, with the same headers, whichever side is the shorter."""
    name = battle.generation_on(side).image.name
    sizes = [default_storage.size(battle.generation_on(s).image.name) for s in ("left", "right")]
    if sizes[0] == sizes[1] and settings.ARENA_ACCEL_REDIRECT_PREFIX:
        return _stored_png(name, side)
    with default_storage.open(name, "rb") as stored:
        png = png_padded(stored.read(), padded_length(*sizes))
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{side}.png"'
    return response


def _stored_png(name: str, side: str) -> HttpResponse:
    if settings.ARENA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type="image/png")
        response["X-Accel-Redirect"] = f"{settings.ARENA_ACCEL_REDIRECT_PREFIX.rstrip('/')}/{name}"
        return response
    return FileResponse(
        default_storage.open(name, "rb"), content_type="image/png", filename=f"{side}.png"
    )
