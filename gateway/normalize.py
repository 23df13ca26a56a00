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
from collections.abc import Collection, Mapping, Sequence
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

    @classmethod
    def ratios_of(cls, offering: OfferingSpec) -> Shapes:
        """The aspect ratios the offering's catalog entry names, else the common ten."""
        return cls(aspect_ratios=tuple(offering.options.get("aspect_ratios", ASPECT_RATIOS)))


# Request fields that a provider may be unable to honour; they are dropped, not refused.
DROPPABLE = ("quality", "style", "mask", "seed")
# Providers take 32-bit seeds (Gemini's is an int32), so a seed is sent modulo this.
SEED_RANGE = 2**31

# "WIDTHxHEIGHT" in ASCII digits (int() reads full-width ones too), no leading zeros, so one
# size has one spelling; five digits at most, so a side is never a number too long to read.
SIZE = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")
RATIO = re.compile(r"[1-9][0-9]*:[1-9][0-9]*")
# The smallest side a request may ask for; the largest is each model's, in the catalog.
MIN_SIDE = 64

ASPECT_RATIOS = ("1:1", "3:2", "2:3", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# Sizes within this relative distance of a ratio count as that ratio (1344x768 is Gemini's own
# 16:9), so only a real change of shape earns a warning.
RATIO_TOLERANCE = 0.03

# Qualities by how much they ask for, so a value one model names differently maps to the
# nearest another takes: DALL-E's standard / hd and gpt-image's low / medium / high / xhigh /
# max (openai-python src/openai/types/image_generate_params.py `quality`).
QUALITY_LEVELS = {
    "low": 0,
    "standard": 1,
    "medium": 1,
    "hd": 2,
    "high": 2,
    "xhigh": 3,
    "max": 4,
}
# Gemini's imageConfig.imageSize tiers, by the side of the square image each makes.
IMAGE_SIZE_SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
# How much of a caller's option name a warning quotes (warnings travel in a response header).
MAX_NAME = 40


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
    if len(request.prompt) > spec.max_prompt_chars:
        raise RequestRefused(
            ErrorKind.INVALID_REQUEST,
            f"prompt is {len(request.prompt):,} characters long; '{spec.id}' takes at most "
            f"{spec.max_prompt_chars:,}.",
            param="prompt",
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
    rules: ParamTable,
    offering: OfferingSpec,
    request: ImageRequest,
    *,
    extra_params: Collection[str] = (),
    scopes: Collection[str] = (),
) -> tuple[ImageRequest, tuple[str, ...]]:
    """The request as this offering can take it, and a warning for each thing dropped or
    changed: parameters the provider lacks, a quality the offering's catalog `qualities` do
    not list (sent as the nearest that it does), extras meant for other providers."""
    dropped: dict[str, Any] = {
        name: None
        for name in DROPPABLE
        if getattr(request, name) is not None
        and rules.get(name, ParamRule(ParamMode.UNSUPPORTED)).mode is ParamMode.UNSUPPORTED
    }
    warnings = [f"{offering.key} does not support {name}; it was ignored." for name in dropped]
    request = replace(request, **dropped)
    if request.quality is not None and "qualities" in offering.options:
        quality, said = nearest_quality(offering, request.quality)
        request = replace(request, quality=quality)
        warnings += said
    extra, said = scoped_extras(
        request.extra, offering.provider, extra_params=extra_params, scopes=scopes
    )
    return replace(request, extra=extra), (*warnings, *said)


def nearest_quality(offering: OfferingSpec, quality: str) -> tuple[str | None, tuple[str, ...]]:
    """The quality of the offering's catalog `qualities` nearest the one asked for (hd ->
    high, standard -> medium), or None, never sending one the model refuses."""
    accepted: Sequence[str] = offering.options["qualities"]
    if quality in accepted:
        return quality, ()
    level = QUALITY_LEVELS.get(quality)
    ranked = [value for value in accepted if value in QUALITY_LEVELS]
    listed = ", ".join(accepted)
    if level is None or not ranked:
        return None, (f"{offering.key} takes quality {listed}, not {quality!r}; it was ignored.",)
    chosen = min(ranked, key=lambda value: abs(QUALITY_LEVELS[value] - level))
    return chosen, (
        f"{offering.key} takes quality {listed}, not {quality!r}; it was sent as {chosen}.",
    )


def scoped_extras(
    extra: Mapping[str, Any],
    provider: str,
    *,
    extra_params: Collection[str],
    scopes: Collection[str],
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The options of `extra` meant for `provider`: the top-level ones its `extra_params`
    declare, then everything under its own id, as given. Another provider's scope is skipped
    silently; any other top-level option is dropped with a warning, as sending a provider
    what another one takes (a safety knob, a format) gets the request refused or misread."""
    sent: dict[str, Any] = {}
    warnings: list[str] = []
    for name, value in extra.items():
        if name in scopes:
            continue
        if name in extra_params:
            sent[name] = value
        else:
            warnings.append(
                f"{provider} does not take the option {name[:MAX_NAME]!r} at the top level; "
                f'it was not sent (put it under "{provider}" to send it to {provider} as given).'
            )
    scoped = extra.get(provider)
    if scoped is not None and not isinstance(scoped, Mapping):
        warnings.append(f'The options under "{provider}" are not an object; none was sent.')
    elif scoped:
        sent.update(scoped)
    return sent, tuple(warnings)


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
    # Some models list a named choice among their ratios (seedream's match_input_image).
    ratios = [candidate for candidate in allowed if RATIO.fullmatch(candidate)]
    if dimensions is None or not ratios:
        return None, ()
    shape = math.log(dimensions[0] / dimensions[1])
    ratio = min(ratios, key=lambda candidate: abs(math.log(ratio_value(candidate)) - shape))
    if abs(math.exp(shape) / ratio_value(ratio) - 1) <= RATIO_TOLERANCE:
        return ratio, ()
    return ratio, (f"Size {size} was sent as the nearest aspect ratio the model takes, {ratio}.",)


def nearest_image_size(
    size: str | None, allowed: Sequence[str]
) -> tuple[str | None, tuple[str, ...]]:
    """The smallest of the allowed size tiers ("1K", "2K", "4K") whose images hold as many
    pixels as the size asks for (the largest when none does), so a request is never answered
    with a smaller image than it asked for, and a warning when the tier is larger."""
    dimensions = parse_size(size)
    tiers = sorted((IMAGE_SIZE_SIDES[tier], tier) for tier in allowed if tier in IMAGE_SIZE_SIDES)
    if dimensions is None or not tiers:
        return None, ()
    wanted = dimensions[0] * dimensions[1] * (1 - RATIO_TOLERANCE)
    side, tier = next(((s, t) for s, t in tiers if s * s >= wanted), tiers[-1])
    if abs(side * side / (dimensions[0] * dimensions[1]) - 1) <= RATIO_TOLERANCE:
        return tier, ()
    return tier, (
        f"Size {size} was sent as the model's image size {tier} "
        f"(about {side * side / 1e6:.1f} megapixels).",
    )


def fit_sides(
    size: str | None, side_range: Sequence[int] | None
) -> tuple[tuple[int, int] | None, tuple[str, ...]]:
    """(width, height) of the size, scaled in proportion into the sides a model takes
    (`side_range`, [smallest, largest]), and a warning when it had to be."""
    dimensions = parse_size(size)
    if dimensions is None or not side_range:
        return dimensions, ()
    low, high = side_range
    width, height = dimensions
    scale = max(1.0, low / min(width, height))
    scale = min(scale, high / max(width, height))
    fitted = (
        min(high, max(low, round(width * scale))),
        min(high, max(low, round(height * scale))),
    )
    if fitted == dimensions:
        return fitted, ()
    return fitted, (
        f"Size {size} was sent as {fitted[0]}x{fitted[1]}: the model makes sides from {low} "
        f"to {high} pixels.",
    )


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
