"""A vote's outcome, written once: what each choice scores, its code in the rating engine's
count table, its label in the public vote files, and what the visitor reads. No Django here:
the rating engine and the vote files read this table too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Choice(enum.StrEnum):
    LEFT = "left"
    RIGHT = "right"
    TIE = "tie"
    BOTH_BAD = "both_bad"


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int  # index along the engine's outcome axis
    left_score: float  # the left model's score: 1 a win, 0 a loss, 0.5 a draw
    winner: str  # the `winner` label of the public vote files (FastChat's)
    label: str  # what the visitor chose, in words


OUTCOMES: dict[Choice, Outcome] = {
    Choice.LEFT: Outcome(code=0, left_score=1.0, winner="model_a", label="A (left) is better"),
    Choice.RIGHT: Outcome(code=1, left_score=0.0, winner="model_b", label="B (right) is better"),
    Choice.TIE: Outcome(code=2, left_score=0.5, winner="tie", label="It's a tie"),
    Choice.BOTH_BAD: Outcome(code=3, left_score=0.5, winner="tie (bothbad)", label="Both are bad"),
}
# The same table by code, for the engine's arrays: OUTCOMES_BY_CODE[code].
OUTCOMES_BY_CODE: tuple[Outcome, ...] = tuple(sorted(OUTCOMES.values(), key=lambda o: o.code))
CHOICES: list[tuple[str, str]] = [(choice.value, OUTCOMES[choice].label) for choice in Choice]
