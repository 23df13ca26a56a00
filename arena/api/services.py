"""Writes of the images API and the playground: keys, calls through the gateway, images."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image

import gateway
from arena.api.lookups import active_key, lookups_changed
from arena.api.models import ApiKey, ImageJob, JobDelivery
from arena.api.outputs import (
    PRUNE_GRACE,
    OutputSpec,
    images_convert,
    images_describe,
    prune_due,
    url_lifetime,
)
from arena.api.partials import job_partials
from arena.api.wakeup import job_finished_ring, job_finished_wait
from arena.catalog.leases import abandoned_take_back, lease_kept, queued_patience
from arena.catalog.models import AIModel, new_seed
from arena.catalog.services import calls_record, seeds_told

log = logging.getLogger(__name__)

KEY_PREFIX = "ia"
PREFIX = re.compile(r"[0-9a-f]{1,16}")  # a key's own prefix, as api_key_create makes it
LAST_USED_RESOLUTION = timedelta(minutes=1)
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
JOB_INPUTS = "job-inputs"  # edit sources and masks, until their job is done
INTERNAL_ERROR = "internal"  # a job that failed for a reason of ours, not a provider's
# A job the task broker (Redis) could not take, and when to try again: a restart's time.
QUEUE_UNAVAILABLE = "queue_unavailable"
QUEUE_RETRY_SECONDS = 10.0
WAIT_FIRST_PAUSE, WAIT_LONGEST_PAUSE = 0.05, 0.5
# Beyond the gateway's own timeout, how long the web waits for a worker to pick a job up:
# with the default 180 s, nginx's 200 s read timeout for the API is never reached.
WAIT_MARGIN_SECONDS = 15


def _hash(secret: str) -> str:
    # The secrets are 32 random bytes, so a plain hash is as strong as a slow one would be.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, user_id: int | None = None) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never stored."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, secret_hash=_hash(secret), user_id=user_id
    )
    return key, f"{KEY_PREFIX}-{prefix}-{secret}"


def api_keys_revoke(*, key_ids: Iterable[int]) -> int:
    """Refuse these keys from now on; their calls stay in their owners' usage. Returns how
    many there were."""
    revoked = ApiKey.objects.filter(pk__in=list(key_ids)).update(active=False)
    lookups_changed()
    return revoked


def api_key_check(*, presented: str) -> ApiKey | None:
    """The active key this text is, or None; marks it used."""
    parts = presented.split("-", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not PREFIX.fullmatch(parts[1]):
        return None  # not a key: not looked up (a NUL in it would fail the query)
    key = active_key(parts[1])
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        # A write per request would be a hot-path write for a date shown to the minute.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now  # the row as this process keeps it (arena.api.lookups)
    return key


def image_job_create(
    *,
    request: gateway.ImageRequest,
    model: AIModel,
    edit: bool,
    source: str,
    api_key_id: int | None = None,
    output: OutputSpec | None = None,
    partial_images: int | None = None,
    here: bool = False,
) -> ImageJob:
    """Store a checked request (`model` is the row of its model) as a job, and send the job to
    the generation queue once it is committed: at once, or when the caller's transaction
    commits. With `here`, the job is the caller's to run (`image_job_run_here`), which stores
    it once it is finished, with its calls, in one write: nothing needs to see it before (no
    worker takes it, no requeue pass looks for it).

    Edit sources and the mask are stored under random names until the job is done (inputs
    of a job never stored are pruned with the stale ones). `partial_images` is a streamed
    request's (arena.api.streaming).
    """
    output = output or OutputSpec()
    job = ImageJob(
        source=source,
        api_key_id=api_key_id,
        operation=gateway.Operation.EDIT if edit else gateway.Operation.GENERATE,
        model=model,
        prompt=request.prompt,
        size=request.size or "",
        n=request.n,
        quality=request.quality or "",
        style=request.style or "",
        seed=request.seed if request.seed is not None else new_seed(),
        extra=dict(request.extra),
        sources=_inputs_save(request.images),
        mask=_inputs_save((request.mask,))[0] if request.mask else "",
        timeout=request.timeout,
        max_offerings=request.max_offerings,
        poll_retries=request.poll_retries,
        output_format=output.output_format or "",
        output_compression=output.output_compression,
        background=output.background or "",
        partial_images=partial_images,
        created_at=timezone.now(),
    )
    if here:
        return job
    job.leased_until = queued_patience()
    job.save(force_insert=True)
    transaction.on_commit(partial(_enqueue, job.pk))
    return job


def jobs_run_here() -> bool:
    """Whether a request runs its own job in the web process (the embedded default: Celery
    eager, no worker) rather than waiting for a worker to run it."""
    from arena.celery import app

    return bool(app.conf.task_always_eager)


def _inputs_save(images: Iterable[bytes]) -> list[str]:
    return [
        default_storage.save(f"{JOB_INPUTS}/{uuid.uuid4().hex}.png", ContentFile(image))
        for image in images
    ]


def _enqueue(job_id: uuid.UUID) -> None:
    """Send the job to a worker; if the broker cannot take it, fail the job now, so its caller
    is told at once rather than when its wait runs out (no worker will ever see it)."""
    from arena.celery import task_send

    # The task's id is the job's, so a worker's log lines name the job they are about.
    if task_send("arena.api.tasks.image_job_run", str(job_id), task_id=str(job_id)):
        return
    job = ImageJob.objects.get(pk=job_id)
    ImageJob.objects.filter(pk=job_id, status=ImageJob.Status.QUEUED).update(
        status=ImageJob.Status.FAILED,
        error_kind=QUEUE_UNAVAILABLE,
        error="The image service cannot take work right now. Try again in a moment.",
        retry_after=QUEUE_RETRY_SECONDS,
        sources=[],
        mask="",
        finished_at=timezone.now(),
    )
    _inputs_delete(job)


def image_jobs_requeue_stale() -> int:
    """Send again the jobs whose worker died (running past their lease) or whose task was lost
    (queued past their patience), where that is still worth it: an asynchronous job (its caller
    polls or waits for the webhook), one whose provider job is paid for already (resumed, not
    bought again), and one whose caller may still be waiting. The others are failed: their
    caller was answered with a timeout long ago, and nothing is paid for them. Returns how many
    were sent."""
    now = timezone.now()
    worth = (
        Q(pk__in=JobDelivery.objects.values("job_id"))
        | Q(job__isnull=False)
        | Q(created_at__gte=now - timedelta(seconds=image_job_patience(None)))
    )
    ImageJob.objects.exclude(worth).abandoned().update(
        status=ImageJob.Status.FAILED,
        error_kind=INTERNAL_ERROR,
        error="The worker running this job stopped after its caller had stopped waiting.",
        finished_at=now,
    )
    stale = abandoned_take_back(ImageJob.objects.filter(worth))
    for job_id in stale:
        transaction.on_commit(partial(_enqueue, job_id))
    return len(stale)


def image_job_execute(*, job_id: str | uuid.UUID) -> ImageJob | None:
    """Run one job if this worker can claim it: call the gateway, store every attempt and the
    images, and remove the job's inputs.

    The claim is a conditional UPDATE, so two workers never run the same job; a job whose
    worker died is claimable again once its lease runs out. Returns the job, or None when there
    was nothing to do.
    """
    claimed_at = ImageJob.objects.claim(job_id)
    if claimed_at is None:
        return None
    job = ImageJob.objects.select_related("model", "delivery").get(pk=job_id)
    with lease_kept(ImageJob, job.pk, claimed_at):
        return _image_job_run(job, claimed_at)


def image_job_run_here(job: ImageJob) -> ImageJob:
    """Run a job made to be run by its caller (`image_job_create(here=True)`) in this process,
    and return it finished and stored. A process that dies meanwhile leaves nothing to resume:
    its caller is gone with it, and nothing was stored."""
    claimed_at = timezone.now()
    job.status, job.started_at, job.runs = ImageJob.Status.RUNNING, claimed_at, 1
    finished = _image_job_run(job, claimed_at)
    assert finished is not None, "nothing else can take over a job that is not stored"
    return finished


def _image_job_run(job: ImageJob, claimed_at: datetime) -> ImageJob | None:
    try:
        request = job.gateway_request()
        call = gateway.edit if job.operation == gateway.Operation.EDIT else gateway.generate
        result = call(
            request,
            job=gateway.JobRef.from_dict(job.job) if job.job else None,
            on_job=partial(_job_store, job, claimed_at),
            partials=job_partials(job),
        )
    except gateway.GatewayError as exc:
        return _job_finish(
            job,
            claimed_at,
            attempts=exc.attempts,
            error_kind=exc.kind.value,
            error=exc.message,
            error_status=exc.http_status,
            retry_after=exc.retry_after,
        )
    except Exception:
        # A waiting caller learns of it now rather than when its wait runs out.
        log.exception("image job %s failed", job.pk)
        return _job_finish(
            job, claimed_at, error_kind=INTERNAL_ERROR, error="The image job failed unexpectedly."
        )
    try:
        made = images_convert(result.images, job.output_spec)
    except (OSError, ValueError):  # Pillow's words for an image it cannot re-encode
        log.exception("image job %s: the images could not be converted", job.pk)
        return _job_finish(
            job,
            claimed_at,
            attempts=result.attempts,
            error_kind=INTERNAL_ERROR,
            error="The images were made but could not be converted to the format asked for.",
        )
    images = images_save(images=made, folder=job.source)
    finished = _job_finish(
        job,
        claimed_at,
        images=images,
        provider=result.provider,
        attempts=result.attempts,
        warnings=list(result.warnings),
        served=images_describe(made),
        tokens=result.tokens,
        seeds=seeds_told(result.seeds, sent_seed=job.seed, n=job.n),
        revised_prompts=list(result.revised_prompts),
        safety_flags=list(result.safety),
    )
    if finished is None:
        for name in images:
            default_storage.delete(name)
    return finished


def _job_store(job: ImageJob, claimed_at: datetime, provider_job: gateway.JobRef) -> None:
    ImageJob.objects.provider_job_keep(job.pk, claimed_at, provider_job)


def _job_finish(
    job: ImageJob,
    claimed_at: datetime,
    *,
    attempts: Iterable[gateway.Attempt] = (),
    error_kind: str = "",
    **outcome: Any,
) -> ImageJob | None:
    """Record the calls and the outcome in one transaction, so a worker that dies leaves both
    or neither, and remove the inputs, unless another worker took the job over: then only the
    calls the new holder will not record (the provider job it holds is its to record)."""
    attempts = list(attempts)
    changes = {
        "status": ImageJob.Status.FAILED if error_kind else ImageJob.Status.READY,
        "error_kind": error_kind,
        "attempts": len(attempts),
        "cost": sum((attempt.cost for attempt in attempts), Decimal("0")),
        "sources": [],
        "mask": "",
        "job": None,
        "finished_at": timezone.now(),
        **outcome,
    }
    inputs = [*job.sources, *([job.mask] if job.mask else [])]
    with transaction.atomic():
        if job._state.adding:  # run by its caller, stored now (image_job_run_here)
            _fields_set(job, changes)
            job.save(force_insert=True)
            updated = 1
        else:
            updated = ImageJob.objects.held(job.pk, claimed_at).update(**changes)
        if not updated:
            held = ImageJob.objects.filter(pk=job.pk).values_list("job", flat=True).first()
            if job_id := (held or {}).get("job_id"):
                attempts = [a for a in attempts if a.provider_request_id != job_id]
        calls_record(
            attempts=attempts,
            operation=gateway.Operation(job.operation),
            source=job.source,
            model=job.model,
            sent_seed=job.seed,
            n=job.n,
        )
    if not updated:
        log.warning("image job %s was taken over by another worker", job.pk)
        return None
    _files_delete(inputs)
    transaction.on_commit(partial(job_finished_ring, job.pk))
    _fields_set(job, changes)  # the row as it now is, without reading it back
    return job


def _fields_set(job: ImageJob, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(job, name, value)


def _inputs_delete(job: ImageJob) -> None:
    _files_delete([*job.sources, *([job.mask] if job.mask else [])])


def _files_delete(names: Iterable[str]) -> None:
    for name in names:
        default_storage.delete(name)


def image_job_wait(*, job_id: uuid.UUID, timeout: float | None = None) -> ImageJob:
    """The job once it is finished, or as it is after `timeout` seconds (by default the job's
    deadline, or else the gateway's, and a margin for the queue).

    The row is where a worker's answer reaches the web process, whichever worker ran it, so
    that is where we look: at once, then after each pause, which the worker's bell
    (arena.api.wakeup) cuts short when it finishes the job. In the embedded default (Celery
    eager) the job runs here unless it already ran: its task is sent when the request's
    transaction commits, which an enclosing transaction (a test's, a management command's)
    can hold back; the claim makes sure it runs once either way.
    """
    from arena.celery import app

    jobs = ImageJob.objects.select_related("model")
    job = jobs.get(pk=job_id)
    if not job.finished and app.conf.task_always_eager:
        job = image_job_execute(job_id=job_id) or jobs.get(pk=job_id)
    deadline = time.monotonic() + (image_job_patience(job.timeout) if timeout is None else timeout)
    pause = WAIT_FIRST_PAUSE
    while not job.finished and (left := deadline - time.monotonic()) > 0:
        job_finished_wait(job.pk, min(pause, left))
        pause = min(pause * 2, WAIT_LONGEST_PAUSE)
        job = jobs.get(pk=job_id)
    return job


def image_job_patience(timeout: float | None) -> float:
    """How long the web waits for a job asked to finish within `timeout` seconds (None: the
    gateway's own deadline): that, and a margin for the queue."""
    return min(timeout or math.inf, gateway.default_gateway().timeout) + WAIT_MARGIN_SECONDS


def image_job_images(*, job: ImageJob) -> list[bytes]:
    """The job's images as stored."""
    images = []
    for name in job.images:
        with default_storage.open(name, "rb") as file:
            images.append(file.read())
    return images


def images_save(*, images: list[bytes], folder: str) -> list[str]:
    """Store images as the providers made them, under random names (nothing in a URL says
    which model made them), with the extension of their real format."""
    return [
        default_storage.save(
            f"{folder}/{uuid.uuid4().hex}.{_extension(image)}", ContentFile(image)
        )
        for image in images
    ]


def _extension(image: bytes) -> str:
    with Image.open(io.BytesIO(image)) as opened:  # reads the header only
        return EXTENSIONS.get(opened.format or "", "png")


IMAGE_FOLDERS = ("api", "playground", JOB_INPUTS)


def api_images_expire() -> int:
    """Delete the images whose URLs have expired (and the playground's, and stale inputs, as
    old); returns how many."""
    return api_images_prune(older_than=url_lifetime() + PRUNE_GRACE)


def api_images_expire_if_due() -> None:
    """Where no beat prunes, a request does it now and then (outputs.prune_due)."""
    if prune_due():
        api_images_expire()


def api_images_prune(*, older_than: timedelta) -> int:
    """Delete the API's and the playground's images older than that, and the inputs of jobs
    that never ran; returns how many.

    Like OpenAI's image URLs, ours are for fetching the result, not for hosting it.
    """
    cutoff = timezone.now() - older_than
    deleted = 0
    for folder in IMAGE_FOLDERS:
        if not default_storage.exists(folder):
            continue
        for name in default_storage.listdir(folder)[1]:
            path = f"{folder}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted += 1
    return deleted
