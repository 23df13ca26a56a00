"""The images API's requests, read and checked: OpenAI's parameters, OpenAI's error shapes.

This module checks the shape of a request (types, required fields, the values OpenAI names,
an edit's mask as OpenAI takes one); what a model can do with it (the operation, the size, n,
the sources, the prompt's length) is the gateway's to judge, and a request the gateway could
never serve is refused here, with the parameter at fault named, before any job is queued.
Parameters this API does not know are passed to the providers: under a provider's
id to that provider only, at the top level to the providers that declare them (the gateway
drops, with a warning, what a provider cannot take).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from PIL import Image

import gateway
from arena.api.lookups import competition_prompts, model_named
from arena.api.outputs import OutputRefused, OutputSpec, output_spec
from arena.catalog.guard import image_phashes
from arena.catalog.importing import unstorable
from arena.catalog.models import AIModel, Arena, new_seed
from arena.catalog.uploads import MAX_BYTES, UploadRejected, mask_image_clean, source_image_clean
from gateway.normalize import QUALITY_LEVELS

WHOLE_NUMBER = re.compile(r"[0-9]{1,4}")  # str.isdigit() takes "²", which int() refuses
MAX_DEPTH = 16  # how deeply the values of parameters passed on to providers may nest
MAX_SEED = 2**63 - 1
RESPONSE_FORMATS = ("url", "b64_json")
# OpenAI's words for these (openai-python src/openai/types/image_generate_params.py); the
# gateway sends each model the nearest quality it takes. "auto" leaves it to the model.
QUALITIES = ("auto", *QUALITY_LEVELS)
STYLES = ("vivid", "natural")
KNOWN = {"model", "prompt", "n", "size", "quality", "style", "response_format", "user", "seed"}
# The API layer encodes the images itself (arena.api.outputs): not passed on as they are.
OUTPUT_PARAMS = {"output_format", "output_compression", "background"}

KNOWN |= {"stream", "partial_images"}  # arena.api.streaming
MAX_PARTIAL_IMAGES = 3
# The gateway's request fields whose name in OpenAI's API differs.
OPENAI_PARAMS = {"images": "image"}
# A request's own deadline, in seconds: a header, so the body stays exactly OpenAI's.
TIMEOUT_HEADER = "X-Arena-Timeout"
# How many of the model's offerings a request may try (1: no fallback), and how many transient
# errors on its jobs' polls it may retry: headers too, each at most the server's own.
OFFERINGS_HEADER = "X-Arena-Max-Offerings"
RETRIES_HEADER = "X-Arena-Retries"


class ApiError(Exception):
    """A refusal, as OpenAI words them: {"error": {"message", "type", "param", "code"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.kind = kind
        self.retry_after = retry_after
        self.should_retry = should_retry  # sent as x-should-retry when not None

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }


@dataclass(frozen=True)
class RequestBounds:
    """What a caller's headers ask of its request's deadline, fallbacks and retries (None: the
    server's own)."""

    timeout: float | None = None
    max_offerings: int | None = None
    poll_retries: int | None = None


@dataclass(frozen=True)
class ImageParams:
    """A checked request: what to ask the gateway, and how the caller wants the images."""

    request: gateway.ImageRequest
    model: AIModel  # the row of request.model, looked up by the check
    response_format: str = "url"
    output: OutputSpec = field(default_factory=OutputSpec)
    # `stream: true`: how many partial images to send before the final one; None: not streamed
    partial_images: int | None = None


def image_params(
    data: Mapping[str, Any],
    files: Mapping[str, list[UploadedFile]] | None = None,
    *,
    edit: bool,
    max_n: int | None = None,
    bounds: RequestBounds = RequestBounds(),
    typed: bool = False,
) -> ImageParams:
    """Check a generations (JSON) or edits (multipart) request; ApiError at the first fault.

    `max_n` caps n below what the model takes (the playground's allowance); `bounds` are the
    caller's deadline, fallbacks and retries, as `request_bounds` read them; `typed` says the
    body is JSON, where a number sent as text is refused as OpenAI refuses it (a form's fields
    are all text)."""
    for name, value in data.items():
        _readable(name, value)
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "prompt is required: describe the image you want.", param="prompt")
    model = _model(data.get("model"))
    n, size = _n(data.get("n", 1), max_n, typed=typed), _text(data, "size")
    quality, style = _choice(data, "quality", QUALITIES), _choice(data, "style", STYLES)
    response_format = _response_format(data.get("response_format"))
    output = _output(data)
    images, mask = _uploads(files or {}) if edit else ((), None)
    request = gateway.ImageRequest(
        model=model.slug,
        prompt=prompt,
        size=None if size == "auto" else size,
        n=n,
        quality=None if quality == "auto" else quality,
        style=style,
        images=images,
        mask=mask,
        seed=_seed(data.get("seed")),
        extra=_extra(data, output),
        timeout=bounds.timeout,
        max_offerings=bounds.max_offerings,
        poll_retries=bounds.poll_retries,
    )
    _gateway_check(request, edit=edit)
    _not_in_competition(prompt, images, edit=edit)
    partial_images = _partial_images(data, multipart=edit)
    return ImageParams(request, model, response_format, output, partial_images)


def request_bounds(headers: Mapping[str, str]) -> RequestBounds:
    """The bounds a caller's headers ask for, each within the server's own; ApiError (400,
    naming the header) for a value that is not one."""
    settings = gateway.default_gateway().settings
    return RequestBounds(
        timeout=request_timeout(headers.get(TIMEOUT_HEADER)),
        max_offerings=request_count(
            headers.get(OFFERINGS_HEADER), OFFERINGS_HEADER, least=1, most=settings.offerings()
        ),
        poll_retries=request_count(
            headers.get(RETRIES_HEADER), RETRIES_HEADER, least=0, most=settings.poll_retries
        ),
    )


def request_count(value: str | None, header: str, *, least: int, most: int) -> int | None:
    """A whole number of at least `least` a caller asks for in `header`, at most `most`:
    asking for more gets the most there is, so no caller can buy more fallbacks or retries
    than the server allows."""
    if value is None or not value.strip():
        return None
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()):
        count = None
    else:
        digits = digits.lstrip("0") or "0"
        count = most if len(digits) > len(str(most)) else min(int(digits), most)
    if count is None or count < least:
        raise ApiError(
            400,
            f"{header} must be a whole number of {least} or more (at most {most} is used); "
            f"got {value[:40]!r}.",
            param=header,
        )
    return count


def request_timeout(value: str | None) -> float | None:
    """The deadline a caller asks for in seconds (the X-Arena-Timeout header), at most the
    gateway's own: asking for more gets the most there is, not a refusal."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ApiError(
            400,
            f"{TIMEOUT_HEADER} must be a number of seconds above 0, like 60; got {value[:40]!r}.",
            param=TIMEOUT_HEADER,
        )
    return min(seconds, gateway.default_gateway().timeout)


def _gateway_check(request: gateway.ImageRequest, *, edit: bool) -> None:
    """The gateway's refusal of a request no provider of the model could fulfil, as OpenAI's
    400 (or 404, for a model the gateway does not know) naming the parameter at fault."""
    operation = gateway.Operation.EDIT if edit else gateway.Operation.GENERATE
    try:
        gateway.default_gateway().check(request, operation)
    except gateway.RequestRefused as refused:
        raise ApiError(
            refused.http_status or 400,
            refused.message,
            param=OPENAI_PARAMS.get(refused.param, refused.param),
            code="model_not_found" if refused.kind is gateway.ErrorKind.UNKNOWN_MODEL else None,
        ) from None


def _not_in_competition(prompt: str, images: tuple[bytes, ...], *, edit: bool) -> None:
    """Refuse to run a prompt that battles now show: its images, made here model by model,
    would tell a voter which model made which battle image. Neither punctuation, case, width
    or invisible characters in the text, nor a touched, re-encoded or resized source image,
    make it another prompt (arena.catalog.guard)."""
    arena = Arena.EDIT if edit else Arena.T2I
    sources = [phash for image in images for phash in image_phashes(image)]
    if not competition_prompts(arena).reproduced_by(prompt, sources):
        return
    if edit:
        raise ApiError(
            400,
            "This picture is the source of one of the arena's competition prompts: to keep the "
            "votes blind, it can't be edited here while it is in battles. Use a picture of your "
            "own.",
            param="image",
            code="competition_prompt",
        )
    raise ApiError(
        400,
        "This is one of the arena's competition prompts: to keep the votes blind, it can't "
        "be run here while it is in battles. Try your own wording.",
        param="prompt",
        code="competition_prompt",
    )


def _model(slug: object) -> AIModel:
    if not isinstance(slug, str) or not slug:
        raise ApiError(400, "model is required: GET /openai/v1/models lists them.", param="model")
    model = model_named(slug)
    if model is None:
        raise ApiError(
            404,
            f"The model '{slug}' does not exist. GET /openai/v1/models lists the models.",
            param="model",
            code="model_not_found",
        )
    return model


def _readable(name: str, value: object) -> None:
    """Refuse what no model can read and PostgreSQL cannot store (the request is kept as a
    job): lone surrogates and NUL characters in a parameter's name or value, NaN and the
    infinities, and values nested deeper than MAX_DEPTH."""
    pending: list[tuple[object, int]] = [(name, 0), (value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, f"{name} is nested too deeply.", param=_param(name))
        if isinstance(item, str):
            if unstorable(item):
                raise ApiError(
                    400,
                    f"{_param(name) or 'A parameter name'} holds a character that is not "
                    "valid text (a NUL or a lone surrogate).",
                    param=_param(name),
                )
        elif isinstance(item, float) and not math.isfinite(item):
            raise ApiError(
                400,
                f"{_param(name)} is NaN or Infinity, which no model can read.",
                param=_param(name),
            )
        elif isinstance(item, dict):
            pending += [(element, depth + 1) for pair in item.items() for element in pair]
        elif isinstance(item, list):
            pending += [(element, depth + 1) for element in item]


def _param(name: str) -> str | None:
    """The parameter's name as an error may quote it, or None if the name itself is bad."""
    return None if unstorable(name) else name


def _output(data: Mapping[str, Any]) -> OutputSpec:
    try:
        return output_spec(data)
    except OutputRefused as refused:
        raise ApiError(400, refused.message, param=refused.param) from None


def _extra(data: Mapping[str, Any], output: OutputSpec) -> dict[str, Any]:
    """The parameters this API does not know, for the providers. Those named after a provider
    (`{"fal": {...}}`, which the OpenAI SDK's `extra_body` sends at the top level) go to that
    provider only and must be an object; a multipart edit sends it as a JSON text. A
    transparent background only a model can draw: that one is passed on."""
    extra = {key: value for key, value in data.items() if key not in KNOWN | OUTPUT_PARAMS}
    if output.background == "transparent":
        extra["background"] = output.background
    for provider in gateway.PROVIDER_IDS & extra.keys():
        options = extra[provider]
        if isinstance(options, str):
            try:
                options = json.loads(options)
            except ValueError:
                options = None
        if not isinstance(options, dict):
            raise ApiError(
                400,
                f"{provider} must be an object of {provider}'s own options, "
                f'e.g. {{"{provider}": {{"option": "value"}}}}.',
                param=provider,
            )
        extra[provider] = options
    return extra


def _n(value: object, most: int | None, *, typed: bool) -> int:
    if not typed and isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "n must be a whole number.", param="n")
    if most is not None and not 1 <= value <= most:
        raise ApiError(400, f"n must be a whole number from 1 to {most}.", param="n")
    return value


def _seed(value: object) -> int:
    """The caller's seed, or a fresh secret one: a seed nobody chose is never shown."""
    if value is None:
        return new_seed()
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)  # a multipart field
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ApiError(
            400, f"seed must be a whole number from 0 to {MAX_SEED} (2**63 - 1).", param="seed"
        )
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string.", param=name)
    return value


def _choice(data: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = _text(data, name)
    if value is not None and value not in choices:
        raise ApiError(
            400,
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value[:40]!r}.",
            param=name,
        )
    return value


def _response_format(value: object) -> str:
    if value is None:
        return "url"
    if value not in RESPONSE_FORMATS:
        raise ApiError(
            400, "response_format must be 'url' or 'b64_json'.", param="response_format"
        )
    return str(value)


def _uploads(files: Mapping[str, list[UploadedFile]]) -> tuple[tuple[bytes, ...], bytes | None]:
    uploads = [*files.get("image", []), *files.get("image[]", [])]
    if not uploads:
        raise ApiError(400, "image is required: attach the image to edit.", param="image")
    images = tuple(_clean(upload, "image", source_image_clean) for upload in uploads)
    masks = files.get("mask", [])
    return images, _mask(masks[0], images[0]) if masks else None


def _mask(upload: UploadedFile, image: bytes) -> bytes:
    """The mask as OpenAI takes one: a PNG of the first image's size whose fully transparent
    pixels mark where to edit (openai-python src/openai/resources/images.py `mask`). The
    messages are OpenAI's own, as its image models word them, with what was sent."""
    mask = _clean(upload, "mask", mask_image_clean)
    with Image.open(io.BytesIO(mask)) as opened, Image.open(io.BytesIO(image)) as source:
        if opened.size != source.size:
            raise _mask_error(
                "mask size does not match image size: the mask is "
                f"{opened.size[0]}x{opened.size[1]}, the image {source.size[0]}x{source.size[1]}."
            )
        if opened.getchannel("A").getextrema()[0] != 0:
            raise _mask_error(
                "mask image missing alpha channel: its fully transparent pixels (alpha 0) mark "
                "where to edit, and it has none."
            )
    return mask


def _mask_error(reason: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid mask image format - {reason}",
        param="mask",
        code="invalid_mask_image_format",
        kind="image_generation_user_error",
    )


def _clean(upload: UploadedFile, param: str, clean: Callable[[bytes, str], bytes]) -> bytes:
    name = upload.name or ""
    try:
        if (upload.size or 0) > MAX_BYTES:  # refused before it is read into memory
            raise UploadRejected(f"The file is larger than {MAX_BYTES // 2**20} MB.")
        return clean(upload.read(), name)
    except UploadRejected as exc:
        raise ApiError(400, f"{param}: {exc}", param=param) from None


def _partial_images(data: Mapping[str, Any], *, multipart: bool) -> int | None:
    """With `stream: true`, the `partial_images` wanted (0 to 3, OpenAI's range; 0 unless
    given); None for a request that is not streamed. A multipart edit sends both as text."""
    stream, partial_images = data.get("stream"), data.get("partial_images")
    if stream is None:
        stream = False
    elif multipart and stream in ("true", "false"):
        stream = stream == "true"
    if not isinstance(stream, bool):
        raise ApiError(400, "stream must be true or false.", param="stream")
    if partial_images is None:
        return 0 if stream else None
    if multipart and isinstance(partial_images, str) and WHOLE_NUMBER.fullmatch(partial_images):
        partial_images = int(partial_images)
    if (
        isinstance(partial_images, bool)
        or not isinstance(partial_images, int)
        or not 0 <= partial_images <= MAX_PARTIAL_IMAGES
    ):
        raise ApiError(
            400,
            f"partial_images must be a whole number from 0 to {MAX_PARTIAL_IMAGES}.",
            param="partial_images",
        )
    return partial_images if stream else None
