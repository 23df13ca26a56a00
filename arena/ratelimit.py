"""Fixed-window counters in the cache (Redis in production): no database query per check."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def window_count(scope: str, identity: str, seconds: int) -> int:
    """Count one more event for `identity` in the current `seconds`-long window; return the
    count so far, this one included. Identities are hashed: no address sits in the cache."""
    now = int(time.time())
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    key = f"limit:{scope}:{seconds}:{now // seconds}:{digest}"
    cache.add(key, 0, timeout=seconds + 5)
    return cache.incr(key)


def window_left(seconds: int) -> int:
    """Seconds until the current `seconds`-long window ends."""
    return seconds - int(time.time()) % seconds
