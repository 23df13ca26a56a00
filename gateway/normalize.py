"""What each provider does with each request parameter, and the checks made before any call.

Every provider declares a table: parameter -> ParamRule (one of five modes, the provider's own
name or form for it, a note). The catalog can override a mode per offering (`params = { style =
"passthrough" }`) where one model of a provider differs from the rest. The table is data: the
model page shows it, and `prepare` applies it.
"""

from __future__ import annotations

import enum
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gateway.catalog import ModelSpec, OfferingSpec
from gateway.errors import RequestRefused
from gateway.http import image_mime
from gateway.types import ErrorKind, ImageRequest, Operation


class ParamMode(enum.StrEnum):
    PASSTHROUGH = "passthrough"  # sent as given, under the same name
    RENAMED = "renamed"  # sent as given, under the provider's name
    CONVERTED = "converted"  # translated into the provider's form (size -> aspect ratio)
    EMULATED = "emulated"  # done by the gateway (n by parallel calls, response_format)
    UNSUPPORTED = "unsupported"  # dropped, with a warning on the attempt and the result


@dataclass(frozen=True, slots=True)
class ParamRule:
    mode: ParamMode
    wire: str = ""  # the provider's name or form for the parameter
    note: str = ""


ParamTable = Mapping[str, ParamRule]


@dataclass(frozen=True, slots=True)
class Shapes:
    """The image shapes an offering takes: the sizes it names, or the aspect ratios it names,
    or (neither) any WIDTHxHEIGHT up to the model's maximum. A request's size goes to the
    nearest of those named."""

    sizes: tuple[str, ...] = ()
    aspect_ratios: tuple[str, ...] = ()


# Request fields that a provider may be unable to honour; they are dropped, not refused.
DROPPABLE = ("quality", "style", "mask", "seed")
# Providers take 32-bit seeds (Gemini's is an int32), so a seed is sent modulo this.
SEED_RANGE = 2**31

# "WIDTHxHEIGHT" in ASCII digits (int() reads full-width ones too), no leading zeros, so one
# size has one spelling; five digits at most, so a side is never a number too long to read.
SIZE = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")
# The smallest side a request may ask for; the largest is each model's, in the catalog.
MIN_SIDE = 64

ASPECT_RATIOS = ("1:1", "3:2", "2:3", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# Sizes within this relative distance of a ratio count as that ratio (1344x768 is Gemini's own
# 16:9), so only a real change of shape earns a warning.
RATIO_TOLERANCE = 0.03


def effective_params(table: ParamTable, offering: OfferingSpec) -> dict[str, ParamRule]:
    """The provider's table with the offering's catalog overrides applied."""
    rules = dict(table)
    for name, mode in offering.options.get("params", {}).items():
        base = rules.get(name, ParamRule(ParamMode.UNSUPPORTED))
        rules[name] = replace(base, mode=ParamMode(mode), wire=base.wire or name)
    return rules


def parse_size(size: str | None) -> tuple[int, int] | None:
    """(width, height) from "WIDTHxHEIGHT"; None for no size or OpenAI's "auto"."""
    if size is None or size == "auto":
        return None
    match = SIZE.fullmatch(size)
    if match is None:
        raise RequestRefused(
            ErrorKind.INVALID_REQUEST,
            "size must look like 1024x1024 (width x height) or be 'auto'.",
            param="size",
        )
    return int(match[1]), int(match[2])


def check(spec: ModelSpec, request: ImageRequest, operation: Operation) -> None:
    """Refuse, before any network call, a request the model cannot fulfil."""
    if operation not in spec.operations:
        able = " and ".join(sorted(able.value for able in spec.operations))
        raise RequestRefused(
            ErrorKind.UNSUPPORTED,
            f"Model '{spec.id}' cannot {operation.value} images, only {able} them.",
            param="model",
        )
    if not 1 <= request.n <= spec.max_n:
        raise RequestRefused(
            ErrorKind.INVALID_REQUEST,
            f"n must be between 1 and {spec.max_n} for '{spec.id}', not {request.n}.",
            param="n",
        )
    _check_size(spec, request.size)
    if operation is Operation.EDIT:
        if not request.images:
            raise RequestRefused(
                ErrorKind.INVALID_REQUEST, "An edit needs a source image.", param="images"
            )
        if len(request.images) > spec.max_input_images:
            raise RequestRefused(
                ErrorKind.UNSUPPORTED,
                f"Model '{spec.id}' takes at most {spec.max_input_images} source image(s), "
                f"not {len(request.images)}.",
                param="images",
            )
        for index, image in enumerate(request.images, start=1):
            if image_mime(image) is None:
                raise RequestRefused(
                    ErrorKind.INVALID_REQUEST,
                    f"Source image {index} is not a readable image.",
                    param="images",
                )
    if request.mask is not None and image_mime(request.mask) is None:
        raise RequestRefused(
            ErrorKind.INVALID_REQUEST, "The mask is not a readable image.", param="mask"
        )


def _check_size(spec: ModelSpec, size: str | None) -> None:
    dimensions = parse_size(size)
    if dimensions is None:
        return
    if min(dimensions) < MIN_SIDE:
        raise RequestRefused(
            ErrorKind.INVALID_REQUEST,
            f"size sides must be at least {MIN_SIDE} pixels, not {size}.",
            param="size",
        )
    if dimensions[0] > spec.max_width or dimensions[1] > spec.max_height:
        raise RequestRefused(
            ErrorKind.UNSUPPORTED,
            f"Model '{spec.id}' makes images up to {spec.max_width}x{spec.max_height}; "
            f"{size} is larger.",
            param="size",
        )


def prepare(
    rules: ParamTable, offering: OfferingSpec, request: ImageRequest
) -> tuple[ImageRequest, tuple[str, ...]]:
    """The request as this offering can take it, and a warning for each thing dropped."""
    dropped: dict[str, Any] = {
        name: None
        for name in DROPPABLE
        if getattr(request, name) is not None
        and rules.get(name, ParamRule(ParamMode.UNSUPPORTED)).mode is ParamMode.UNSUPPORTED
    }
    warnings = tuple(
        f"{offering.key} does not support {name}; it was ignored." for name in dropped
    )
    return replace(request, **dropped), warnings


def wire_seed(seed: int) -> int:
    """The request's seed in the range every provider accepts."""
    return seed % SEED_RANGE


def call_seed(seed: int | None, call: int) -> int | None:
    """The seed of the `call`-th of several parallel calls that make one request's images:
    the request's own for the first, one derived from it for the others, so a provider that
    makes one image per call does not return the same picture n times."""
    if seed is None or call == 0:
        return seed
    digest = hashlib.sha256(f"{seed}:{call}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return float(width) / float(height)


def nearest_aspect_ratio(
    size: str | None, allowed: Sequence[str] = ASPECT_RATIOS
) -> tuple[str | None, tuple[str, ...]]:
    """The allowed ratio nearest the size's shape, and a warning when it changes the shape."""
    dimensions = parse_size(size)
    if dimensions is None:
        return None, ()
    shape = math.log(dimensions[0] / dimensions[1])
    ratio = min(allowed, key=lambda candidate: abs(math.log(ratio_value(candidate)) - shape))
    if abs(math.exp(shape) / ratio_value(ratio) - 1) <= RATIO_TOLERANCE:
        return ratio, ()
    return ratio, (f"Size {size} was sent as the nearest aspect ratio the model takes, {ratio}.",)


def nearest_size(size: str | None, allowed: Sequence[str]) -> tuple[str | None, tuple[str, ...]]:
    """The allowed "WxH" nearest in shape, then in area, to the size asked for."""
    dimensions = parse_size(size)
    if dimensions is None or not allowed or size in allowed:
        return size, ()
    width, height = dimensions

    def distance(candidate: str) -> tuple[float, float]:
        other = parse_size(candidate)
        assert other is not None
        return (
            round(abs(math.log((other[0] / other[1]) / (width / height))), 3),
            abs(math.log((other[0] * other[1]) / (width * height))),
        )

    chosen = min(allowed, key=distance)
    return chosen, (f"Size {size} was sent as the nearest size the model takes, {chosen}.",)
