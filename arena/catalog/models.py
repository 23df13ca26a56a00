"""What the arena knows about models, providers, prompts and the images made from them."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

import gateway
from arena.catalog.guard import near_duplicate, prompt_key
from arena.catalog.leases import LEASED_UNTIL_HELP, LeasedQuerySet, WorkStatus

# A gateway model id (gateway/catalog.toml): letters, digits, "-", "_" and single dots inside
# ("flux-1.1-pro"); never "..", nor a dot at either end, so an id is never a path trick.
MODEL_ID = r"[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?=[A-Za-z0-9_-]))*"
model_id_validator = RegexValidator(
    rf"\A{MODEL_ID}\Z",
    "Use the gateway's model id: letters, digits, '-', '_' and single dots inside.",
)


class Arena(models.TextChoices):
    T2I = "t2i", "Text-to-Image"
    EDIT = "edit", "Image Editing"


# The AIModel field that says whether a model competes in each arena (catalog_sync copies it
# from what the gateway's catalog says the model can do).
CAPABILITY = {Arena.T2I: "can_generate", Arena.EDIT: "can_edit"}

# What the gateway is asked to do for a prompt of each arena: an edit prompt's images are
# edits of its source image.
OPERATION = {Arena.T2I: gateway.Operation.GENERATE, Arena.EDIT: gateway.Operation.EDIT}

# The gateway's operations as a field's choices (a provider call's, an API job's).
OPERATION_CHOICES = [(operation.value, operation.value.title()) for operation in gateway.Operation]


class Provider(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def sort_key(self) -> tuple[str, str]:
        """Where the provider stands wherever pages list providers: by name as people read it,
        case aside ("fal.ai" before "Replicate"), then by id."""
        return (self.name.casefold(), self.slug)


class AIModelQuerySet(models.QuerySet["AIModel"]):
    def active(self) -> AIModelQuerySet:
        return self.filter(active=True)

    def for_arena(self, arena: Arena) -> AIModelQuerySet:
        return self.filter(**{CAPABILITY[Arena(arena)]: True})


class AIModel(models.Model):
    """An image model as the arena shows it. `slug` is the gateway's model id."""

    slug = models.CharField(max_length=100, unique=True, validators=[model_id_validator])
    name = models.CharField(max_length=200)
    organization = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)
    license = models.CharField(max_length=100, blank=True)
    can_generate = models.BooleanField(default=True)
    can_edit = models.BooleanField(default=False)
    active = models.BooleanField(
        default=True, help_text="Inactive models leave the battles but keep their history."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AIModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pages:model_detail", args=[self.slug])

    @property
    def capabilities(self) -> list[str]:
        """What the model can be asked to do: "generate", "edit", or both."""
        can = (("generate", self.can_generate), ("edit", self.can_edit))
        return [name for name, able in can if able]

    def competes_in(self, arena: Arena) -> bool:
        return bool(getattr(self, CAPABILITY[Arena(arena)]))


class Offering(models.Model):
    """A model as sold by one provider, at a price per image."""

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="offerings")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="offerings")
    provider_model = models.CharField(max_length=200)
    price_per_image = models.DecimalField(max_digits=10, decimal_places=4)
    batch_price_per_image = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )

    class Meta:
        ordering = ["model", "price_per_image"]
        constraints = [
            models.UniqueConstraint(fields=["model", "provider"], name="offering_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model} via {self.provider}"


def cheapest_offering(offerings: Iterable[Offering], *, batch: bool = False) -> Offering | None:
    """The offering with the lowest price per image (`batch`: the lowest batch price, among
    those with one). A tie goes to the provider first in Provider.sort_key order, so the index,
    the model page and its FAQ all name the same one, whatever order the rows came in."""

    def price(offering: Offering) -> Decimal | None:
        return offering.batch_price_per_image if batch else offering.price_per_image

    return min(
        (offering for offering in offerings if price(offering) is not None),
        key=lambda offering: (price(offering), offering.provider.sort_key),
        default=None,
    )


class PromptQuerySet(models.QuerySet["Prompt"]):
    def active(self) -> PromptQuerySet:
        return self.filter(active=True)

    def competition(self, arena: Arena) -> CompetitionPrompts:
        """The active prompts of an arena, as the API's guard compares a request with them."""
        rows = self.active().filter(arena=arena).values_list("pk", "fingerprint", "source_phash")
        if arena != Arena.EDIT:
            return CompetitionPrompts(arena, fingerprints={f: pk for pk, f, _ in rows})
        return CompetitionPrompts(arena, phashes=[(phash, pk) for pk, _, phash in rows if phash])

    def in_category(self, category: Category) -> PromptQuerySet:
        """The prompts of a category (Prompt.categories_among says which)."""
        candidates = self.filter(arena=category.arena).order_by().only("pk", "arena", "tags")
        members = [prompt.pk for prompt in candidates if prompt.categories_among([category])]
        return self.filter(pk__in=members)

    def category_slugs(self) -> dict[int, list[str]]:
        """Each prompt's categories, by slug in the categories' order (empty: none)."""
        categories = list(Category.objects.all())
        return {
            prompt.pk: [category.slug for category in prompt.categories_among(categories)]
            for prompt in self.order_by().only("pk", "arena", "tags")
        }

    def with_progress(self) -> PromptQuerySet:
        return self.annotate(
            generations_total=Count("generations"),
            generations_ready=Count("generations", filter=Q(generations__status="ready")),
            generations_failed=Count("generations", filter=Q(generations__status="failed")),
        )


class Prompt(models.Model):
    """A competition prompt. For the editing arena `text` is the instruction."""

    arena = models.CharField(max_length=8, choices=Arena.choices, default=Arena.T2I)
    text = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    source_image = models.ImageField(upload_to="sources/", blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    source_phash = models.CharField(
        max_length=16, blank=True, editable=False, help_text="Perceptual hash of the source."
    )
    active = models.BooleanField(
        default=True, help_text="Retired prompts leave the battles but keep their history."
    )
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PromptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 80 else self.text[:77] + "..."

    def categories_among(self, categories: Iterable[Category]) -> list[Category]:
        """Which of these categories the prompt belongs to: those of its arena whose slug is
        one of its tags. The one place that says which prompts a category holds."""
        tags = self.tags if isinstance(self.tags, list) else []
        return [c for c in categories if c.arena == self.arena and c.slug in tags]

    def refresh_fingerprint(self) -> None:
        self.fingerprint = self.fingerprint_for(self.arena, self.text, self.source_sha256)

    @staticmethod
    def fingerprint_for(arena: Arena, text: str, source_digest: str = "") -> str:
        """Identity of a prompt's content, so importing the same prompt twice does nothing.

        Text is compared as an image model reads it (guard.prompt_key): a full stop, quotes or
        a zero-width space more do not make another prompt.
        """
        key = prompt_key(text)
        data = f"{arena}\0{key}\0{source_digest}".encode("utf-8", "surrogatepass")
        return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CompetitionPrompts:
    """The active prompts of one arena, held for comparing requests with them: by fingerprint
    for text to image, by source image for editing (PromptQuerySet.competition)."""

    arena: Arena
    fingerprints: dict[str, int] = field(default_factory=dict)  # fingerprint -> prompt id
    phashes: list[tuple[str, int]] = field(default_factory=list)  # (source phash, prompt id)

    def reproduced_by(self, text: str, source_phashes: Iterable[str] = ()) -> list[int]:
        """The prompts a request for this text (and, to edit, these source images) would
        reproduce: text to image, the same text as guard.prompt_key reads it; editing, any
        edit of a source that looks like one of these images (an edit keeps its source's
        layout, so whatever the instruction says, the result would be close to the battle's)."""
        if self.arena != Arena.EDIT:
            found = self.fingerprints.get(Prompt.fingerprint_for(self.arena, text))
            return [] if found is None else [found]
        wanted = list(source_phashes)
        return [pk for phash, pk in self.phashes if any(near_duplicate(phash, w) for w in wanted)]


# A category's slug is a tag as prompts carry it (importing.tags_read stores tags in lower case)
# and what a leaderboard's ?category= names; at most the 32 characters of Rating.category.
CATEGORY_SLUG = r"[a-z0-9][a-z0-9_-]{0,31}"
category_slug_validator = RegexValidator(
    rf"\A{CATEGORY_SLUG}\Z",
    "Use lower-case letters, digits, '-' and '_' (at most 32): the tag its prompts carry.",
)


class CategoryQuerySet(models.QuerySet["Category"]):
    def for_arena(self, arena: Arena) -> CategoryQuerySet:
        return self.filter(arena=arena)

    def find(self, arena: Arena, slug: str) -> Category | None:
        """The arena's category with this slug; None for any other text, asked of no one."""
        if not re.fullmatch(CATEGORY_SLUG, slug):
            return None
        return self.for_arena(arena).filter(slug=slug).first()


class Category(models.Model):
    """A curated kind of prompt (portrait, counting, recolour...), with a leaderboard of its
    own: the votes on its prompts. A prompt belongs to it when the prompt's tags hold its slug
    (Prompt.categories_among)."""

    arena = models.CharField(max_length=8, choices=Arena.choices)
    slug = models.CharField(
        max_length=32,
        validators=[category_slug_validator],
        help_text="The tag that puts a prompt of this arena in the category.",
    )
    name = models.CharField(max_length=60)
    description = models.CharField(
        max_length=200, blank=True, help_text="One short sentence: which prompts it holds."
    )
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Where it stands in the leaderboard's list (smallest first)."
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["arena", "order", "name"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["arena", "slug"], name="category_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_arena_display()})"

    def get_absolute_url(self) -> str:
        return f"{reverse('ratings:leaderboard', args=[self.arena])}?category={self.slug}"


class CompetitionQuerySet(models.QuerySet["Competition"]):
    def with_prompt_counts(self) -> CompetitionQuerySet:
        return self.annotate(prompt_count=Count("prompts", distinct=True))

    def entered_by(self, model: AIModel) -> CompetitionQuerySet:
        """The competitions with a prompt this model has a ready image for."""
        made = Generation.objects.ready().filter(model=model)
        return self.filter(prompts__in=made.values("prompt")).distinct()


class Competition(models.Model):
    """Prompts a curator groups under one name ("Counting", "Night scenes"): each model's page
    shows its images for them beside its opponents', with its win rate on each."""

    arena = models.CharField(max_length=8, choices=Arena.choices)
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(
        blank=True, help_text="A sentence or two for the model pages: what it puts to the test."
    )
    prompts = models.ManyToManyField(Prompt, related_name="competitions", blank=True)
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Where it stands on the model pages (smallest first)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompetitionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["arena", "name"], name="competition_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="competition_named"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_arena_display()})"


class GenerationQuerySet(LeasedQuerySet):
    def ready(self) -> GenerationQuerySet:
        return self.filter(status=Generation.Status.READY)

    def unbatched(self) -> GenerationQuerySet:
        """Generations no running batch holds: a held one is made by its batch, and run
        directly only once the batch gives it back."""
        return self.filter(batch__isnull=True)

    def awaiting_webhook(self, *, provider: str, job_id: str) -> GenerationQuerySet:
        """The running generation whose provider job of that id reports to our webhook."""
        return self.filter(
            status=Generation.Status.RUNNING,
            job__provider=provider,
            job__job_id=job_id,
            job__webhook=True,
        )

    def claimable(self) -> GenerationQuerySet:
        # On the row itself, so a claim that waited on a batch's submission sees the hold.
        return super().claimable().unbatched()

    def abandoned(self) -> GenerationQuerySet:
        return super().abandoned().unbatched()

    def public(self, *, revealed_battles: models.QuerySet[Any]) -> GenerationQuerySet:
        """Ready images that cannot tell anyone which model made a battle image before the vote:
        those no battle shows any more (retired prompt or model), and those of the battles the
        visitor has voted on (`revealed_battles`)."""
        return self.ready().filter(
            Q(prompt__active=False)
            | Q(model__active=False)
            | Q(pk__in=revealed_battles.values("left"))
            | Q(pk__in=revealed_battles.values("right"))
        )

    def competing(self, arena: Arena) -> GenerationQuerySet:
        """Ready images that may appear in battles: active prompt, active model of that arena."""
        return self.ready().filter(
            prompt__arena=arena,
            prompt__active=True,
            model__active=True,
            **{f"model__{CAPABILITY[Arena(arena)]}": True},
        )

    def reliability(self) -> list[Reliability]:
        """How these generations ended, per model and arena: made, failed, or refused (the
        provider's content policy declined the prompt on the generation's last run), with the
        provider calls behind them, retries and fallbacks included. Two queries.

        Queued and running generations have not ended and are not counted."""
        refused = Exists(
            ProviderCall.objects.filter(
                generation=OuterRef("pk"),
                error_kind=gateway.ErrorKind.CONTENT_POLICY,
                started_at__gte=OuterRef("started_at"),
            )
        )
        failed = Q(status=Generation.Status.FAILED)
        key = ("model_id", "model__slug", "model__name", "prompt__arena")
        ended = (
            self.order_by()
            .values(*key)
            .annotate(
                ready=Count("pk", filter=Q(status=Generation.Status.READY)),
                failed=Count("pk", filter=failed & ~refused),
                refused=Count("pk", filter=failed & refused),
            )
        )
        calls = {
            (row["model_id"], row["generation__prompt__arena"]): (row["calls"], row["failed"])
            for row in ProviderCall.objects.filter(generation__in=self.values("pk"))
            .order_by()
            .values("model_id", "generation__prompt__arena")
            .annotate(calls=Count("pk"), failed=Count("pk", filter=Q(ok=False)))
        }
        rows = []
        for row in ended:
            call_count, failed_calls = calls.get((row["model_id"], row["prompt__arena"]), (0, 0))
            rows.append(
                Reliability(
                    model_id=row["model_id"],
                    slug=row["model__slug"],
                    name=row["model__name"],
                    arena=Arena(row["prompt__arena"]),
                    ready=row["ready"],
                    failed=row["failed"],
                    refused=row["refused"],
                    calls=call_count,
                    failed_calls=failed_calls,
                )
            )
        return sorted(
            (row for row in rows if row.ended), key=lambda row: (row.arena, row.name, row.slug)
        )


@dataclass(frozen=True, slots=True)
class Reliability:
    """How one model's generations for one arena's prompts ended, and the provider calls they
    took. A failed or refused generation is never shown in a battle: the model simply sits
    that prompt out, so its rating says nothing of these."""

    model_id: int
    slug: str
    name: str
    arena: Arena
    ready: int
    failed: int  # errors, timeouts, no image: refusals not included
    refused: int
    calls: int
    failed_calls: int

    @property
    def ended(self) -> int:
        return self.ready + self.failed + self.refused

    @property
    def failure_rate(self) -> float:
        return self.failed / self.ended if self.ended else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.ended if self.ended else 0.0

    @property
    def failed_call_rate(self) -> float:
        return self.failed_calls / self.calls if self.calls else 0.0

    # The same in percent, for pages.
    @property
    def failure_percent(self) -> float:
        return 100 * self.failure_rate

    @property
    def refusal_percent(self) -> float:
        return 100 * self.refusal_rate

    @property
    def failed_call_percent(self) -> float:
        return 100 * self.failed_call_rate

    def as_json(self) -> dict[str, Any]:
        """The row of the public generations file."""
        return {
            "model": self.slug,
            "attempts": self.ended,
            "ready": self.ready,
            "failures": self.failed,
            "refusals": self.refused,
            "failure_rate": round(self.failure_rate, 4),
            "refusal_rate": round(self.refusal_rate, 4),
            "provider_calls": self.calls,
            "provider_calls_failed": self.failed_calls,
        }


def _generation_path(instance: Generation, filename: str) -> str:
    # Random names: an image URL must say nothing about which model made it.
    return f"generations/{uuid.uuid4().hex}{filename[filename.rfind('.') :]}"


def new_seed() -> int:
    """A secret seed: nothing outside the arena can draw the same picture again."""
    return secrets.randbits(63)


class Generation(models.Model):
    """One image one model made for one prompt: rendition `rendition` of ARENA_RENDITIONS.

    Each rendition has its own secret seed, so the same prompt run again through the API or
    the playground (with fresh seeds) never redraws a battle image, and a voter who remembers
    every image revealed to them still meets ones they have not seen.
    """

    Status = WorkStatus

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="generations")
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="generations")
    rendition = models.PositiveSmallIntegerField(default=0)
    seed = models.BigIntegerField(default=new_seed, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    image = models.ImageField(upload_to=_generation_path, blank=True)
    thumbnail = models.ImageField(upload_to=_generation_path, blank=True)
    error = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed it.")
    batch = models.ForeignKey(
        "GenerationBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="held",
        help_text="The running provider batch that is making it (none: made directly).",
    )
    job = models.JSONField(
        null=True,
        blank=True,
        help_text="The provider's job making it (gateway.JobRef), stored as soon as the "
        "provider accepted it: a worker that takes the generation over resumes that job "
        "instead of paying for a new one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True, help_text=LEASED_UNTIL_HELP)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "model", "rendition"], name="generation_unique"
            )
        ]
        indexes = [models.Index(fields=["status", "prompt"])]

    def __str__(self) -> str:
        return f"{self.model} on prompt {self.prompt_id} #{self.rendition} ({self.status})"


class GenerationBatchQuerySet(models.QuerySet["GenerationBatch"]):
    def running(self) -> GenerationBatchQuerySet:
        return self.filter(status=GenerationBatch.Status.RUNNING)

    def unconfirmed(self, *, since_before: datetime) -> GenerationBatchQuerySet:
        """Batches still being submitted that started before then: a submission that long
        ago has ended, and its worker stopped before it recorded the provider's answer."""
        return self.filter(status=GenerationBatch.Status.SUBMITTING, submitted_at__lt=since_before)


class GenerationBatch(models.Model):
    """Generations sent to one provider's batch API as one job, at its batch price.

    While it runs it holds its generations (Generation.batch), so no worker makes them
    directly; when it ends, each is stored as made, or given back to be made directly. The row
    is stored, holding them, before the provider is sent the batch, and takes its provider's
    id once the provider took it: a batch the provider bills is never one nobody tracks. The
    batch is submitted under the row's `label`, which the provider keeps and lists, so a row
    that never heard its provider's id finds its batch again.
    """

    class Status(models.TextChoices):
        # Being sent to the provider: no provider id yet.
        SUBMITTING = "submitting"
        # The others are the values of gateway.batch.BatchState.
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="batches")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="batches")
    provider_batch_id = models.CharField(max_length=200, blank=True)
    label = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Ours, sent with the batch: the provider lists its batch under it.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTING)
    generation_ids = models.JSONField(
        default=list, help_text="The generations submitted, one request each."
    )
    made = models.PositiveIntegerField(default=0, help_text="Images the batch made and stored.")
    given_back = models.PositiveIntegerField(
        default=0, help_text="Requests the batch failed, sent to direct calls."
    )
    refused = models.PositiveIntegerField(
        default=0, help_text="Requests the provider refused (content policy)."
    )
    error = models.TextField(blank=True)
    submitted_at = models.DateTimeField()
    polled_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = GenerationBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_batch_id"],
                condition=~Q(provider_batch_id=""),
                name="generation_batch_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} batch {self.provider_batch_id} ({self.status})"


class ProviderCallQuerySet(models.QuerySet["ProviderCall"]):
    def speed_rows(self, *, since: datetime) -> models.QuerySet[Any]:
        """(model id, provider id, operation, ok, total_ms, ttfb_ms) of the direct calls
        started since then: a batch line's time is the batch's queue, not the provider's
        speed."""
        return (
            self.filter(started_at__gte=since, batch=False)
            .order_by()
            .values_list("model_id", "provider_id", "operation", "ok", "total_ms", "ttfb_ms")
        )


class ProviderCall(models.Model):
    """One attempt at one provider: the raw material of speed, success and cost figures."""

    class Source(models.TextChoices):
        ARENA = "arena"
        API = "api"
        PLAYGROUND = "playground"

    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.CASCADE, related_name="calls"
    )
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="calls")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="calls")
    provider_model = models.CharField(max_length=200)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ARENA)
    # Made images from text or edited a source image: the two are timed apart, as they run
    # differently fast (and in different arenas).
    operation = models.CharField(
        max_length=8, choices=OPERATION_CHOICES, default=gateway.Operation.GENERATE.value
    )
    started_at = models.DateTimeField()
    ok = models.BooleanField()
    error_kind = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ttfb_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField()
    images = models.PositiveSmallIntegerField(default=0)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    batch = models.BooleanField(default=False)
    warnings = models.JSONField(default=list, blank=True)
    provider_request_id = models.CharField(
        max_length=200, blank=True, help_text="The provider's own id of the call, for its support."
    )
    # What the provider told about the images it made, for whoever looks into a call; never
    # shown before a vote (a seed or a rewritten prompt could say which model drew an image).
    seed = models.BigIntegerField(
        null=True, blank=True, help_text="The seed the provider reports having drawn with."
    )
    revised_prompt = models.TextField(
        blank=True, help_text="The prompt as the provider rewrote it before drawing."
    )
    safety_flags = models.JSONField(
        default=list, blank=True, help_text="What the provider's safety checks flagged."
    )

    objects = ProviderCallQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["model", "provider", "started_at"])]

    def __str__(self) -> str:
        outcome = "ok" if self.ok else self.error_kind or "failed"
        return f"{self.model_id}@{self.provider_id} {outcome} {self.total_ms:.0f} ms"
