from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Count
from django.urls import reverse

from arena.catalog.models import AIModel, Arena, Category

# A board is an arena's votes, or a part of them: those on prompts of one category, or the
# answers to one quality question asked after the main vote. The main board is ("", "").
MAIN = ""


class BoardQuerySet[T: models.Model](models.QuerySet[T]):
    def board(
        self, arena: Arena, *, category: str = MAIN, quality: str = MAIN
    ) -> BoardQuerySet[T]:
        return self.filter(arena=arena, category=category, quality=quality)

    def main(self) -> BoardQuerySet[T]:
        """Every arena's main board."""
        return self.filter(category=MAIN, quality=MAIN)


class RatingRun(models.Model):
    """One Bradley-Terry recompute of one board: what went in and what came out as a whole."""

    arena = models.CharField(max_length=8, choices=Arena.choices)
    category = models.CharField(
        max_length=32, blank=True, default=MAIN, help_text="A category's slug; empty: all."
    )
    quality = models.CharField(
        max_length=16, blank=True, default=MAIN, help_text="A quality question; empty: the vote."
    )
    computed_at = models.DateTimeField(db_index=True)
    votes = models.PositiveIntegerField(help_text="Votes counted (flagged votes left out).")
    flagged_votes = models.PositiveIntegerField(default=0)
    bootstrap_rounds = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    left_advantage = models.FloatField(help_text="Extra Elo points the left image gets.")
    left_advantage_low = models.FloatField()
    left_advantage_high = models.FloatField()
    duration_ms = models.FloatField()

    objects = BoardQuerySet.as_manager()

    class Meta:
        get_latest_by = "computed_at"
        ordering = ["-computed_at"]

    def __str__(self) -> str:
        return f"{self.get_arena_display()} at {self.computed_at:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class CategoryRank:
    """A model's place on one category's board, among `of` established models."""

    category: Category
    rating: Rating
    of: int


class RatingQuerySet(BoardQuerySet["Rating"]):
    def leaderboard(
        self, arena: Arena, *, category: str = MAIN, quality: str = MAIN
    ) -> RatingQuerySet:
        return (
            self.board(arena, category=category, quality=quality)
            .select_related("model")
            .order_by("rank", "-rating")
        )

    def category_ranks(self, model: AIModel) -> list[CategoryRank]:
        """Where the model ranks on the category boards it is established on, best first: by
        rank, then by rating (every board's mean is 1000, so a higher one stands further above
        its field): what it is best for."""
        boards = self.filter(quality=MAIN, preliminary=False).exclude(category=MAIN)
        ratings = list(boards.filter(model=model))
        slugs = {rating.category for rating in ratings}
        categories = {(c.arena, c.slug): c for c in Category.objects.filter(slug__in=slugs)}
        sizes = {
            (arena, slug): n
            for arena, slug, n in boards.filter(category__in=slugs)
            .values_list("arena", "category")
            .annotate(n=Count("pk"))
            .order_by()
        }
        ranks = [
            CategoryRank(categories[key], rating, sizes[key])
            for rating in ratings
            if (key := (rating.arena, rating.category)) in categories
        ]
        return sorted(ranks, key=lambda r: (r.rating.rank, -r.rating.rating, r.category.order))

    def paired_ranks(
        self, arena: Arena, first: str, second: str
    ) -> list[tuple[AIModel, int, int]]:
        """(model, rank on the `first` quality board, rank on the `second`) for every model
        established on both, those whose ranks differ most first."""
        boards: dict[int, dict[str, Rating]] = {}
        for row in self.filter(
            arena=arena, category=MAIN, quality__in=[first, second], preliminary=False
        ).select_related("model"):
            boards.setdefault(row.model_id, {})[row.quality] = row
        pairs = [(by[first], by[second]) for by in boards.values() if len(by) == 2]
        return sorted(
            ((a.model, a.rank, b.rank) for a, b in pairs),
            key=lambda row: (-abs(row[1] - row[2]), row[1], row[0].name),
        )


class Rating(models.Model):
    """A model's Bradley-Terry rating on one board, with its 95% interval, from the last run."""

    arena = models.CharField(max_length=8, choices=Arena.choices)
    category = models.CharField(max_length=32, blank=True, default=MAIN)
    quality = models.CharField(max_length=16, blank=True, default=MAIN)
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="ratings")
    rating = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    rank = models.PositiveIntegerField()
    votes = models.PositiveIntegerField()
    preliminary = models.BooleanField(
        default=False, help_text="Fewer votes than ARENA_MIN_VOTES: listed apart."
    )
    computed_at = models.DateTimeField()

    objects = RatingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["arena", "category", "quality", "model"], name="rating_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_id} {self.arena}: {self.rating:.0f}"

    @property
    def plus(self) -> float:
        return self.ci_high - self.rating

    @property
    def minus(self) -> float:
        return self.rating - self.ci_low


class VoterFlag(models.Model):
    """A voter whose votes look unreliable; their votes stay out of the ratings until cleared."""

    class Reason(models.TextChoices):
        CONTRARIAN = "contrarian", "Disagrees with the consensus far more than chance"
        ONE_SIDE = "one_side", "Nearly always picks the same side"

    voter = models.CharField(max_length=32, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    votes = models.PositiveIntegerField()
    detail = models.TextField()
    flagged_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-flagged_at"]

    def __str__(self) -> str:
        return f"voter {self.voter[:8]}: {self.get_reason_display()}"


class FlagPass(models.Model):
    """When the voter-flag pass of an arena last ran: only voters who voted since are judged
    again, so a pass reads the votes of recent voters, not every vote ever cast."""

    arena = models.CharField(max_length=8, choices=Arena.choices, unique=True)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_arena_display()} voters judged at {self.started_at:%Y-%m-%d %H:%M}"


def new_share_token() -> str:
    return secrets.token_urlsafe(16)


class PersonalBoard(models.Model):
    """A frozen copy of one visitor's own leaderboard, shared by its link.

    It holds what the visitor saw and nothing that leads back to them: no session, no voter id,
    no vote; `rows` are the ratings of the models they ranked, each beside the main board's.
    """

    token = models.CharField(max_length=32, unique=True, default=new_share_token, editable=False)
    arena = models.CharField(max_length=8, choices=Arena.choices)
    rows = models.JSONField(help_text="The visitor's ranking, each row beside the main board's.")
    votes = models.PositiveIntegerField(help_text="How many votes the visitor's ranking is from.")
    tau = models.FloatField(
        null=True, blank=True, help_text="Kendall tau with the main board; empty: undefined."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"shared {self.get_arena_display()} board of {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("ratings:personal_shared", args=[self.token])
