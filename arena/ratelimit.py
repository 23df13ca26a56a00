"""Every cap on how fast someone may use the site, declared as data in one table.

Counters live in the cache (Redis in production), in fixed windows, so checking them costs no
database query. A leaf: any layer may use it, and it imports none of them.

    refused = allowance_take("vote", session=key, ip=ip)  # None, or the Cap that was exceeded

A refused attempt still counts, so hammering a button does not open the gate sooner.

While the shared cache is away (arena.cache.CacheUnavailable), each process counts on its own
in its memory: the caps still hold per process, so with N web processes someone can get up to
N times a limit until Redis is back. Refusing everyone instead would stop the votes, which the
arena exists for.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from arena.cache import CacheUnavailable

# The stand-in counters while the shared cache is away, this process's own.
_local = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


@dataclass(frozen=True, slots=True)
class Cap:
    action: str  # what is being limited: "vote", "api", "playground"
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

    @property
    def retry_after(self) -> int:
        return window_left(self.seconds)


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
)


def allowance_take(action: str, **identities: str) -> Cap | None:
    """Count one `action` against each of its caps; return the first one exceeded, or None.

    `identities` name who acts in each scope (session=..., ip=..., key=...); a cap whose
    identity is empty or whose limit is 0 or less does not apply.
    """
    for cap in CAPS:
        identity = identities.get(cap.scope, "")
        if cap.action != action or not identity or cap.limit <= 0:
            continue
        if window_count(f"{cap.action}-{cap.scope}", identity, cap.seconds) > cap.limit:
            return cap
    return None


def window_count(scope: str, identity: str, seconds: int) -> int:
    """Count one more event for `identity` in the current `seconds`-long window; return the
    count so far, this one included. Identities are hashed: no address sits in the cache."""
    now = int(time.time())
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    key = f"limit:{scope}:{seconds}:{now // seconds}:{digest}"
    try:
        cache.add(key, 0, timeout=seconds + 5)
        return cache.incr(key)
    except CacheUnavailable:
        _local.add(key, 0, timeout=seconds + 5)
        return _local.incr(key)


def window_left(seconds: int) -> int:
    """Seconds until the current `seconds`-long window ends."""
    return seconds - int(time.time()) % seconds
