"""Writes for battles: showing a visitor a battle, and recording their vote."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arena.battles.matchmaking import battle_pick
from arena.battles.models import Battle, Choice, Vote, VoteRejected
from arena.ratelimit import allowance_take
from arena.ratings.services import elo_apply, elo_rows_ensure

LEFT_SCORE = {Choice.LEFT: 1.0, Choice.RIGHT: 0.0, Choice.TIE: 0.5, Choice.BOTH_BAD: 0.5}


class NoBattleAvailable(Exception):
    """No prompt has two ready images yet in this arena."""


def battle_create(*, arena: str, session_key: str) -> Battle:
    pick = battle_pick(arena=arena, session_key=session_key)
    if pick is None:
        raise NoBattleAvailable(arena)
    left, right = pick
    elo_rows_ensure(arena=arena, model_ids=[left.model_id, right.model_id])
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
    nothing is stored then.
    """
    try:
        choice = Choice(choice)
    except ValueError:
        raise VoteRejected("Choose left, right, tie or both_bad.", 400) from None
    with transaction.atomic():
        battle = (
            Battle.objects.select_for_update(of=("self",))
            .select_related("prompt", "left__model", "right__model", "vote")
            .filter(token=token)
            .first()
        )
        if battle is None:
            raise VoteRejected("There is no such battle. Start a new one to vote.", 404)
        battle.ensure_votable_by(session_key)
        change = elo_apply(
            arena=battle.arena,
            left_model_id=battle.left.model_id,
            right_model_id=battle.right.model_id,
            left_score=LEFT_SCORE[choice],
        )
        return Vote.objects.create(
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


def vote_allowance_take(*, session_key: str, ip: str) -> None:
    """Count one vote against every vote cap, or raise VoteRejected (429) naming the one
    exceeded."""
    refused = allowance_take("vote", session=session_key, ip=ip)
    if refused:
        raise VoteRejected(refused.sentence, 429)


def anonymous_id(value: str) -> str:
    """A stable pseudonym for a session or address that cannot be turned back into it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
