from django.contrib import admin

from arena.admin import ReadOnlyAdmin
from arena.battles.models import Battle, EloRating, PairingPlan, QualityVote, Vote


@admin.register(Battle)
class BattleAdmin(ReadOnlyAdmin):
    list_display = ["id", "arena", "prompt", "left", "right", "created_at", "expires_at"]
    list_filter = ["arena"]
    list_select_related = ["prompt", "left__model", "right__model"]


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "arena",
        "left_model",
        "right_model",
        "choice",
        "voter",
        "flagged",
        "created_at",
    ]
    list_filter = ["arena", "choice", "flagged"]
    list_select_related = ["left_model", "right_model"]


@admin.register(QualityVote)
class QualityVoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "battle", "quality", "choice", "voter", "created_at"]
    list_filter = ["quality", "choice"]
    list_select_related = ["battle"]


@admin.register(EloRating)
class EloRatingAdmin(ReadOnlyAdmin):
    list_display = ["model", "arena", "rating", "votes", "wins", "losses", "ties"]
    list_filter = ["arena"]
    list_select_related = ["model"]


@admin.register(PairingPlan)
class PairingPlanAdmin(ReadOnlyAdmin):
    list_display = ["arena", "computed_at", "models", "newcomers"]

    @admin.display(description="Models weighed")
    def models(self, plan: PairingPlan) -> int:
        return len(plan.model_ids)
