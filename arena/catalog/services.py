"""Writes for the catalog: syncing models, importing prompts, generating and storing images."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

import gateway
from arena.catalog.guard import image_phash
from arena.catalog.images import UnreadableImage, arena_renditions
from arena.catalog.importing import EditRow, PromptRow
from arena.catalog.leases import abandoned_take_back, lease_kept
from arena.catalog.models import (
    OPERATION,
    AIModel,
    Arena,
    Competition,
    Generation,
    GenerationBatch,
    Offering,
    Prompt,
    Provider,
    ProviderCall,
)
from arena.catalog.signals import curation_changed
from arena.catalog.uploads import UploadRejected, source_image_clean
from gateway.normalize import call_seed, wire_seed

log = logging.getLogger(__name__)

# --- Catalog ----------------------------------------------------------------------------------


def catalog_sync(*, catalog: gateway.Catalog | None = None) -> list[AIModel]:
    """Copy the gateway's catalog into the database.

    Names, capabilities and prices follow the catalog; whether a model competes is the
    curators' call, so `active` is only set when a model first appears: on if the gateway can
    route it now (a configured provider), off otherwise.
    """
    router = gateway.default_gateway()
    catalog = catalog or router.catalog
    synced = []
    for spec in catalog:
        fields = {
            "name": spec.name,
            "organization": spec.organization,
            "description": spec.description,
            "url": spec.url,
            "license": spec.license,
            "can_generate": spec.can_generate,
            "can_edit": spec.can_edit,
        }
        model, _ = AIModel.objects.update_or_create(
            slug=spec.id,
            defaults=fields,
            create_defaults={**fields, "active": model_routable(spec.id, router)},
        )
        for offering in spec.offerings:
            Offering.objects.update_or_create(
                model=model,
                provider=_provider(offering.provider, catalog),
                defaults={
                    "provider_model": offering.provider_model,
                    "price_per_image": offering.price,
                    "batch_price_per_image": offering.batch_price,
                },
            )
        synced.append(model)
    return synced


def _provider(slug: str, catalog: gateway.Catalog) -> Provider:
    """The provider's row, made on first sight with the name the gateway's catalog gives it."""
    provider, _ = Provider.objects.get_or_create(
        slug=slug, defaults={"name": catalog.provider_name(slug)}
    )
    return provider


# The key of each provider's row by slug, as this process has seen it committed: every call
# recorded names its provider, and a row is only ever added (its offerings and calls protect it
# from deletion; one deleted unused is forgotten here through post_delete).
_provider_ids: dict[str, int] = {}


def _provider_id(slug: str, catalog: gateway.Catalog) -> int:
    if (known := _provider_ids.get(slug)) is not None:
        return known
    pk = _provider(slug, catalog).pk
    # Kept once committed: a row made in a transaction that rolls back must not be named.
    transaction.on_commit(partial(_provider_ids.__setitem__, slug, pk))
    return pk


@receiver(post_delete, sender=Provider)
def _provider_forget(instance: Provider, **kwargs: object) -> None:
    _provider_ids.pop(instance.slug, None)


def model_routable(model_id: str, router: gateway.Gateway | None = None) -> bool:
    """Whether some provider of the model is configured (has its keys), so it can be called."""
    try:
        return (router or gateway.default_gateway()).is_routable(model_id)
    except gateway.GatewayError:  # not in the gateway's catalog
        return False


def provider_credit_rest(slug: str) -> float | None:
    """Seconds the provider still rests because its account ran out of credit, or None."""
    return gateway.default_gateway().router.provider_rest(slug)


def provider_release(*, slugs: Iterable[str]) -> list[str]:
    """End the rest of the providers whose accounts an operator topped up; which were resting."""
    router = gateway.default_gateway().router
    resting = [slug for slug in slugs if router.provider_rest(slug) is not None]
    for slug in resting:
        router.release(slug)
    return resting


def model_save(*, model: AIModel) -> AIModel:
    """Store a model as a curator changed it. Retiring it or bringing it back goes through
    `model_set_active`, so the battles are told."""
    _curated_save(
        model, set_active=lambda: model_set_active(model_ids=[model.pk], active=model.active)
    )
    return model


def _curated_save(curated: AIModel | Prompt, *, set_active: Callable[[], object]) -> None:
    """Save a model or a prompt as a curator changed it; a change of whether it competes is
    then made again by `set_active`, the service that tells the battles. A new one has no
    images yet: it joins the battles when they are ready, like any new image."""
    with transaction.atomic():
        stored = type(curated).objects.filter(pk=curated.pk).values_list("active", flat=True)
        was_active = stored.first()  # None for a new one
        curated.save()
        if was_active is not None and was_active != curated.active:
            set_active()


def model_set_active(*, model_ids: Iterable[int], active: bool) -> int:
    """Retire (or bring back) models. Retired models leave the battles and keep their history."""
    count = AIModel.objects.filter(pk__in=list(model_ids)).update(active=active)
    curation_changed.send(sender=AIModel)
    return count


# --- Prompts ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    created: list[Prompt] = field(default_factory=list)
    duplicates: list[PromptRow | EditRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def prompts_import(
    *, arena: Arena, rows: Iterable[PromptRow], problems: Iterable[tuple[int, str]] = ()
) -> ImportReport:
    """Create text prompts from parsed rows; a prompt already present (same text) is skipped."""
    report = ImportReport(problems=list(problems))
    by_fingerprint: dict[str, PromptRow] = {}
    for row in rows:
        fingerprint = Prompt.fingerprint_for(arena, row.text)
        if fingerprint in by_fingerprint:
            report.duplicates.append(row)
        else:
            by_fingerprint[fingerprint] = row
    existing = set(
        Prompt.objects.filter(fingerprint__in=by_fingerprint).values_list("fingerprint", flat=True)
    )
    report.duplicates += [by_fingerprint.pop(fingerprint) for fingerprint in existing]
    prompts = [
        Prompt(
            arena=arena,
            text=row.text,
            tags=list(row.tags),
            fingerprint=fingerprint,
        )
        for fingerprint, row in by_fingerprint.items()
    ]
    # ignore_conflicts: a concurrent import of the same prompt wins quietly. It also leaves the
    # new rows without primary keys, so read them back.
    Prompt.objects.bulk_create(prompts, ignore_conflicts=True)
    report.created = list(Prompt.objects.filter(fingerprint__in=by_fingerprint))
    if report.created:
        curation_changed.send(sender=Prompt)  # bulk_create sends no post_save
    return report


def edit_prompt_create(
    *, instruction: str, source: bytes, filename: str = "", tags: Iterable[str] = ()
) -> tuple[Prompt, bool]:
    """An editing prompt: an instruction and its source image, stored as a clean PNG.

    Raises UploadRejected for a source that is not an acceptable image. The same instruction
    on the same picture is the same prompt: creating it again returns the existing one
    (and False, like get_or_create).
    """
    image = source_image_read(data=source, filename=filename)
    prompt = Prompt(arena=Arena.EDIT, text=" ".join(instruction.split()), tags=list(tags))
    try:
        prompt_check(prompt=prompt, source=image)
    except PromptDuplicate as exc:
        return exc.existing, False
    return prompt_save(prompt=prompt, source=image), True


@dataclass(frozen=True, slots=True)
class SourceImage:
    """An editing prompt's source image as stored: a clean PNG, its digest (part of the
    prompt's fingerprint) and its perceptual hash (what the competition guard compares)."""

    png: bytes
    sha256: str
    phash: str


class PromptDuplicate(ValueError):
    """Another prompt has the same content: arena, text as a model reads it, source image."""

    def __init__(self, existing: Prompt) -> None:
        super().__init__("This prompt is already in the arena.")
        self.existing = existing


def source_image_read(*, data: bytes, filename: str = "") -> SourceImage:
    """An uploaded source image, cleaned by `source_image_clean` and hashed.

    Raises UploadRejected for an upload that is not an acceptable image.
    """
    png = source_image_clean(data, filename)
    return SourceImage(png=png, sha256=hashlib.sha256(png).hexdigest(), phash=image_phash(png))


def prompt_check(*, prompt: Prompt, source: SourceImage | None = None) -> None:
    """Check a prompt, new or changed, before `prompt_save` stores it with `source` (a new
    source image; None keeps the prompt's own).

    Raises UploadRejected when the source image does not fit the prompt's arena, and
    PromptDuplicate when another prompt has the same content.
    """
    if prompt.arena == Arena.T2I and source is not None:
        raise UploadRejected("Text-to-Image prompts have no source image.")
    if prompt.arena == Arena.EDIT and source is None and not prompt.source_image:
        raise UploadRejected("An Image Editing prompt needs a source image.")
    digest = prompt.source_sha256 if source is None else source.sha256
    fingerprint = Prompt.fingerprint_for(prompt.arena, prompt.text, digest)
    existing = Prompt.objects.filter(fingerprint=fingerprint).exclude(pk=prompt.pk).first()
    if existing is not None:
        raise PromptDuplicate(existing)


def prompt_save(*, prompt: Prompt, source: SourceImage | None = None) -> Prompt:
    """Store a prompt, new or changed (by a curator, or an import), that `prompt_check` passed.

    Its fingerprint follows its text; a new source image is stored under a random name, with
    its digests. Retiring the prompt or bringing it back goes through `prompt_set_active`, so
    the battles are told.
    """
    if source is not None:
        prompt.source_sha256 = source.sha256
        prompt.source_phash = source.phash
        prompt.source_image.save(f"{uuid.uuid4().hex}.png", ContentFile(source.png), save=False)
    prompt.refresh_fingerprint()
    _curated_save(
        prompt, set_active=lambda: prompt_set_active(prompt_ids=[prompt.pk], active=prompt.active)
    )
    return prompt


def edit_prompts_import(
    *, rows: Iterable[EditRow], problems: Iterable[tuple[int, str]] = ()
) -> ImportReport:
    """Create editing prompts from a parsed bundle; a bad image is reported with its line.

    All or nothing: should anything else fail, no prompt of the bundle is kept, nor its images.
    """
    report = ImportReport(problems=list(problems))
    try:
        with transaction.atomic():
            for row in rows:
                try:
                    prompt, created = edit_prompt_create(
                        instruction=row.instruction,
                        source=row.image,
                        filename=row.image_name,
                        tags=row.tags,
                    )
                except UploadRejected as exc:
                    report.problems.append((row.line, f"{row.image_name}: {exc}"))
                    continue
                if created:
                    report.created.append(prompt)
                else:
                    report.duplicates.append(row)
    except BaseException:
        for prompt in report.created:
            prompt.source_image.delete(save=False)
        raise
    report.problems.sort()
    return report


def prompt_set_active(*, prompt_ids: Iterable[int], active: bool) -> int:
    """Retire (or bring back) prompts. Retired prompts leave the battles and keep their history."""
    count = Prompt.objects.filter(pk__in=list(prompt_ids)).update(active=active)
    curation_changed.send(sender=Prompt)
    return count


def competition_define(
    *,
    arena: Arena,
    slug: str,
    name: str,
    prompts: Iterable[Prompt],
    description: str = "",
    order: int = 0,
) -> Competition:
    """Create the competition with this slug, or bring it up to date, and add these prompts
    (those it holds already stay): running a seed twice changes nothing."""
    members = list(prompts)
    strays = [prompt for prompt in members if prompt.arena != arena]
    if strays:
        raise ValueError(f"{len(strays)} prompts are not of the {Arena(arena).label} arena.")
    with transaction.atomic():
        competition, _ = Competition.objects.update_or_create(
            slug=slug,
            defaults={"arena": arena, "name": name, "description": description, "order": order},
        )
        competition.prompts.add(*members)
    return competition


# --- Generation -------------------------------------------------------------------------------


def prompt_generate(*, prompt_ids: Iterable[int]) -> int:
    """Queue ARENA_RENDITIONS generations per (active prompt, active model of its arena).

    Existing generations are never duplicated and finished ones are never run again, so
    pressing "Generate" twice costs nothing extra. Returns how many generations were queued.
    """
    queued = generations_plan(prompt_ids=prompt_ids)
    _enqueue(queued)
    return len(queued)


def generations_plan(*, prompt_ids: Iterable[int], renditions: int | None = None) -> list[int]:
    """Create the missing generations of these prompts (`renditions` per prompt and model,
    ARENA_RENDITIONS unless given); return the ids still waiting to run."""
    renditions = settings.ARENA_RENDITIONS if renditions is None else renditions
    prompts = list(Prompt.objects.active().filter(pk__in=list(prompt_ids)))
    router = gateway.default_gateway()
    models_by_arena = {
        arena: [
            model
            for model in AIModel.objects.active().for_arena(arena)
            if model_routable(model.slug, router)
        ]
        for arena in {prompt.arena for prompt in prompts}
    }
    Generation.objects.bulk_create(
        [
            Generation(prompt=prompt, model=model, rendition=rendition)
            for prompt in prompts
            for model in models_by_arena[prompt.arena]
            for rendition in range(renditions)
        ],
        ignore_conflicts=True,
    )
    return list(
        Generation.objects.filter(prompt__in=prompts, status=Generation.Status.QUEUED)
        .unbatched()
        .values_list("pk", flat=True)
    )


def generations_retry(*, generation_ids: Iterable[int]) -> int:
    """Send failed generations back to the queue. Ready ones are left alone."""
    ids = list(
        Generation.objects.filter(
            pk__in=list(generation_ids), status=Generation.Status.FAILED
        ).values_list("pk", flat=True)
    )
    Generation.objects.filter(pk__in=ids, status=Generation.Status.FAILED).update(
        status=Generation.Status.QUEUED, error=""
    )
    _enqueue(ids)
    return len(ids)


def generations_requeue_stale() -> int:
    """Send again the generations whose worker died (running past their lease) or whose task
    was lost (queued past their patience)."""
    stale = abandoned_take_back(Generation.objects.all())
    _send(stale)
    return len(stale)


def _enqueue(generation_ids: list[int]) -> None:
    if not generation_ids:
        return
    Generation.objects.filter(pk__in=generation_ids).sent()
    _send(generation_ids)


def _send(generation_ids: list[int]) -> None:
    if not generation_ids:
        return
    from arena.celery import tasks_send

    transaction.on_commit(
        lambda: tasks_send("arena.catalog.tasks.generation_run", ((pk,) for pk in generation_ids))
    )


def generation_execute(*, generation_id: int) -> Generation | None:
    """Run one generation if this worker can claim it; store its image and every attempt.

    The claim is a conditional UPDATE, so two workers never run the same generation; a
    generation whose worker died is claimable again once its lease runs out. The provider's
    job is stored as soon as the provider took it, so the worker that takes over resumes that
    job rather than paying for a new one. With webhooks on (GATEWAY_WEBHOOK_BASE_URL) the job
    is submitted and left running: the webhook, or the requeue pass when none comes, sends the
    generation back to collect it. Returns the generation, or None when there was nothing to
    do (or nothing yet).
    """
    claimed_at = Generation.objects.claim(generation_id)
    if claimed_at is None:
        return None
    generation = Generation.objects.select_related("prompt", "model").get(pk=generation_id)
    with lease_kept(Generation, generation_id, claimed_at):
        try:
            result = _call_gateway(generation, claimed_at)
        except gateway.JobDetached:
            _lease_until_deadline(generation, claimed_at)
            return None
        except gateway.GatewayError as exc:
            return _outcome_store(generation, claimed_at, exc.attempts, error=exc.message)
        error = _renditions_save(generation, result.images[0])
        return _outcome_store(generation, claimed_at, result.attempts, error=error)


def _outcome_store(
    generation: Generation,
    claimed_at: datetime,
    attempts: list[gateway.Attempt],
    *,
    error: str,
) -> Generation | None:
    """Record the calls and the outcome in one transaction, so a worker that dies leaves either
    both or neither. The renditions' files, written before, are deleted if the outcome is not
    stored. A worker that lost its claim records only the calls the new holder will not: the
    job it holds is the new holder's to record."""
    try:
        with transaction.atomic():
            finished = _finish(
                generation,
                claimed_at,
                image="" if error else generation.image.name,
                thumbnail="" if error else generation.thumbnail.name,
                error=error,
            )
            if finished is None:
                held = Generation.objects.filter(pk=generation.pk).values_list("job", flat=True)
                job_id = (held.first() or {}).get("job_id")
                attempts = [a for a in attempts if not job_id or a.provider_request_id != job_id]
            calls_record(
                attempts=attempts,
                operation=OPERATION[generation.prompt.arena],
                generation=generation,
            )
    except BaseException:
        _renditions_delete(generation)
        raise
    if finished is None or error:
        _renditions_delete(generation)
    return finished


def _lease_until_deadline(generation: Generation, claimed_at: datetime) -> None:
    """A job left to the webhook is not taken over before the request's deadline, even under a
    lease shorter than that: only then does the requeue pass resume (poll) it."""
    deadline = claimed_at + timedelta(seconds=gateway.default_gateway().timeout)
    Generation.objects.held(generation.pk, claimed_at).filter(leased_until__lt=deadline).update(
        leased_until=deadline
    )


def _job_store(generation: Generation, claimed_at: datetime, job: gateway.JobRef) -> None:
    Generation.objects.provider_job_keep(generation.pk, claimed_at, job)


def generation_job_ended(*, provider: str, job_id: str) -> bool:
    """A provider reported (by webhook) that the job of a generation ended: send the generation
    back to a worker, which collects the job. Repeats and unknown jobs change nothing."""
    with transaction.atomic():
        ids = list(
            Generation.objects.awaiting_webhook(provider=provider, job_id=job_id).values_list(
                "pk", flat=True
            )
        )
        Generation.objects.filter(pk__in=ids, status=Generation.Status.RUNNING).update(
            status=Generation.Status.QUEUED
        )
        _enqueue(ids)
    return bool(ids)


def _renditions_save(generation: Generation, image: bytes) -> str:
    """Store the battle renditions of a provider's image in files, and name them on the
    generation without saving it: whoever stores the outcome records them if it still may.
    Returns why the image cannot be used, or "" once stored."""
    try:
        renditions = arena_renditions(
            image,
            size=settings.ARENA_IMAGE_SIZE,
            thumbnail_size=settings.ARENA_THUMBNAIL_SIZE,
            pad_step=settings.ARENA_IMAGE_PAD_BYTES,
        )
    except UnreadableImage as exc:
        return f"The provider returned {exc}."
    generation.image.save("image.png", ContentFile(renditions.image), save=False)
    generation.thumbnail.save("thumbnail.webp", ContentFile(renditions.thumbnail), save=False)
    return ""


def _renditions_delete(generation: Generation) -> None:
    generation.image.delete(save=False)
    generation.thumbnail.delete(save=False)


def _call_gateway(generation: Generation, claimed_at: datetime) -> gateway.ImageResult:
    """Ask the gateway for the image: resuming the generation's stored job if it has one,
    storing each new job as the provider takes it, and leaving it to the webhook if on."""
    jobs = {
        "job": gateway.JobRef.from_dict(generation.job) if generation.job else None,
        "on_job": lambda job: _job_store(generation, claimed_at, job),
        "detach": True,
    }
    prompt = generation.prompt
    if OPERATION[prompt.arena] is gateway.Operation.EDIT:
        with prompt.source_image.open("rb") as source:
            request = gateway.ImageRequest(
                model=generation.model.slug,
                prompt=prompt.text,
                images=(source.read(),),
                seed=generation.seed,
            )
        return gateway.edit(request, **jobs)
    return gateway.generate(_generate_request(generation), **jobs)


def _generate_request(generation: Generation) -> gateway.ImageRequest:
    """What a text-to-image generation asks its model for, made directly or in a batch."""
    size = settings.ARENA_IMAGE_SIZE
    return gateway.ImageRequest(
        model=generation.model.slug,
        prompt=generation.prompt.text,
        size=f"{size}x{size}",
        seed=generation.seed,
    )


def _finish(
    generation: Generation,
    claimed_at: datetime,
    *,
    image: str = "",
    thumbnail: str = "",
    error: str = "",
) -> Generation | None:
    """Record the outcome, unless another worker took the generation over meanwhile."""
    status = Generation.Status.FAILED if error else Generation.Status.READY
    updated = Generation.objects.held(generation.pk, claimed_at).update(
        status=status,
        image=image,
        thumbnail=thumbnail,
        error=error,
        job=None,
        finished_at=timezone.now(),
    )
    if not updated:
        log.warning("generation %s was taken over by another worker", generation.pk)
        return None
    generation.refresh_from_db()
    return generation


def calls_record(
    *,
    attempts: Iterable[gateway.Attempt],
    operation: gateway.Operation,
    generation: Generation | None = None,
    source: str = ProviderCall.Source.ARENA,
    model: AIModel | None = None,
    sent_seed: int | None = None,
    n: int = 1,
) -> list[ProviderCall]:
    """Store one ProviderCall per gateway attempt, failed ones included, with what the
    provider told of its images. `operation` is what the gateway was asked to do (an edit or
    images from text); `model` is the attempts' model's row, when the caller has it at hand;
    `sent_seed` and `n` are the request's (a generation's own without them), whose seeds are
    not kept (seeds_told)."""
    attempts = list(attempts)
    if not attempts:
        return []
    if generation is not None and sent_seed is None:
        sent_seed = generation.seed
    models = {model.slug: model.pk} if model else {}
    if unknown := {a.model for a in attempts} - models.keys():
        models |= dict(AIModel.objects.filter(slug__in=unknown).values_list("slug", "pk"))
    catalog = gateway.default_gateway().catalog
    providers = {slug: _provider_id(slug, catalog) for slug in {a.provider for a in attempts}}
    return ProviderCall.objects.bulk_create(
        [
            ProviderCall(
                generation=generation,
                model_id=models[attempt.model],
                provider_id=providers[attempt.provider],
                provider_model=attempt.provider_model,
                source=source,
                operation=operation,
                started_at=attempt.started_at,
                ok=attempt.ok,
                error_kind=attempt.error_kind.value if attempt.error_kind else "",
                error=attempt.error,
                http_status=attempt.http_status,
                ttfb_ms=attempt.ttfb_ms,
                total_ms=attempt.total_ms,
                images=attempt.images,
                cost=attempt.cost,
                batch=attempt.batch,
                warnings=list(attempt.warnings),
                provider_request_id=attempt.provider_request_id,
                seed=next(iter(seeds_told(attempt.seeds, sent_seed=sent_seed, n=n)), None),
                revised_prompt=next(iter(attempt.revised_prompts), ""),
                safety_flags=list(attempt.safety),
            )
            for attempt in attempts
            if attempt.model in models
        ]
    )


# The seeds a bigint column holds; a provider's outside them is not kept.
_SEED_RANGE = range(-(2**63), 2**63)


def seeds_told(seeds: Iterable[int], *, sent_seed: int | None, n: int = 1) -> list[int]:
    """The seeds a provider reports having drawn with that it chose itself: those of a model
    that takes none from us. A seed it echoes back is one the arena sent, as the gateway sends
    it to each of the request's `n` calls: a secret (a battle's, or one drawn for an API
    caller who chose none), kept out of rows and answers; a caller who chose it knows it."""
    sent = (
        set()
        if sent_seed is None
        else {wire_seed(seed) for k in range(n) if (seed := call_seed(sent_seed, k)) is not None}
    )
    return [seed for seed in seeds if seed in _SEED_RANGE and seed not in sent]


# --- Batch generation -------------------------------------------------------------------------

# Batches make images from text only: editing prompts are always made directly.
BATCH_OPERATION = gateway.Operation.GENERATE

# Requests per provider batch: far inside both APIs' limits (OpenAI 50,000 lines and 200 MB;
# Gemini's inlined requests 20 MB), so one failed submission gives back little.
BATCH_MAX_REQUESTS = 1000


@dataclass(frozen=True, slots=True)
class BatchSubmitReport:
    batches: list[GenerationBatch]
    batched: int  # generations now held by a batch
    direct: int  # generations queued for direct calls
    errors: list[str]


def generations_batch_submit(*, prompt_ids: Iterable[int]) -> BatchSubmitReport:
    """Make the missing images of these prompts at the batch price where that is on sale.

    The queued generations of each model whose offering takes batches (a batch price in the
    catalog and a configured batch API) go to that provider as batches; the rest, and any
    batch the provider refuses, are queued for direct calls as `prompt_generate` does.
    Editing prompts are always made directly. A generation is held by one batch at most.
    """
    queued = generations_plan(prompt_ids=prompt_ids)
    batches = gateway.default_batch_gateway()
    by_model: dict[str, list[int]] = {}
    for pk, slug in (
        Generation.objects.filter(pk__in=queued, prompt__arena=Arena.T2I)
        .order_by("pk")
        .values_list("pk", "model__slug")
    ):
        by_model.setdefault(slug, []).append(pk)
    submitted: list[GenerationBatch] = []
    errors: list[str] = []
    held: set[int] = set()
    for slug, ids in by_model.items():
        offering = batches.offering(slug)
        if offering is None:
            continue
        for start in range(0, len(ids), BATCH_MAX_REQUESTS):
            try:
                batch = _batch_submit(batches, offering, ids[start : start + BATCH_MAX_REQUESTS])
            except gateway.GatewayError as exc:
                errors.append(f"{offering.key}: {exc.message}")
                continue
            if batch is not None:
                submitted.append(batch)
                held.update(batch.generation_ids)
    direct = [pk for pk in queued if pk not in held]
    _enqueue(direct)
    return BatchSubmitReport(
        batches=submitted, batched=len(held), direct=len(direct), errors=errors
    )


def _batch_submit(
    batches: gateway.BatchGateway, offering: gateway.OfferingSpec, generation_ids: list[int]
) -> GenerationBatch | None:
    """Submit these generations as one batch and hold them by it; a generation another
    submission holds is left out.

    The batch is stored, holding its generations, before the provider is sent anything, and is
    submitted under the row's label; it takes the provider's id once the provider answers. A
    worker that stops anywhere between (killed during the upload or after it, the database
    away) leaves a batch the beat settles by asking the provider for that label
    (generation_batch_submission_recover), instead of a paid one nobody tracks. A batch the
    provider refuses gives its generations back and raises its GatewayError.
    """
    with transaction.atomic():
        generations = list(
            Generation.objects.filter(pk__in=generation_ids, status=Generation.Status.QUEUED)
            .unbatched()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("prompt", "model")
            .order_by("pk")
        )
        if not generations:
            return None
        batch = GenerationBatch.objects.create(
            model=generations[0].model,
            provider=_provider(offering.provider, batches.catalog),
            generation_ids=[generation.pk for generation in generations],
            submitted_at=timezone.now(),
        )
        Generation.objects.filter(pk__in=batch.generation_ids).update(batch=batch)
    try:
        submission = batches.submit(
            offering,
            {str(generation.pk): _generate_request(generation) for generation in generations},
            label=str(batch.label),
        )
    except gateway.GatewayError as exc:
        _batch_give_back(batch, status=GenerationBatch.Status.FAILED, error=exc.message)
        raise
    if not _batch_started(batch, submission.batch_id):
        # The beat settled the row meanwhile and gave its generations to direct calls.
        _batch_orphan_cancel(batches, offering, batch, submission.batch_id)
    batch.refresh_from_db()
    return batch


def _batch_started(batch: GenerationBatch, provider_batch_id: str) -> bool:
    """Record the provider's id of a batch still being submitted; from then on beat polls it."""
    return bool(
        GenerationBatch.objects.filter(
            pk=batch.pk, status=GenerationBatch.Status.SUBMITTING
        ).update(provider_batch_id=provider_batch_id, status=GenerationBatch.Status.RUNNING)
    )


def _batch_orphan_cancel(
    batches: gateway.BatchGateway,
    offering: gateway.OfferingSpec,
    batch: GenerationBatch,
    provider_batch_id: str,
) -> None:
    """Stop a provider's batch whose requests are made directly: what it has not run is not
    billed. A cancel that fails leaves the batch to run, unstored: an error to look into."""
    try:
        batches.cancel(offering, provider_batch_id)
    except gateway.GatewayError as exc:
        log.error(
            "batch %s was settled while being submitted; cancelling the provider's %s failed: %s",
            batch.pk,
            provider_batch_id,
            exc.message,
        )
    else:
        log.warning(
            "batch %s was settled while being submitted; the provider's %s was cancelled",
            batch.pk,
            provider_batch_id,
        )


def generation_batch_submission_recover(*, batch_id: int) -> GenerationBatch:
    """Settle a batch whose submission ended without recording its outcome, by asking its
    provider for a batch under the row's label: one it has is resumed (polled from now on),
    whatever point the submission stopped at; when it has none, it never took the requests,
    and they are given back to direct calls. A provider that cannot be asked is asked again
    at the next beat, as a poll that failed is."""
    batch = GenerationBatch.objects.select_related("model", "provider").get(pk=batch_id)
    if batch.status != GenerationBatch.Status.SUBMITTING:
        return batch
    batches = gateway.default_batch_gateway()
    now = timezone.now()
    try:
        offering = _batch_offering(batches, batch)
        provider_batch_id = batches.find(offering, str(batch.label), since=batch.submitted_at)
    except gateway.GatewayError as exc:
        return _batch_poll_failed(batch, exc.message, now)
    if provider_batch_id:
        _batch_started(batch, provider_batch_id)
    else:
        _batch_give_back(
            batch,
            status=GenerationBatch.Status.FAILED,
            error="The submission ended and the provider has no batch under its label: its "
            "requests were given back to direct calls.",
            enqueue=True,
        )
    batch.refresh_from_db()
    return batch


def generation_batches_poll() -> int:
    """Poll every running batch once (beat runs this), after settling the submissions that
    ended unrecorded; returns how many batches have ended."""
    # A submission still going is given its whole time (the batch gateway's deadline).
    since_before = timezone.now() - timedelta(seconds=gateway.default_batch_gateway().timeout)
    for batch_id in GenerationBatch.objects.unconfirmed(since_before=since_before).values_list(
        "pk", flat=True
    ):
        generation_batch_submission_recover(batch_id=batch_id)
    ended = 0
    for batch_id in GenerationBatch.objects.running().values_list("pk", flat=True):
        batch = generation_batch_poll(batch_id=batch_id)
        ended += batch.status != GenerationBatch.Status.RUNNING
    return ended


def generation_batch_poll(*, batch_id: int) -> GenerationBatch:
    """Ask the provider about a running batch; once it ended, store each image it made as its
    generation's (with the call at the batch price) and give each request it failed back to
    direct calls. A refusal stands, as it would made directly.

    Safe to run twice, or after a worker died halfway: each line is stored by a conditional
    UPDATE of a generation the batch still holds, with its call in the same transaction.
    """
    batch = GenerationBatch.objects.select_related("model", "provider").get(pk=batch_id)
    if batch.status != GenerationBatch.Status.RUNNING:
        return batch
    batches = gateway.default_batch_gateway()
    now = timezone.now()
    try:
        offering = _batch_offering(batches, batch)
        poll = batches.poll(
            offering,
            batch.provider_batch_id,
            keys=[str(pk) for pk in batch.generation_ids],
            submitted_at=batch.submitted_at,
        )
    except gateway.GatewayError as exc:
        return _batch_poll_failed(batch, exc.message, now)
    if not poll.state.ended:
        GenerationBatch.objects.filter(pk=batch.pk).update(polled_at=now)
        batch.refresh_from_db()
        return batch
    for line in poll.lines:
        _batch_line_store(batch, line)
    GenerationBatch.objects.filter(pk=batch.pk, status=GenerationBatch.Status.RUNNING).update(
        status=poll.state.value, error=poll.error, polled_at=now, finished_at=timezone.now()
    )
    batch.refresh_from_db()
    return batch


def _batch_offering(batches: gateway.BatchGateway, batch: GenerationBatch) -> gateway.OfferingSpec:
    spec = batches.catalog.model(batch.model.slug)
    for offering in spec.offerings:
        if offering.provider == batch.provider.slug:
            return offering
    raise gateway.GatewayError(
        gateway.ErrorKind.NOT_CONFIGURED,
        f"The catalog no longer has {batch.model.slug} at {batch.provider.slug}.",
    )


def _batch_poll_failed(batch: GenerationBatch, error: str, now: datetime) -> GenerationBatch:
    """A poll (or a search for a batch being submitted) that failed is tried again at the next
    beat, until the batch is older than any provider keeps one: then what it still holds is
    given back to direct calls."""
    give_up = batch.submitted_at + timedelta(hours=settings.ARENA_BATCH_GIVE_UP_HOURS)
    if now < give_up:
        GenerationBatch.objects.filter(pk=batch.pk).update(polled_at=now, error=error)
    else:
        _batch_give_back(
            batch,
            status=GenerationBatch.Status.EXPIRED,
            error=f"Given up after {settings.ARENA_BATCH_GIVE_UP_HOURS} h: {error}",
            polled_at=now,
            enqueue=True,
        )
    batch.refresh_from_db()
    return batch


def _batch_give_back(
    batch: GenerationBatch,
    *,
    status: GenerationBatch.Status,
    error: str,
    enqueue: bool = False,
    **fields: object,
) -> None:
    """End a batch that has not ended (running, or still being submitted) with this status,
    and give back what it still holds: queued for direct calls with `enqueue`, else left to
    the caller to queue."""
    with transaction.atomic():
        ended = GenerationBatch.objects.filter(
            pk=batch.pk,
            status__in=[GenerationBatch.Status.SUBMITTING, GenerationBatch.Status.RUNNING],
        ).update(status=status, error=error, finished_at=timezone.now(), **fields)
        if not ended:
            return
        held = list(batch.held.values_list("pk", flat=True))
        released = Generation.objects.filter(pk__in=held, batch=batch).update(batch=None)
        GenerationBatch.objects.filter(pk=batch.pk).update(given_back=F("given_back") + released)
        if enqueue:
            _enqueue(held)


def _batch_line_store(batch: GenerationBatch, line: gateway.BatchLine) -> None:
    generation = Generation.objects.filter(pk=int(line.key), batch=batch).first()
    if generation is None:  # stored or given back by an earlier poll
        return
    error = _renditions_save(generation, line.images[0]) if line.ok else line.attempt.error
    if not error:
        with transaction.atomic():
            stored = _batch_release(
                batch,
                generation,
                status=Generation.Status.READY,
                image=generation.image.name,
                thumbnail=generation.thumbnail.name,
                error="",
                finished_at=timezone.now(),
                started_at=batch.submitted_at,
                runs=F("runs") + 1,
            )
            if stored:
                calls_record(
                    attempts=[line.attempt], operation=BATCH_OPERATION, generation=generation
                )
                GenerationBatch.objects.filter(pk=batch.pk).update(made=F("made") + 1)
        if not stored:
            _renditions_delete(generation)
        return
    refused = line.attempt.error_kind is gateway.ErrorKind.CONTENT_POLICY
    with transaction.atomic():
        if refused:
            released = _batch_release(
                batch,
                generation,
                status=Generation.Status.FAILED,
                error=error,
                started_at=batch.submitted_at,
                finished_at=timezone.now(),
                runs=F("runs") + 1,
            )
        else:
            released = _batch_release(batch, generation)
        if released:
            calls_record(attempts=[line.attempt], operation=BATCH_OPERATION, generation=generation)
            counter = "refused" if refused else "given_back"
            GenerationBatch.objects.filter(pk=batch.pk).update(**{counter: F(counter) + 1})
            if not refused:
                _enqueue([generation.pk])


def _batch_release(batch: GenerationBatch, generation: Generation, **fields: object) -> bool:
    """Take a generation out of its batch with these changes, if the batch still holds it."""
    return bool(
        Generation.objects.filter(
            pk=generation.pk, batch=batch, status=Generation.Status.QUEUED
        ).update(batch=None, **fields)
    )
