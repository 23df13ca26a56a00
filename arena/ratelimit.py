"""Every cap on how fast someone may use the site, declared as data in one table.

Counters live in the cache (Redis in production), so checking them costs no database query.
Each cap is a sliding window, estimated from two fixed windows as Cloudflare's limiter does:
the current window's count plus the previous one's, weighted by how much of it still lies
within the last `seconds`. A burst across a window's edge therefore counts in full (with fixed
windows alone it could pass twice the limit), at the price of two counters per cap. A leaf: any
layer may use it, and it imports none of them.

    allowance = allowance_take("vote", session=key, ip=ip)
    allowance.refused  # None, or the Usage of the first cap exceeded

A refused attempt still counts, so hammering a button does not open the gate sooner.

While the shared cache is away (arena.cache.CacheUnavailable), each process counts on its own
in its memory: the caps still hold per process, so with N web processes someone can get up to
N times a limit until Redis is back. Refusing everyone instead would stop the votes, which the
arena exists for.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from arena.cache import CacheUnavailable, RedisCache, Window

# The stand-in counters while the shared cache is away, this process's own.
_local = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


@dataclass(frozen=True, slots=True)
class Cap:
    action: str  # what is being limited: "vote", "api", "playground", "signin"
    scope: str  # whose events count together: "session", "ip", "key"
    seconds: int
    setting: str  # the setting that holds the limit; 0 or less turns the cap off
    message: str  # for the person refused; {limit} is filled in

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.setting))

    @property
    def sentence(self) -> str:
        return self.message.format(limit=self.limit)


@dataclass(frozen=True, slots=True)
class Usage:
    """Where one cap stands after an event was counted against it: the counts of the current
    and the previous fixed window, and how far into the current one we are."""

    cap: Cap
    current: int  # this event included
    previous: int
    elapsed: float

    @property
    def used(self) -> float:
        """The sliding window's estimate of the events in the last `cap.seconds`."""
        return self.current + self.previous * (1 - self.elapsed / self.cap.seconds)

    @property
    def exceeded(self) -> bool:
        return self.used > self.cap.limit

    @property
    def remaining(self) -> int:
        return max(0, self.cap.limit - math.ceil(self.used))

    @property
    def reset_seconds(self) -> int:
        """Seconds until the window holds none of the events counted so far."""
        left = math.ceil(self.cap.seconds - self.elapsed)
        return left + self.cap.seconds if self.current else left

    @property
    def retry_after(self) -> int:
        """Seconds until the next event would pass (0: it would now)."""
        limit, seconds = self.cap.limit, self.cap.seconds
        if self.used + 1 <= limit:
            return 0
        if self.current + 1 <= limit and self.previous:
            # The previous window's weight has to fall until the estimate leaves room.
            wait = seconds * (1 - (limit - self.current - 1) / self.previous) - self.elapsed
        else:  # this window alone is full: into the next, where it is the previous one
            wait = seconds - self.elapsed + seconds * (1 - (limit - 1) / max(self.current, 1))
        return max(1, math.ceil(wait))


@dataclass(frozen=True, slots=True)
class Allowance:
    """The caps one event was counted against: the first exceeded, if any, and the tightest."""

    usages: tuple[Usage, ...]

    @property
    def refused(self) -> Usage | None:
        """The first cap exceeded (its sentence for the person, when to retry), or None."""
        return next((usage for usage in self.usages if usage.exceeded), None)

    @property
    def tightest(self) -> Usage | None:
        return min(self.usages, key=lambda usage: usage.remaining, default=None)


MINUTE, HOUR, DAY = 60, 3_600, 86_400

CAPS = (
    Cap(
        action="vote",
        scope="session",
        seconds=MINUTE,
        setting="ARENA_VOTES_PER_MINUTE",
        message="You are voting faster than anyone can look at two pictures. "
        "Take a breath and try again in a minute.",
    ),
    Cap(
        action="vote",
        scope="session",
        seconds=DAY,
        setting="ARENA_VOTES_PER_DAY",
        message="You have reached today's vote limit. Thank you for voting so much! "
        "Come back tomorrow.",
    ),
    Cap(
        action="vote",
        scope="ip",
        seconds=MINUTE,
        setting="ARENA_IP_VOTES_PER_MINUTE",
        message="Too many votes are coming from your network right now. Try again in a minute.",
    ),
    Cap(
        action="vote",
        scope="ip",
        seconds=DAY,
        setting="ARENA_IP_VOTES_PER_DAY",
        message="Your network has reached today's vote limit. Come back tomorrow.",
    ),
    Cap(
        action="api",
        scope="key",
        seconds=MINUTE,
        setting="ARENA_API_REQUESTS_PER_MINUTE",
        message="Rate limit reached: {limit} requests a minute for this key.",
    ),
    Cap(
        action="playground",
        scope="session",
        seconds=HOUR,
        setting="ARENA_PLAYGROUND_PER_HOUR",
        message="The playground makes at most {limit} requests an hour per visitor. "
        "For more, ask for an API key.",
    ),
    Cap(
        action="playground",
        scope="ip",
        seconds=HOUR,
        setting="ARENA_PLAYGROUND_PER_HOUR",
        message="The playground makes at most {limit} requests an hour per visitor. "
        "For more, ask for an API key.",
    ),
    Cap(
        action="signin",
        scope="ip",
        seconds=HOUR,
        setting="ARENA_SIGNINS_PER_HOUR",
        message="Too many sign-in attempts from your network. Try again in an hour.",
    ),
)


def allowance_take(action: str, **identities: str) -> Allowance:
    """Count one `action` against each of its caps, and say where each stands.

    `identities` name who acts in each scope (session=..., ip=..., key=...); a cap whose
    identity is empty or whose limit is 0 or less does not apply.
    """
    applying = [
        (cap, identity)
        for cap in CAPS
        if cap.action == action and (identity := identities.get(cap.scope, "")) and cap.limit > 0
    ]
    return Allowance(windows_count(applying))


def window_count(cap: Cap, identity: str, *, now: float | None = None) -> Usage:
    """Count one more event for `identity` against `cap`; return its usage, this event
    included."""
    (usage,) = windows_count([(cap, identity)], now=now)
    return usage


def windows_count(
    counted: Sequence[tuple[Cap, str]], *, now: float | None = None
) -> tuple[Usage, ...]:
    """Count one more event against each (cap, identity), in one round trip to Redis where
    the cache can (RedisCache.windows_count), and return each usage, this event included.
    Identities are hashed: no address sits in the cache."""
    if not counted:
        return ()
    now = time.time() if now is None else now
    windows, elapsed = [], []
    for cap, identity in counted:
        window, into = divmod(now, cap.seconds)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        key = f"limit:{cap.action}-{cap.scope}:{cap.seconds}:{{}}:{digest}"
        timeout = 2 * cap.seconds + 5  # the next window still reads this one
        windows.append(Window(key.format(int(window)), key.format(int(window) - 1), timeout))
        elapsed.append(into)
    try:
        counts = _counted(caches["default"], windows)
    except CacheUnavailable:
        counts = _counted(_local, windows)
    return tuple(
        Usage(cap=cap, current=current, previous=previous, elapsed=into)
        for (cap, _), (current, previous), into in zip(counted, counts, elapsed, strict=True)
    )


def _counted(store: Any, windows: list[Window]) -> list[tuple[int, int]]:
    if isinstance(store, RedisCache):
        return store.windows_count(windows)
    counts = []
    for window in windows:
        store.add(window.current, 0, timeout=window.timeout)
        counts.append((store.incr(window.current), store.get(window.previous, 0)))
    return counts
