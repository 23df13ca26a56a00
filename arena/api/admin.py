from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from arena.admin import ReadOnlyAdmin
from arena.api.models import ApiKey, ImageJob
from arena.api.services import api_key_create


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "user", "active"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, text = api_key_create(name=obj.name, user_id=obj.user_id)
        obj.pk, obj.prefix, obj.secret_hash = key.pk, key.prefix, key.secret_hash
        self.message_user(
            request,
            f"The key for {key.name} is {text} — copy it now: it is stored only as a hash "
            "and cannot be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.update(active=False)
        self.message_user(request, f"Revoked {count} keys; requests with them are refused.")


@admin.register(ImageJob)
class ImageJobAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "source",
        "api_key",
        "operation",
        "model",
        "size",
        "n",
        "status",
        "provider",
        "attempts",
        "cost",
        "error_kind",
        "runs",
    ]
    list_filter = ["status", "source", "operation", "error_kind", "model"]
    list_select_related = ["model", "api_key"]
    search_fields = ["prompt"]
    date_hierarchy = "created_at"
    # The seed stays out: one the caller did not choose is a secret, like the arena's.
    exclude = ["seed"]
