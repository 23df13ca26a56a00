from __future__ import annotations

from dataclasses import dataclass

from arena.ratings import elo
from arena.ratings.models import EloRating


@dataclass(frozen=True, slots=True)
class EloChange:
    left_before: float
    left_after: float
    right_before: float
    right_after: float


def elo_apply(
    *, arena: str, left_model_id: int, right_model_id: int, left_score: float
) -> EloChange:
    """Apply one game to the two models' online Elo. Call inside the vote's transaction.

    Both rows are locked before they are read, so concurrent votes never lose an update.
    """
    ids = sorted([left_model_id, right_model_id])
    rows = _locked(arena, ids)
    if len(rows) < 2:
        # Battles create the rows before anyone votes; this is for battles that did not. Rows
        # are created and then locked in model-id order: locking one row and then inserting
        # another could deadlock with a vote doing the opposite.
        elo_rows_ensure(arena=arena, model_ids=ids)
        rows = _locked(arena, ids)
    left, right = rows[left_model_id], rows[right_model_id]
    left_before, right_before = left.rating, right.rating
    left.rating, right.rating = elo.updated(left.rating, right.rating, left_score)
    for row, score in ((left, left_score), (right, 1.0 - left_score)):
        row.votes += 1
        if score == 1.0:
            row.wins += 1
        elif score == 0.0:
            row.losses += 1
        else:
            row.ties += 1
    EloRating.objects.bulk_update([left, right], ["rating", "votes", "wins", "losses", "ties"])
    return EloChange(left_before, left.rating, right_before, right.rating)


def elo_rows_ensure(*, arena: str, model_ids: list[int]) -> None:
    """Create the rating rows these models need in this arena, if they are missing."""
    EloRating.objects.bulk_create(
        [EloRating(arena=arena, model_id=model_id) for model_id in sorted(model_ids)],
        ignore_conflicts=True,
    )


def _locked(arena: str, model_ids: list[int]) -> dict[int, EloRating]:
    rows = (
        EloRating.objects.select_for_update()
        .filter(arena=arena, model_id__in=model_ids)
        .order_by("model_id")
    )
    return {row.model_id: row for row in rows}
