from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from arena.admin import ReadOnlyAdmin
from arena.api.models import ApiKey, ImageJob, JobDelivery
from arena.api.services import api_key_create, api_keys_revoke
from arena.api.webhooks import api_key_webhook_secret_rotate


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    fields = ["name", "user", "active", "webhook_secret"]
    # Shown so the key's owner can check the signatures of the webhooks of its async jobs.
    readonly_fields = ["webhook_secret"]
    actions = ["revoke", "rotate_webhook_secret"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, text = api_key_create(name=obj.name, user_id=obj.user_id)
        obj.pk, obj.prefix, obj.secret_hash = key.pk, key.prefix, key.secret_hash
        obj.webhook_secret = key.webhook_secret
        self.message_user(
            request,
            f"The key for {key.name} is {text} — copy it now: it is stored only as a hash "
            "and cannot be shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_keys_revoke(key_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Revoked {count} keys; requests with them are refused.")

    @admin.action(description="Rotate the webhook secrets of the selected keys")
    def rotate_webhook_secret(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_webhook_secret_rotate(key_id=key.pk)
        self.message_user(
            request,
            f"Rotated the webhook secrets of {len(queryset)} keys: webhooks are signed with the "
            "new ones from now on, so their receivers need them.",
        )


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


@admin.register(JobDelivery)
class JobDeliveryAdmin(ReadOnlyAdmin):
    """Async jobs and how their webhooks fared: what a key's owner asks about first."""

    list_display = [
        "job",
        "webhook",
        "webhook_attempts",
        "webhook_due_at",
        "webhook_delivered_at",
        "webhook_error",
    ]
    list_select_related = ["job__model"]
    search_fields = ["webhook"]
