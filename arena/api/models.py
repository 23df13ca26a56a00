from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models

import gateway
from arena.catalog.leases import LeasedQuerySet, WorkStatus


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


class ImageJobQuerySet(LeasedQuerySet):
    def finished(self) -> ImageJobQuerySet:
        return self.filter(status__in=[ImageJob.Status.READY, ImageJob.Status.FAILED])


class ImageJob(models.Model):
    """One request of the images API or the playground, as checked, and what became of it.

    The web process writes the row and waits; a generation worker claims it, calls the gateway
    and stores the images. Edit sources and the mask wait in storage under random names and
    are removed once the job is done. `seed` is the caller's, or a secret one drawn for the
    request: it is never shown.
    """

    class Source(models.TextChoices):
        API = "api"
        PLAYGROUND = "playground"

    Status = WorkStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=12, choices=Source.choices)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The gateway's own vocabulary: what a job asks of it.
    operation = models.CharField(
        max_length=8, choices=[(op.value, op.value.title()) for op in gateway.Operation]
    )
    # The checked request.
    model = models.ForeignKey("catalog.AIModel", on_delete=models.CASCADE, related_name="jobs")
    prompt = models.TextField()
    size = models.CharField(max_length=16, blank=True)
    n = models.PositiveSmallIntegerField(default=1)
    quality = models.TextField(blank=True)
    style = models.TextField(blank=True)
    seed = models.BigIntegerField()
    extra = models.JSONField(default=dict, blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="Storage names, until done.")
    mask = models.CharField(max_length=200, blank=True, help_text="Storage name, until done.")
    timeout = models.FloatField(
        null=True, blank=True, help_text="The caller's deadline in seconds; empty: the gateway's."
    )
    partial_images = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Streamed: how many partial images the caller wants; empty: not streamed.",
    )
    # What became of it.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    images = models.JSONField(default=list, blank=True, help_text="Storage names.")
    provider = models.CharField(max_length=50, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    error_kind = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    retry_after = models.FloatField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed it.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImageJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        verbose_name = "image job"

    def __str__(self) -> str:
        return f"{self.operation} with {self.model_id} from {self.source} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)

    def gateway_request(self) -> gateway.ImageRequest:
        """The request to send the gateway, with the stored sources read back."""
        return gateway.ImageRequest(
            model=self.model.slug,
            prompt=self.prompt,
            size=self.size or None,
            n=self.n,
            quality=self.quality or None,
            style=self.style or None,
            images=tuple(_read(name) for name in self.sources),
            mask=_read(self.mask) if self.mask else None,
            seed=self.seed,
            extra=self.extra,
            timeout=self.timeout,
        )


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as file:
        return file.read()
