from django.contrib import admin

from arena.ratings.models import EloRating


@admin.register(EloRating)
class EloRatingAdmin(admin.ModelAdmin):
    list_display = ["model", "arena", "rating", "votes", "wins", "losses", "ties"]
    list_filter = ["arena"]
    list_select_related = ["model"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
