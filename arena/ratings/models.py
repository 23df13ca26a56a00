from __future__ import annotations

from django.db import models
from django.db.models import F

from arena.catalog.models import AIModel, Arena

ELO_START = 1000.0


class EloRatingQuerySet(models.QuerySet["EloRating"]):
    def for_arena(self, arena: str) -> EloRatingQuerySet:
        return self.filter(arena=arena)

    def leaderboard(self, arena: str) -> EloRatingQuerySet:
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
