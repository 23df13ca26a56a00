"""A battle shows one visitor two anonymous images for one prompt; a vote settles it."""

from __future__ import annotations

import secrets

from django.db import models
from django.urls import reverse
from django.utils import timezone

from arena.catalog.models import AIModel, Arena, Generation, Prompt


class Choice(models.TextChoices):
    LEFT = "left", "A (left) is better"
    RIGHT = "right", "B (right) is better"
    TIE = "tie", "It's a tie"
    BOTH_BAD = "both_bad", "Both are bad"


class VoteRejected(Exception):
    """A vote that cannot be counted; `status` is the HTTP status that explains why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def new_token() -> str:
    return secrets.token_urlsafe(24)


class BattleQuerySet(models.QuerySet["Battle"]):
    def revealed_to(self, session_key: str | None) -> BattleQuerySet:
        """The battles this visitor has voted on: they have seen which models made them."""
        if not session_key:
            return self.none()
        return self.filter(session_key=session_key, vote__isnull=False)


class Battle(models.Model):
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    arena = models.CharField(max_length=8, choices=Arena.choices)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="battles")
    left = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = BattleQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["arena", "created_at"])]

    def __str__(self) -> str:
        return f"battle {self.pk} ({self.arena})"

    def get_absolute_url(self) -> str:
        return reverse("battles:detail", args=[self.token])

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def generation_on(self, side: str) -> Generation:
        return self.left if side == "left" else self.right

    def ensure_votable_by(self, session_key: str) -> None:
        """Raise VoteRejected unless this visitor may vote on this battle now."""
        if self.session_key != session_key:
            raise VoteRejected(
                "This battle was shown to someone else; you cannot vote on it.", 403
            )
        if hasattr(self, "vote"):
            raise VoteRejected("You already voted on this battle.", 409)
        if self.expired:
            raise VoteRejected("This battle has expired. Start a new one to keep voting.", 410)


class Vote(models.Model):
    """One per battle. The models are copied from the battle: rating recomputes read one table."""

    battle = models.OneToOneField(Battle, on_delete=models.CASCADE, related_name="vote")
    arena = models.CharField(max_length=8, choices=Arena.choices)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="votes")
    left_model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    right_model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    voter = models.CharField(
        max_length=32, db_index=True, help_text="Anonymised voter id (keyed hash of the session)."
    )
    ip_hash = models.CharField(max_length=32, blank=True, db_index=True)
    left_elo_before = models.FloatField()
    left_elo_after = models.FloatField()
    right_elo_before = models.FloatField()
    right_elo_after = models.FloatField()
    flagged = models.BooleanField(
        default=False, help_text="Flagged votes are left out of the Bradley-Terry ratings."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["arena", "flagged"])]

    def __str__(self) -> str:
        return f"vote {self.pk}: {self.choice}"

    @property
    def left_elo_delta(self) -> float:
        return self.left_elo_after - self.left_elo_before

    @property
    def right_elo_delta(self) -> float:
        return self.right_elo_after - self.right_elo_before
