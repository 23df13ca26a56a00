"""Writes for battles: showing a visitor a battle, and recording their vote."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arena.battles import elo
from arena.battles.matchmaking import battle_pick, matchmaking_changed
from arena.battles.models import (
    Battle,
    Choice,
    EloRating,
    PairingPlan,
    QualityVote,
    Vote,
    VoteRejected,
)
from arena.battles.outcomes import OUTCOMES
from arena.battles.qualities import QUALITY_CHOICES, Quality
from arena.battles.signals import vote_recorded
from arena.catalog.models import Arena
from arena.ratelimit import allowance_take


class NoBattleAvailable(Exception):
    """No prompt has two ready images yet in this arena."""


def battle_create(*, arena: Arena, session_key: str) -> Battle:
    pick = battle_pick(arena=arena, session_key=session_key)
    if pick is None:
        raise NoBattleAvailable(arena)
    left, right = pick
    unrated = [m for m in (left.model_id, right.model_id) if (arena, m) not in _rated]
    if unrated:
        elo_rows_ensure(arena=arena, model_ids=unrated)
    now = timezone.now()
    return Battle.objects.create(
        arena=arena,
        prompt=left.prompt,
        left=left,
        right=right,
        session_key=session_key,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.ARENA_BATTLE_TTL_SECONDS),
    )


def vote_record(*, token: str, session_key: str, choice: str, ip: str = "") -> Vote:
    """Count one visitor's vote on their battle and move both models' Elo, atomically.

    Raises VoteRejected (with an HTTP status and a sentence for the visitor) for an unknown
    token, another visitor's battle, a second vote, an expired battle or an unknown choice;
    nothing is stored then. Once the vote commits, `vote_recorded` says so.
    """
    try:
        choice = Choice(choice)
    except ValueError:
        raise VoteRejected("Choose left, right, tie or both_bad.", 400) from None
    with transaction.atomic():
        try:
            # get(), not first(): ordering by the key cost as much CPU as the rest of the query.
            battle = Battle.objects.select_for_update(of=("self",)).shown().get(token=token)
        except Battle.DoesNotExist:
            raise VoteRejected("There is no such battle. Start a new one to vote.", 404) from None
        battle.ensure_votable_by(session_key)
        change = elo_apply(
            arena=battle.arena,
            left_model_id=battle.left.model_id,
            right_model_id=battle.right.model_id,
            left_score=OUTCOMES[choice].left_score,
        )
        vote = Vote.objects.create(
            battle=battle,
            arena=battle.arena,
            prompt_id=battle.prompt_id,
            left_model_id=battle.left.model_id,
            right_model_id=battle.right.model_id,
            choice=choice,
            voter=anonymous_id(session_key),
            ip_hash=anonymous_id(ip) if ip else "",
            left_elo_before=change.left_before,
            left_elo_after=change.left_after,
            right_elo_before=change.right_before,
            right_elo_after=change.right_after,
        )
        # Robust: the vote is stored whatever a listener does with the news.
        transaction.on_commit(
            partial(vote_recorded.send, sender=Vote, arena=Arena(vote.arena), vote_id=vote.pk),
            robust=True,
        )
    return vote


def quality_vote_record(*, token: str, session_key: str, quality: str, choice: str) -> QualityVote:
    """Store a visitor's answer to one quality question about the battle they just voted on.

    Raises VoteRejected (with an HTTP status and a sentence for the visitor) for an unknown
    question or answer, an unknown token, another visitor's battle, a question the battle's
    arena does not ask, a battle not voted on yet, an expired battle or a second answer;
    nothing is stored then.
    """
    if choice not in QUALITY_CHOICES:
        raise VoteRejected("Choose left, right or tie.", 400)
    if quality not in Quality.values:
        raise VoteRejected(
            "There is no such question; answer one of those shown after your vote.", 400
        )
    with transaction.atomic():
        # The lock makes a second answer to the same question wait, and then see the first.
        battle = (
            Battle.objects.select_for_update(of=("self",))
            .select_related("vote")
            .filter(token=token)
            .first()
        )
        if battle is None:
            raise VoteRejected("There is no such battle. Start a new one to vote.", 404)
        battle.ensure_quality_votable_by(session_key, quality)
        return QualityVote.objects.create(
            battle=battle, quality=quality, choice=choice, voter=anonymous_id(session_key)
        )


def pairing_plan_store(
    *,
    arena: Arena,
    model_ids: list[int],
    weights: np.ndarray,
    newcomer: np.ndarray,
    newcomers: float,
) -> PairingPlan:
    """Keep a ratings refit's pair weights as the arena's pairing plan, and have every process
    rebuild its battle pool from it."""
    plan, _ = PairingPlan.objects.update_or_create(
        arena=arena,
        defaults={
            "model_ids": model_ids,
            "weights": weights.tolist(),
            "newcomer": newcomer.tolist(),
            "newcomers": newcomers,
            "computed_at": timezone.now(),
        },
    )
    matchmaking_changed()
    return plan


def vote_allowance_take(*, session_key: str, ip: str) -> None:
    """Count one vote against every vote cap, or raise VoteRejected (429) naming the one
    exceeded."""
    refused = allowance_take("vote", session=session_key, ip=ip).refused
    if refused:
        raise VoteRejected(refused.cap.sentence, 429)


@dataclass(frozen=True, slots=True)
class EloChange:
    left_before: float
    left_after: float
    right_before: float
    right_after: float


def elo_apply(
    *, arena: Arena, left_model_id: int, right_model_id: int, left_score: float
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
    # One UPDATE per row: bulk_update's single statement is built from CASE expressions that
    # cost about 2 ms of CPU per vote, several times the extra round trip; and an update of the
    # locked row rather than save(), whose signals and field walk cost as much again
    # (python -m tests.bench load).
    for row in (left, right):
        EloRating.objects.filter(pk=row.pk).update(
            rating=row.rating, votes=row.votes, wins=row.wins, losses=row.losses, ties=row.ties
        )
    return EloChange(left_before, left.rating, right_before, right.rating)


# The (arena, model) rating rows this process has seen made: a battle page makes them only
# once per process, not on every page. A row deleted since is made again by the vote
# (elo_apply), so the set only saves work.
_rated: set[tuple[str, int]] = set()


def elo_rows_ensure(*, arena: Arena, model_ids: list[int]) -> None:
    """Create the rating rows these models need in this arena, if they are missing."""
    EloRating.objects.bulk_create(
        [EloRating(arena=arena, model_id=model_id) for model_id in sorted(model_ids)],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: _rated.update((arena, m) for m in model_ids))


def _locked(arena: Arena, model_ids: list[int]) -> dict[int, EloRating]:
    rows = (
        EloRating.objects.select_for_update()
        .filter(arena=arena, model_id__in=model_ids)
        .order_by("model_id")
    )
    return {row.model_id: row for row in rows}


def anonymous_id(value: str) -> str:
    """A stable pseudonym for a session or address that cannot be turned back into it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
