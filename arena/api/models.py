from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    """A key to the OpenAI-compatible images API. Only a hash of its secret is stored."""

    name = models.CharField(max_length=100, help_text="Who or what uses the key.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    active = models.BooleanField(default=True, help_text="Revoked keys are refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (ia-{self.prefix}-…)"
