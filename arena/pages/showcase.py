"""The model page's images: its competition results and its gallery.

Images still in battles stay hidden until this visitor has voted on them: otherwise anyone
could look a battle image up here and know its model before voting. Every image read here goes
through `Generation.objects.public`, this model's and its opponents' alike; a hidden one is
counted, never named, linked or sized.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from arena.battles.models import Battle, Vote
from arena.battles.outcomes import OUTCOMES
from arena.catalog.models import AIModel, Competition, Generation, Prompt

GALLERY_PAGE_SIZE = 12  # the model page shows the gallery's first page
COMPETITION_PROMPTS_SHOWN = 6  # per competition on the model page; its own page shows them all
COMPETITION_PAGE_SIZE = 24

# A vote's score for each side, from the one table that says what a choice is worth.
_LEFT_WINS = [choice for choice, outcome in OUTCOMES.items() if outcome.left_score == 1]
_RIGHT_WINS = [choice for choice, outcome in OUTCOMES.items() if outcome.left_score == 0]
_DRAWS = [choice for choice, outcome in OUTCOMES.items() if 0 < outcome.left_score < 1]


@dataclass(frozen=True, slots=True)
class PromptRecord:
    """How one model fared in the battles of one prompt: a win counts 1, a tie or "both bad"
    a half, as in the ratings. Flagged votes are left out, as the ratings leave them out."""

    votes: int
    wins: int
    draws: int

    @property
    def win_percent(self) -> float:
        return 100 * (self.wins + 0.5 * self.draws) / self.votes

    @property
    def losses(self) -> int:
        return self.votes - self.wins - self.draws


@dataclass(frozen=True, slots=True)
class PromptResult:
    """One competition prompt as the model page shows it to one visitor."""

    prompt: Prompt
    own: Generation | None  # this model's image, when this visitor may see it
    opponents: list[Generation]  # one visible image per other model, by model name
    opponents_hidden: int  # other models whose image this visitor may not see yet
    record: PromptRecord | None  # None: no votes yet


@dataclass(frozen=True, slots=True)
class CompetitionResults:
    """A competition's prompts on a model page, or on a page of its own."""

    competition: Competition
    prompts: list[PromptResult]
    total: int  # the competition's prompts this model has an image for

    @property
    def more(self) -> int:
        return self.total - len(self.prompts)


def model_showcase(model: AIModel, *, session_key: str | None) -> dict[str, Any]:
    """The context of the competitions and gallery sections of the model page."""
    revealed = Battle.objects.revealed_to(session_key)
    made = Generation.objects.filter(model=model)
    public = made.public(revealed_battles=revealed)
    return {
        "images": _gallery_order(public)[:GALLERY_PAGE_SIZE],
        "image_count": public.count(),
        "hidden": made.ready().exclude(pk__in=public.values("pk")).count(),
        "competitions": competition_results(
            model, revealed=revealed, prompts_each=COMPETITION_PROMPTS_SHOWN
        ),
    }


def gallery_page(model: AIModel, *, session_key: str | None, number: object) -> Page:
    """One page of the model's visible images; any `number` that is no page is clamped."""
    visible = _gallery_order(_visible(model, session_key))
    return Paginator(visible, GALLERY_PAGE_SIZE).get_page(number)


def gallery_image(model: AIModel, *, session_key: str | None, pk: int) -> Generation | None:
    """One of the model's images, if this visitor may see it (None otherwise, as for an image
    that does not exist, so the answer tells nothing)."""
    return _visible(model, session_key).select_related("prompt").filter(pk=pk).first()


def competition_page(
    model: AIModel, competition: Competition, *, session_key: str | None, number: object
) -> tuple[Page, CompetitionResults]:
    """Every prompt of one competition that this model has an image for, a page at a time."""
    pairs = _entered(model, Competition.objects.filter(pk=competition.pk))
    page = Paginator(pairs, COMPETITION_PAGE_SIZE).get_page(number)
    prompt_ids = [prompt_id for _, prompt_id in page.object_list]
    results = _prompt_results(model, prompt_ids, revealed=Battle.objects.revealed_to(session_key))
    shown = [results[pk] for pk in prompt_ids]
    return page, CompetitionResults(competition=competition, prompts=shown, total=len(pairs))


def competition_results(
    model: AIModel, *, revealed: QuerySet[Battle], prompts_each: int
) -> list[CompetitionResults]:
    """The competitions this model has images for, each with its first `prompts_each` prompts
    (newest first). Six queries, however many competitions, prompts and models."""
    competitions = list(Competition.objects.entered_by(model))
    if not competitions:
        return []
    by_competition: dict[int, list[int]] = defaultdict(list)
    for competition_id, prompt_id in _entered(model, competitions):
        by_competition[competition_id].append(prompt_id)
    shown = {pk: prompt_ids[:prompts_each] for pk, prompt_ids in by_competition.items()}
    results = _prompt_results(
        model, {pk for ids in shown.values() for pk in ids}, revealed=revealed
    )
    return [
        CompetitionResults(
            competition=competition,
            prompts=[results[pk] for pk in shown[competition.pk]],
            total=len(by_competition[competition.pk]),
        )
        for competition in competitions
    ]


def _visible(model: AIModel, session_key: str | None) -> QuerySet[Generation]:
    revealed = Battle.objects.revealed_to(session_key)
    return Generation.objects.filter(model=model).public(revealed_battles=revealed)


def _gallery_order(generations: QuerySet[Generation]) -> QuerySet[Generation]:
    # Retired prompts first (public to all), then the newest; the pk makes pages stable.
    return generations.select_related("prompt").order_by(
        "-prompt__active", "prompt__arena", "-prompt__created_at", "rendition", "pk"
    )


def _entered(model: AIModel, competitions: Iterable[Competition]) -> list[tuple[int, int]]:
    """(competition id, prompt id) of the competitions' prompts this model has a ready image
    for, newest prompt first within each competition."""
    made = Generation.objects.ready().filter(model=model)
    return list(
        Competition.prompts.through.objects.filter(
            competition__in=competitions, prompt__in=made.values("prompt")
        )
        .order_by("competition_id", "-prompt__created_at", "-prompt_id")
        .values_list("competition_id", "prompt_id")
    )


def _prompt_results(
    model: AIModel, prompt_ids: Iterable[int], *, revealed: QuerySet[Battle]
) -> dict[int, PromptResult]:
    """Each prompt with the images this visitor may see and the model's record. Four queries."""
    prompt_ids = list(prompt_ids)
    if not prompt_ids:
        return {}
    prompts = Prompt.objects.in_bulk(prompt_ids)
    made = Generation.objects.filter(prompt_id__in=prompt_ids)
    own: dict[int, Generation] = {}
    opponents: dict[int, dict[int, Generation]] = defaultdict(dict)
    for generation in (
        made.public(revealed_battles=revealed)
        .select_related("model")
        .order_by("model__name", "model_id", "rendition", "pk")
    ):
        if generation.model_id == model.pk:
            own.setdefault(generation.prompt_id, generation)
        else:
            opponents[generation.prompt_id].setdefault(generation.model_id, generation)
    entrants = made.ready().exclude(model=model).order_by().values_list("prompt_id", "model_id")
    hidden: dict[int, int] = defaultdict(int)
    for prompt_id, model_id in entrants.distinct():
        if model_id not in opponents[prompt_id]:
            hidden[prompt_id] += 1
    records = _records(model, prompt_ids)
    return {
        pk: PromptResult(
            prompt=prompts[pk],
            own=own.get(pk),
            opponents=list(opponents[pk].values()),
            opponents_hidden=hidden[pk],
            record=records.get(pk),
        )
        for pk in prompt_ids
    }


def _records(model: AIModel, prompt_ids: list[int]) -> dict[int, PromptRecord]:
    """The model's record on each prompt, in one aggregate query."""
    rows = (
        Vote.objects.filter(prompt_id__in=prompt_ids, flagged=False)
        .filter(Q(left_model=model) | Q(right_model=model))
        .exclude(left_model=model, right_model=model)
        .order_by()
        .values("prompt_id")
        .annotate(
            votes=Count("pk"),
            wins=Count(
                "pk",
                filter=Q(left_model=model, choice__in=_LEFT_WINS)
                | Q(right_model=model, choice__in=_RIGHT_WINS),
            ),
            draws=Count("pk", filter=Q(choice__in=_DRAWS)),
        )
    )
    return {
        row["prompt_id"]: PromptRecord(votes=row["votes"], wins=row["wins"], draws=row["draws"])
        for row in rows
    }
