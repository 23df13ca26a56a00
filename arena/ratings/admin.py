from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path

from arena.admin import ReadOnlyAdmin
from arena.ratings.models import Rating, RatingRun, VoterFlag
from arena.ratings.services import ratings_refresh_request, voter_flags_clear


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = [
        "model",
        "arena",
        "category",
        "quality",
        "rank",
        "rating",
        "ci_low",
        "ci_high",
        "votes",
        "preliminary",
    ]
    list_filter = ["arena", "category", "quality", "preliminary"]
    list_select_related = ["model"]
    ordering = ["arena", "rank"]


@admin.register(RatingRun)
class RatingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "computed_at",
        "arena",
        "category",
        "quality",
        "votes",
        "flagged_votes",
        "left_advantage",
        "duration_ms",
    ]
    list_filter = ["arena", "category", "quality"]
    change_list_template = "admin/ratings/ratingrun/change_list.html"

    def get_urls(self) -> list:  # type: ignore[type-arg]
        return [
            path(
                "recompute/",
                self.admin_site.admin_view(self.recompute_view),
                name="ratings_ratingrun_recompute",
            ),
            *super().get_urls(),
        ]

    def recompute_view(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            ratings_refresh_request()
            self.message_user(request, "Recomputing the ratings of both arenas.")
        return redirect("admin:ratings_ratingrun_changelist")


@admin.register(VoterFlag)
class VoterFlagAdmin(admin.ModelAdmin):
    list_display = ["voter", "reason", "votes", "detail", "flagged_at", "cleared_at", "cleared_by"]
    list_filter = ["reason", ("cleared_at", admin.EmptyFieldListFilter)]
    readonly_fields = [
        "voter",
        "reason",
        "votes",
        "detail",
        "flagged_at",
        "cleared_at",
        "cleared_by",
    ]
    actions = ["clear"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Clear the flag: count these voters' votes again")
    def clear(self, request: HttpRequest, queryset: QuerySet[VoterFlag]) -> None:
        count = voter_flags_clear(
            flag_ids=list(queryset.values_list("pk", flat=True)), user_id=request.user.pk
        )
        self.message_user(
            request, f"Cleared {count} flags; their votes count from the next recompute."
        )
