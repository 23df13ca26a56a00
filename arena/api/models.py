from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

import gateway
from arena.api.outputs import OutputSpec
from arena.catalog.leases import LEASED_UNTIL_HELP, LeasedQuerySet, WorkStatus
from arena.catalog.models import OPERATION_CHOICES


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def owned_by(self, user: Any) -> ApiKeyQuerySet:
        return self.filter(user=user)


def webhook_secret_new() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class ApiKey(models.Model):
    """A key to the OpenAI-compatible images API. Only a hash of its secret is stored; the
    webhook secret, which signs what is sent to the key's webhooks, is kept as it is."""

    name = models.CharField(max_length=100, help_text="Who or what uses the key.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    active = models.BooleanField(default=True, help_text="Revoked keys are refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_secret = models.CharField(max_length=64, default=webhook_secret_new, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (ia-{self.prefix}-…)"


class JsonArrayLength(models.Func):
    """How many items a JSON list holds (SQLite's name; PostgreSQL's for jsonb below)."""

    function = "JSON_ARRAY_LENGTH"
    output_field = models.IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra)


class ImageJobQuerySet(LeasedQuerySet):
    def finished(self) -> ImageJobQuerySet:
        return self.filter(status__in=[ImageJob.Status.READY, ImageJob.Status.FAILED])

    def of_keys_owned_by(self, user: Any) -> ImageJobQuerySet:
        return self.filter(api_key__user=user)

    def created_between(self, start: date, end: date) -> ImageJobQuerySet:
        """Made on these days (both included), in the site's time zone."""
        return self.filter(created_at__date__gte=start, created_at__date__lte=end)

    def usage_by_day(self) -> models.QuerySet[ImageJob, dict[str, Any]]:
        """One row per key and day, newest day first, in one grouped query: the requests
        (jobs), the images returned, their cost, and the errors (failed jobs)."""
        return (
            self.filter(api_key__isnull=False)
            .annotate(day=TruncDate("created_at"))
            .values("day", "api_key", "api_key__name", "api_key__prefix")
            .annotate(
                requests=Count("pk"),
                images=Sum(JsonArrayLength("images")),
                cost=Sum("cost"),
                errors=Count("pk", filter=Q(status=ImageJob.Status.FAILED)),
            )
            .order_by("-day", "api_key__name", "api_key")
        )


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
    operation = models.CharField(max_length=8, choices=OPERATION_CHOICES)
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
    max_offerings = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many offerings it may try; empty: the gateway's."
    )
    poll_retries = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Poll errors it may retry; empty: the gateway's."
    )
    # How the caller wants the images encoded (arena.api.outputs); empty: as made.
    output_format = models.CharField(max_length=8, blank=True)
    output_compression = models.PositiveSmallIntegerField(null=True, blank=True)
    background = models.CharField(max_length=12, blank=True)
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
    served = models.JSONField(
        default=dict, blank=True, help_text="What the images are: format, size, background."
    )
    tokens = models.JSONField(
        null=True, blank=True, help_text="The tokens the providers reported, by kind."
    )
    # What the providers told about the images, in the order of the calls that made them.
    seeds = models.JSONField(
        default=list, blank=True, help_text="The seeds the providers report having drawn with."
    )
    revised_prompts = models.JSONField(
        default=list, blank=True, help_text="The prompts as the providers rewrote them."
    )
    safety_flags = models.JSONField(
        default=list, blank=True, help_text="What the providers' safety checks flagged."
    )
    error_kind = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    retry_after = models.FloatField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed it.")
    job = models.JSONField(
        null=True,
        blank=True,
        help_text="The provider's job making it (gateway.JobRef), stored as soon as the provider "
        "accepted it: a worker that takes the job over resumes it instead of paying again.",
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False
    )  # set by a job run here
    started_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True, help_text=LEASED_UNTIL_HELP)
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

    @property
    def has_webhook(self) -> bool:
        """Whether its answer is POSTed to a webhook (its delivery, if any, names one)."""
        delivery = getattr(self, "delivery", None)  # the missing one raises AttributeError
        return bool(delivery and delivery.webhook)

    @property
    def output_spec(self) -> OutputSpec:
        return OutputSpec(
            self.output_format or None, self.output_compression, self.background or None
        )

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
            max_offerings=self.max_offerings,
            poll_retries=self.poll_retries,
        )


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as file:
        return file.read()


class IdempotentRequest(models.Model):
    """An `Idempotency-Key` a key sent, and the job its first request became: a retry with the
    same key gets that job's answer. The unique row is the claim, so of two concurrent
    duplicates one creates the job and the other waits for it."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    job = models.ForeignKey(ImageJob, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="one_request_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.job_id}"


class JobDelivery(models.Model):
    """How an asynchronous job's answer reaches its caller: polled at /images/jobs/<id>, and
    POSTed to the webhook, if one was given, until it is taken or a day has passed.

    `webhook_due_at` is when the next attempt is due (empty: none is); a sender claims an
    attempt by moving it forward, so two never send the same one.
    """

    job = models.OneToOneField(
        ImageJob, primary_key=True, on_delete=models.CASCADE, related_name="delivery"
    )
    response_format = models.CharField(max_length=8)
    base_url = models.URLField(max_length=200, help_text="Where the request came to.")
    webhook = models.URLField(max_length=2000, blank=True)
    webhook_due_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    webhook_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["webhook_due_at"])]
        verbose_name_plural = "job deliveries"

    def __str__(self) -> str:
        return f"delivery of {self.job_id}"
