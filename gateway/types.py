"""The gateway's vocabulary: what a caller asks for and what it gets back."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# The kinds of tokens a provider reports, as the catalog prices them (OfferingSpec.token_cost).
TOKEN_KINDS = ("input_text", "input_image", "output_text", "output_image")


class Operation(enum.StrEnum):
    GENERATE = "generate"
    EDIT = "edit"


class ErrorKind(enum.StrEnum):
    """Why an attempt failed. The router decides from this whether to fall back."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    EMPTY = "empty"  # the provider answered but returned no image
    BAD_RESPONSE = "bad_response"  # unparseable body, or bytes that are not an image
    INVALID_REQUEST = "invalid_request"
    CONTENT_POLICY = "content_policy"
    AUTH = "auth"
    UNSUPPORTED = "unsupported"  # refused before any network call
    UNKNOWN_MODEL = "unknown_model"
    NOT_CONFIGURED = "not_configured"  # no offering of the model has credentials
    # the model itself failed (local models, a provider's "failed" status)
    MODEL_FAILURE = "model_failure"
    # the account is out of credit: the provider rests until an operator tops it up (OpenAI's
    # own code for it, which its 429 carries)
    QUOTA_EXHAUSTED = "insufficient_quota"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.RATE_LIMITED,
        ErrorKind.SERVER_ERROR,
        ErrorKind.EMPTY,
        ErrorKind.BAD_RESPONSE,
        ErrorKind.MODEL_FAILURE,
        # another provider's account may still have credit
        ErrorKind.QUOTA_EXHAUSTED,
    }
)


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One call: make `n` images with `model` from `prompt` (and, for edits, from `images`).

    `size` is "WIDTHxHEIGHT"; providers that speak aspect ratios get it converted.
    `response_format` is accepted for OpenAI compatibility: the gateway always returns bytes,
    and the API layer serves base64 or a URL. `seed` makes a provider that takes one draw the
    same picture again for the same request; None lets it choose. `extra` holds provider
    options: under a provider's id (`{"fal": {"enable_safety_checker": False}}`) they go to
    that provider only, as given; at the top level only to the providers whose `extra_params`
    name them, and dropped with a warning elsewhere (normalize.scoped_extras). `timeout` is the
    caller's deadline in seconds for the whole request, fallbacks included; the gateway's own
    deadline caps it, None means that one. `max_offerings` (at least 1: no fallback) and
    `poll_retries` (transient errors its jobs' polls may retry) bound the request likewise,
    within the gateway's settings; None means those.
    """

    model: str
    prompt: str
    size: str | None = None
    n: int = 1
    quality: str | None = None
    style: str | None = None
    response_format: str | None = None
    images: tuple[bytes, ...] = ()
    mask: bytes | None = None
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    max_offerings: int | None = None
    poll_retries: int | None = None


@dataclass(frozen=True, slots=True)
class PartialImages:
    """A caller's wish to see the image while it is made (streaming): up to `count` partial
    images, each handed to `emit` as encoded bytes, in order, as soon as it exists.

    Only the first image of a request is shown in progress. A provider that cannot stream
    sends none, and one that finishes sooner may send fewer (as OpenAI's own `partial_images`
    allows); a fallback to another offering may start again from its first stage, so the
    caller numbers what it passes on."""

    count: int
    emit: Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call to one provider offering, successful or not. The caller stores these."""

    model: str
    provider: str
    provider_model: str
    started_at: datetime
    ok: bool
    total_ms: float
    ttfb_ms: float | None = None
    http_status: int | None = None
    error_kind: ErrorKind | None = None
    error: str = ""
    images: int = 0
    cost: Decimal = Decimal("0")
    batch: bool = False
    warnings: tuple[str, ...] = ()
    # What the provider told about the images: see ImageResult. `withheld` counts images it
    # made (and billed) but kept back for safety.
    withheld: int = 0
    seeds: tuple[int, ...] = ()
    revised_prompts: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()
    # the provider's own id of this call (fal request_id, Replicate prediction id, OpenAI
    # x-request-id, Gemini responseId), which its support asks for
    provider_request_id: str = ""
    # The tokens the provider reported for the call, by kind (TOKEN_KINDS); None when it
    # reported none (models priced per image or per megapixel).
    tokens: Mapping[str, int] | None = None
    # which of the provider's keys made the call: a short hash of it, "" for a sole key
    key_id: str = ""

    @property
    def offering(self) -> str:
        """The catalog offering this attempt called, as `OfferingSpec.key` spells it."""
        return f"{self.model}@{self.provider}"


@dataclass(frozen=True, slots=True)
class ImageResult:
    """The images, every attempt behind them, and what the provider told about them: the seeds
    it reports having used, the prompts it actually drew (OpenAI rewrites them), and what its
    safety checks flagged, each in the order of the calls that made the images."""

    model: str
    provider: str
    images: list[bytes]
    attempts: list[Attempt]
    warnings: tuple[str, ...] = ()
    seeds: tuple[int, ...] = ()
    revised_prompts: tuple[str, ...] = ()
    safety: tuple[str, ...] = ()

    @property
    def cost(self) -> Decimal:
        """What the request cost in all, failed and fallen-back attempts included."""
        return sum((attempt.cost for attempt in self.attempts), Decimal("0"))

    @property
    def tokens(self) -> dict[str, int] | None:
        """The tokens of the calls that made the images, by kind; None when none reported any."""
        reported = [a.tokens for a in self.attempts if a.ok and a.tokens is not None]
        if not reported:
            return None
        return {kind: sum(tokens.get(kind, 0) for tokens in reported) for kind in TOKEN_KINDS}


@dataclass(frozen=True, slots=True)
class JobRef:
    """A provider's job the gateway submitted and may wait on: a fal queue request, a Replicate
    prediction. A caller that stores it before the wait can resume the job after a crash
    (`Gateway.generate(request, job=...)`) instead of paying for a new one.

    `urls` are the provider's own addresses of the job (fal: status, response and cancel
    URLs; Replicate: get and cancel), so a resume polls exactly what the submit answered.
    `webhook` says the provider was asked to call our webhook when the job ends.
    """

    provider: str
    offering: str  # OfferingSpec.key: "model@provider"
    job_id: str
    urls: Mapping[str, str] = field(default_factory=dict)
    webhook: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "offering": self.offering,
            "job_id": self.job_id,
            "urls": dict(self.urls),
            "webhook": self.webhook,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRef:
        return cls(
            provider=str(data["provider"]),
            offering=str(data["offering"]),
            job_id=str(data["job_id"]),
            urls={str(k): str(v) for k, v in dict(data.get("urls") or {}).items()},
            webhook=bool(data.get("webhook")),
        )
