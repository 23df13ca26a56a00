"""A battle shows one visitor two anonymous images for one prompt; a vote settles it."""

from __future__ import annotations

import secrets

import numpy as np
from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from arena.battles.elo import ELO_START
from arena.battles.outcomes import CHOICES, Choice
from arena.battles.qualities import QUALITY_CHOICES, Quality, question_for
from arena.battles.sampling import Plan
from arena.catalog.models import AIModel, Arena, Generation, Prompt

__all__ = ["Battle", "Choice", "EloRating", "PairingPlan", "QualityVote", "Vote", "VoteRejected"]


class VoteRejected(Exception):
    """A vote that cannot be counted; `status` is the HTTP status that explains why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def new_token() -> str:
    return secrets.token_urlsafe(24)


# What a battle's page reads of it (templates/battles/battle.html): the prompt's text, which
# model made each side (named once voted), and what a vote checks. The rest of the four rows
# behind it is left in the database: a vote and its reveal read this once, under the vote's
# lock, and reading them whole (ordered by key, as first() does) was 40% of a vote's CPU.
SHOWN_FIELDS = (
    "token",
    "arena",
    "session_key",
    "expires_at",
    "prompt__text",
    *(
        f"{side}__model__{field}"
        for side in ("left", "right")
        for field in ("slug", "name", "organization")  # templates/battles/_side.html
    ),
)


class BattleQuerySet(models.QuerySet["Battle"]):
    def shown(self, *, vote_fields: tuple[str, ...] = ("id",)) -> BattleQuerySet:
        """Only what a battle's page shows and a vote checks, with these of its vote's fields
        (its id says whether there is one)."""
        return self.select_related("prompt", "left__model", "right__model", "vote").only(
            *SHOWN_FIELDS, *(f"vote__{field}" for field in vote_fields)
        )

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
    session_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = BattleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["arena", "created_at"]),
            # A visitor's battles, read by every battle page: their last few in an arena,
            # newest first (matchmaking's history), and those of the prompt it drew (the
            # renditions they have seen). A visitor who has voted a thousand times costs an
            # index lookup, not a sort of their thousand battles.
            models.Index(fields=["session_key", "arena", "-created_at"], name="battle_visitor"),
            models.Index(fields=["session_key", "prompt"], name="battle_visitor_prompt"),
        ]

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
        self._ensure_shown_to(session_key)
        if hasattr(self, "vote"):
            raise VoteRejected("You already voted on this battle.", 409)
        self._ensure_open()

    def ensure_quality_votable_by(self, session_key: str, quality: str) -> None:
        """Raise VoteRejected unless this visitor may answer this quality question now: one
        the battle's arena asks, after their vote, before the battle expires, once."""
        self._ensure_shown_to(session_key)
        if question_for(self.arena, quality) is None:
            raise VoteRejected(
                f"The {Arena(self.arena).label} arena does not ask that question; "
                "answer one of those shown after your vote.",
                400,
            )
        if not hasattr(self, "vote"):
            raise VoteRejected("Vote on the battle first: these questions come after.", 409)
        self._ensure_open()
        if self.quality_votes.filter(quality=quality).exists():
            raise VoteRejected("You already answered this question for this battle.", 409)

    def _ensure_shown_to(self, session_key: str) -> None:
        if self.session_key != session_key:
            raise VoteRejected(
                "This battle was shown to someone else; you cannot vote on it.", 403
            )

    def _ensure_open(self) -> None:
        if self.expired:
            raise VoteRejected("This battle has expired. Start a new one to keep voting.", 410)


class Vote(models.Model):
    """One per battle. The models are copied from the battle: rating recomputes read one table."""

    battle = models.OneToOneField(Battle, on_delete=models.CASCADE, related_name="vote")
    arena = models.CharField(max_length=8, choices=Arena.choices)
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="votes")
    left_model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    right_model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=8, choices=CHOICES)
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


class QualityVoteQuerySet(models.QuerySet["QualityVote"]):
    def board(self, arena: Arena, quality: str) -> QualityVoteQuerySet:
        """The answers to one question in one arena: a quality leaderboard's votes."""
        return self.filter(battle__arena=arena, quality=quality)

    def counted(self) -> QualityVoteQuerySet:
        """Without the answers of voters flagged as unreliable, left out like their votes."""
        return self.filter(battle__vote__flagged=False)


class QualityVote(models.Model):
    """A voter's answer to one quality question about a battle they voted on, one per battle
    and question. The battle's vote holds the models and whether its voter is flagged."""

    battle = models.ForeignKey(Battle, on_delete=models.CASCADE, related_name="quality_votes")
    quality = models.CharField(max_length=16, choices=Quality.choices)
    choice = models.CharField(
        max_length=8,
        choices=[(value, label) for value, label in CHOICES if value in QUALITY_CHOICES],
    )
    voter = models.CharField(
        max_length=32, help_text="Anonymised voter id (keyed hash of the session), as on the vote."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = QualityVoteQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["battle", "quality"], name="quality_vote_unique")
        ]

    def __str__(self) -> str:
        return f"quality vote {self.pk}: {self.quality} {self.choice}"


class EloRatingQuerySet(models.QuerySet["EloRating"]):
    def for_arena(self, arena: Arena) -> EloRatingQuerySet:
        return self.filter(arena=arena)

    def leaderboard(self, arena: Arena) -> EloRatingQuerySet:
        return (
            self.for_arena(arena)
            .filter(votes__gt=0)
            .select_related("model")
            .order_by("-rating", "model__name")
        )


class EloRating(models.Model):
    """Online Elo of one model in one arena, updated by every vote under a row lock."""

    arena = models.CharField(max_length=8, choices=Arena.choices)
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="elo_ratings")
    rating = models.FloatField(default=ELO_START)
    votes = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)
    ties = models.PositiveIntegerField(default=0)

    objects = EloRatingQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["arena", "model"], name="elo_unique")]
        ordering = [F("rating").desc()]

    def __str__(self) -> str:
        return f"{self.model_id} {self.arena}: {self.rating:.0f}"

    @property
    def win_rate(self) -> float | None:
        """Wins over votes, a tie counting half."""
        if not self.votes:
            return None
        return (self.wins + 0.5 * self.ties) / self.votes


class PairingPlan(models.Model):
    """How battles are chosen in one arena, as the last ratings refit left it: the weight of
    every pair of models it knew, and of each against a model that joined since. Matchmaking
    draws from it; the refit (arena/ratings/pairing.py) writes it."""

    arena = models.CharField(max_length=8, choices=Arena.choices, unique=True)
    model_ids = models.JSONField(help_text="The models the weights are about, in order.")
    weights = models.JSONField(help_text="Pair weights, one row per model.")
    newcomer = models.JSONField(help_text="Each model's weight against a model joined since.")
    newcomers = models.FloatField(help_text="The weight of a pair of two models joined since.")
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_arena_display()} pairing plan of {self.computed_at:%Y-%m-%d %H:%M}"

    def plan(self) -> Plan:
        size = len(self.model_ids)
        return Plan(
            model_ids=tuple(self.model_ids),
            weights=np.asarray(self.weights, dtype=np.float64).reshape(size, size),
            newcomer=np.asarray(self.newcomer, dtype=np.float64),
            newcomers=self.newcomers,
        )
