"""`stream: true`: the images API's answer as server-sent events, partial images first.

OpenAI's shapes (platform.openai.com/docs/api-reference/images-streaming; openai-python
src/openai/types/image_gen_partial_image_event.py, image_gen_completed_event.py and their
image_edit_ twins): `image_generation.partial_image` events with `b64_json` and
`partial_image_index`, then one `image_generation.completed` per image, each echoing `size`,
`quality`, `background` and `output_format`; an edit's events are `image_edit.*`. A failure
once the stream has begun is an event whose data holds `error`, which the SDK raises
(src/openai/_streaming.py); before it has begun, the ordinary JSON error, with its status.

The web process never calls a provider, so the partial images come from whoever runs the job,
through arena.api.partials: a worker's arrive over Redis as they are made; running eagerly
(the embedded default) the job runs in a thread of the web process, as a worker would, and
hands them over directly. Either way the wait is bounded by the job's own deadline, as a
request that is not streamed is.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connections
from django.http import StreamingHttpResponse
from PIL import Image

from arena.api.jobs import job_description
from arena.api.models import ApiKey, ImageJob
from arena.api.outputs import usage_body
from arena.api.params import ApiError, ImageParams
from arena.api.partials import partials_handed, partials_relayed
from arena.api.services import (
    image_job_create,
    image_job_images,
    image_job_patience,
    image_job_wait,
)

FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
# Only token-billed providers report tokens, and a job keeps none: the SDK's type asks for the
# field, so it is there, empty.
NO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
    "output_tokens": 0,
    "total_tokens": 0,
}

Outcome = Callable[[ImageJob], ImageJob]


def images_stream(
    params: ImageParams, *, edit: bool, api_key: ApiKey, outcome: Outcome
) -> StreamingHttpResponse:
    """Run the request as a job and answer its events as they come. `outcome` is the view's
    reading of a finished job: the job if it made its images, else the ApiError to answer."""
    from arena.celery import app

    def create() -> ImageJob:
        return image_job_create(
            request=params.request,
            model=params.model,
            edit=edit,
            source=ImageJob.Source.API,
            api_key_id=api_key.pk,
            output=params.output,
            partial_images=params.partial_images,
        )

    if app.conf.task_always_eager:
        arriving = _run_here(create)
    else:
        job = create()
        deadline = time.monotonic() + image_job_patience(job.timeout)
        arriving = itertools.chain(partials_relayed(job.pk, deadline), _over(job.pk, deadline))
    first = next(arriving)
    if isinstance(first, uuid.UUID):
        # Finished, or timed out, with nothing shown yet: still time for a plain error.
        outcome(image_job_wait(job_id=first, timeout=0))
    return _response(
        _events(itertools.chain([first], arriving), params, edit=edit, outcome=outcome)
    )


def _run_here(create: Callable[[], ImageJob]) -> Iterator[bytes | uuid.UUID]:
    """Running eagerly: the job made and run in a thread of this process, as a worker would
    run it, so that its partial images can be passed on while it runs; then its id."""
    handed: queue.SimpleQueue[bytes | uuid.UUID | BaseException] = queue.SimpleQueue()

    def run() -> None:
        try:
            with partials_handed(handed.put):
                handed.put(image_job_wait(job_id=create().pk).pk)
        except BaseException as exc:  # the view's thread raises it
            handed.put(exc)
        finally:
            connections.close_all()

    threading.Thread(target=run, name="image-job-here", daemon=True).start()
    while True:
        item = handed.get()
        if isinstance(item, BaseException):
            raise item
        yield item
        if isinstance(item, uuid.UUID):
            return


def _over(job_id: uuid.UUID, deadline: float) -> Iterator[uuid.UUID]:
    """The job's id once it is finished or its deadline passed: partial images stop coming
    early when Redis is away."""
    image_job_wait(job_id=job_id, timeout=max(0.0, deadline - time.monotonic()))
    yield job_id


def _events(
    arriving: Iterable[bytes | uuid.UUID], params: ImageParams, *, edit: bool, outcome: Outcome
) -> Iterator[bytes]:
    """Each partial image as it arrives, then, once the job's id says it is over, its images,
    or its failure."""
    prefix = "image_edit" if edit else "image_generation"
    wanted = params.partial_images or 0
    shown = 0
    for item in arriving:
        if not isinstance(item, uuid.UUID):
            # A fallback to another provider starts its stages again: they are numbered
            # here, and no more are sent than were asked for.
            if shown < wanted:
                yield _event(
                    f"{prefix}.partial_image",
                    _described(item, params) | {"partial_image_index": shown},
                )
                shown += 1
            continue
        try:
            job = outcome(image_job_wait(job_id=item, timeout=0))
        except ApiError as error:
            yield _event("error", error.body())
            return
        # The headers a whole answer carries left before the job was done: here they are SSE
        # comments, which every event-stream reader (the SDK's too) passes over.
        described = job_description(job).items()
        yield "".join(f": {name}: {value}\n" for name, value in described).encode() + b"\n"
        # The SDK's completed event requires `usage`: zeros where no provider reported tokens.
        usage = usage_body(job.tokens) if job.tokens else NO_USAGE
        for image in image_job_images(job=job):
            yield _event(f"{prefix}.completed", _described(image, params) | {"usage": usage})


def _described(image: bytes, params: ImageParams) -> dict[str, Any]:
    """The image and what gpt-image echoes with it: its real size and format, and the quality
    and background asked for."""
    with Image.open(io.BytesIO(image)) as opened:  # reads the header only
        size, image_format = f"{opened.width}x{opened.height}", opened.format or "PNG"
    background = params.request.extra.get("background")
    return {
        "b64_json": base64.b64encode(image).decode(),
        "created_at": int(time.time()),
        "size": size,
        "quality": params.request.quality or "auto",
        "background": background if isinstance(background, str) else "auto",
        "output_format": FORMATS.get(image_format, "png"),
    }


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind} | data)}\n\n".encode()


def _response(events: Iterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx passes each event on as it comes
    return response
