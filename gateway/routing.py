"""Which offering of a model to try first, and when an offering should rest.

Offerings are ranked by their recent success rate (in 5-point steps, so near-equal rates don't
outrank a much faster provider), then by the median total time of their successful calls
(image generation included: that is the time a caller waits), then by catalog order. A small
share of calls tries a lower-ranked offering first so a recovered provider gets noticed.

An offering rests (is skipped) after a 429, or a 5xx that says Retry-After, for as long as
Retry-After asks (30 s for a 429 that doesn't say), and after repeated infrastructure failures
(timeouts, connection errors, 5xx), for a time that doubles with each further failure.
Failures of the request itself (bad input, content policy) or of the model on one request
(empty or broken result) lower the success rate but never rest it.

An account out of credit rests every offering of its provider for an hour (or the policy's
`quota_rest_seconds`), or until an operator says it was topped up (`Router.release`): retrying
sooner would only fail again.

A provider may have several keys (`key_ids`, short hashes: the window never holds a key).
Rate limits and credit belong to a key, so a 429 rests the offering on that key only, and out
of credit rests that key's account only; the offering rests when all its keys do, the provider
is out of credit when every key is. Calls take the healthy keys in turn (round robin). With a
single key, whose id is "", the window's keys are the offering's and the provider's own.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.catalog import OfferingSpec
from gateway.types import Attempt, ErrorKind
from gateway.window import Health, Outcome, Window

QUOTA_REST_SECONDS = 3600.0
TRIPPING = frozenset(
    {ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.SERVER_ERROR, ErrorKind.RATE_LIMITED}
)
# The provider did its job: the caller's prompt was refused by its policy, or the request was
# one no provider would take. Neither says anything of how well the offering serves.
NOT_THE_PROVIDERS = frozenset({ErrorKind.CONTENT_POLICY, ErrorKind.INVALID_REQUEST})
# Failures of one key (its rate limit, its account's credit): another key may well succeed.
KEY_FAILURES = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_EXHAUSTED})
SOLE_KEY = ("",)


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    exploration: float = 0.05  # share of calls that try a lower-ranked offering first
    max_age_seconds: float = 3600.0  # outcomes older than this no longer count
    min_samples: int = 3  # fewer outcomes than this: the offering is not yet judged
    success_step: float = 0.05
    failures_to_rest: int = 3
    rest_seconds: float = 30.0  # after `failures_to_rest` failures in a row, doubling after
    max_rest_seconds: float = 300.0
    max_retry_after_seconds: float = 600.0  # a 429's Retry-After is honoured up to this
    quota_rest_seconds: float = QUOTA_REST_SECONDS  # out of credit, unless released sooner


@dataclass(frozen=True, slots=True)
class Score:
    samples: int
    success_rate: float | None  # None until min_samples
    p50_ms: float | None  # of successful calls


@dataclass(frozen=True, slots=True)
class Plan:
    order: list[OfferingSpec]
    resting: dict[str, float] = field(default_factory=dict)  # offering key -> seconds left
    out_of_credit: frozenset[str] = frozenset()  # providers resting for want of credit
    # offering key -> the ids of its provider's keys not resting, in the order to try them
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def retry_after(self) -> float | None:
        return min(self.resting.values()) if self.resting else None


def provider_key(provider: str, key_id: str = "") -> str:
    """The window's key of what holds for every offering of a provider's key (its account)."""
    return f"@{provider}{_suffix(key_id)}"


def offering_key(offering: str, key_id: str = "") -> str:
    """The window's key of an offering (`OfferingSpec.key`) called with one of its keys."""
    return f"{offering}{_suffix(key_id)}"


def _suffix(key_id: str) -> str:
    return f"#{key_id}" if key_id else ""


class Router:
    def __init__(
        self,
        window: Window,
        *,
        policy: RoutingPolicy | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window = window
        self.policy = policy or RoutingPolicy()
        self.rng = rng or random.Random()
        self.clock = clock
        # provider -> the ids of its keys (the gateway says, from its configuration)
        self.key_ids: Mapping[str, tuple[str, ...]] = {}
        self._turns: defaultdict[str, itertools.count[int]] = defaultdict(itertools.count)

    def plan(self, offerings: Sequence[OfferingSpec]) -> Plan:
        now = self.clock()
        names = [offering.key for offering in offerings]
        for offering in offerings:
            keys = self._keys(offering.provider)
            names += [offering_key(offering.key, k) for k in keys if k]
            names += [provider_key(offering.provider, k) for k in keys]
        health = self.window.health(list(dict.fromkeys(names)))

        def until(name: str) -> float:
            cooling = health.get(name, Health()).cooling_until
            return cooling if cooling is not None and cooling > now else 0.0

        ranked: list[tuple[tuple[float, float, int], OfferingSpec]] = []
        resting: dict[str, float] = {}
        out_of_credit: set[str] = set()
        free_keys: dict[str, tuple[str, ...]] = {}
        for index, offering in enumerate(offerings):
            keys = self._keys(offering.provider)
            accounts = [until(provider_key(offering.provider, k)) for k in keys]
            own = [until(offering_key(offering.key, k)) if k else 0.0 for k in keys]
            back = [max(pair) for pair in zip(accounts, own, strict=True)]
            rest = until(offering.key)
            if all(accounts):
                out_of_credit.add(offering.provider)
            if all(back):
                rest = max(rest, min(back))  # the soonest a key is back
            if rest:
                resting[offering.key] = rest - now
                continue
            free = [k for k, at in zip(keys, back, strict=True) if not at]
            turn = next(self._turns[offering.key]) % len(free)
            free_keys[offering.key] = tuple(free[turn:] + free[:turn])
            ranked.append(
                (self._rank(self._score(health.get(offering.key, Health()), now), index), offering)
            )
        order = [offering for _, offering in sorted(ranked, key=lambda item: item[0])]
        if len(order) > 1 and self.rng.random() < self.policy.exploration:
            order.insert(0, order.pop(self.rng.randrange(1, len(order))))
        return Plan(order, resting, frozenset(out_of_credit), free_keys)

    def provider_rest(self, provider: str) -> float | None:
        """Seconds the provider still rests for want of credit (until its first key is back,
        when it has several), or None when a key of it has credit."""
        names = [provider_key(provider, k) for k in self._keys(provider)]
        health = self.window.health(names)
        now = self.clock()
        lefts = [(health.get(name, Health()).cooling_until or now) - now for name in names]
        return min(lefts) if min(lefts) > 0 else None

    def release(self, provider: str) -> None:
        """End a provider's rest for want of credit, every key's: an operator topped its
        account up."""
        for key_id in self._keys(provider):
            self.window.cool_down(provider_key(provider, key_id), self.clock())

    def _keys(self, provider: str) -> tuple[str, ...]:
        return self.key_ids.get(provider) or SOLE_KEY

    def record(self, attempt: Attempt, retry_after: float | None = None) -> None:
        if attempt.error_kind in NOT_THE_PROVIDERS:
            return
        now = self.clock()
        streak = self.window.record(
            attempt.offering,
            Outcome(now, attempt.ok, attempt.total_ms),
            trips=attempt.error_kind in TRIPPING,
        )
        policy = self.policy
        if attempt.error_kind is ErrorKind.QUOTA_EXHAUSTED:
            self.window.cool_down(
                provider_key(attempt.provider, attempt.key_id), now + policy.quota_rest_seconds
            )
            return
        if attempt.error_kind is ErrorKind.RATE_LIMITED:
            # A rate limit is the key's: the offering stays open on the provider's other keys.
            rest = policy.rest_seconds
            if retry_after is not None:
                rest = min(retry_after, policy.max_retry_after_seconds)
            self.window.cool_down(offering_key(attempt.offering, attempt.key_id), now + rest)
            return
        if retry_after is not None and attempt.error_kind in TRIPPING:
            rest = min(retry_after, policy.max_retry_after_seconds)
        elif streak >= policy.failures_to_rest:
            rest = min(
                policy.rest_seconds * 2 ** (streak - policy.failures_to_rest),
                policy.max_rest_seconds,
            )
        else:
            return
        self.window.cool_down(attempt.offering, now + rest)

    def _score(self, state: Health, now: float) -> Score:
        recent = [o for o in state.outcomes if now - o.at <= self.policy.max_age_seconds]
        if len(recent) < self.policy.min_samples:
            return Score(len(recent), None, None)
        times = [o.total_ms for o in recent if o.ok]
        return Score(
            len(recent),
            len(times) / len(recent),
            statistics.median(times) if times else None,
        )

    def _rank(self, score: Score, index: int) -> tuple[float, float, int]:
        # An offering not yet judged ranks as fully reliable but of unknown speed: after the
        # proven fast ones, before the proven unreliable ones.
        rate = 1.0 if score.success_rate is None else score.success_rate
        step = -math.floor(rate / self.policy.success_step + 1e-9)
        return (step, math.inf if score.p50_ms is None else score.p50_ms, index)
