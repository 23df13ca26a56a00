"""The quality questions asked after the main vote, written once: their names (which also name
their leaderboards and vote files), what each arena asks, and the answers a question takes.

A question compares the two images on one quality, so its answers are A, B or "about the same";
"both bad" judges the pair as a whole, which the main vote has already asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from arena.battles.outcomes import Choice
from arena.catalog.models import Arena


class Quality(models.TextChoices):
    ADHERENCE = "adherence", "Follows the prompt"
    AESTHETICS = "aesthetics", "Looks better"
    PRESERVATION = "preservation", "Keeps the rest"


@dataclass(frozen=True, slots=True)
class Question:
    quality: Quality
    label: str  # the name of its leaderboard
    text: str  # what the visitor is asked


# Per arena, in the order they are asked. The first is the arena's adherence question; the
# leaderboard shows where the models' ranks on it and on the second disagree.
QUESTIONS: dict[Arena, tuple[Question, ...]] = {
    Arena.T2I: (
        Question(
            Quality.ADHERENCE, "Follows the prompt", "Which image follows the prompt better?"
        ),
        Question(Quality.AESTHETICS, "Looks better", "Which image looks better?"),
    ),
    Arena.EDIT: (
        Question(
            Quality.ADHERENCE,
            "Follows the instruction",
            "Which edit follows the instruction better?",
        ),
        Question(
            Quality.PRESERVATION,
            "Keeps the rest",
            "Which edit keeps the untouched parts of the picture better?",
        ),
    ),
}

# The answers a quality question takes, in the order the buttons show them.
QUALITY_CHOICES: tuple[Choice, ...] = (Choice.LEFT, Choice.TIE, Choice.RIGHT)


def question_for(arena: str, quality: str) -> Question | None:
    """The question `quality` names in this arena, or None if the arena does not ask it."""
    return next((q for q in QUESTIONS[Arena(arena)] if q.quality == quality), None)
