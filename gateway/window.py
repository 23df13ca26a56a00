"""The rolling window of recent attempts per offering, which routing scores from.

Two stores behind one small interface: in memory (one process) and Redis (shared by every web
and worker process, so what one worker learns about a failing provider the others know too).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

logger = logging.getLogger(__name__)

WINDOW_SIZE = 50  # attempts kept per offering
REDIS_TTL_SECONDS = 24 * 3600  # an offering nobody called for a day starts afresh
DEFAULT_PREFIX = "gateway:window"


@dataclass(frozen=True, slots=True)
class Outcome:
    at: float  # unix time
    ok: bool
    total_ms: float


@dataclass(frozen=True, slots=True)
class Health:
    outcomes: tuple[Outcome, ...] = ()  # newest first
    cooling_until: float | None = None  # unix time


class Window(Protocol):
    def record(self, key: str, outcome: Outcome, *, trips: bool) -> int:
        """Store an outcome; return the failure streak after it.

        A success resets the streak, a failure that `trips` adds one, any other failure leaves
        it as it was.
        """
        ...

    def cool_down(self, key: str, until: float) -> None: ...

    def health(self, keys: Sequence[str]) -> dict[str, Health]: ...


class MemoryWindow:
    def __init__(self, *, size: int = WINDOW_SIZE) -> None:
        self._outcomes: defaultdict[str, deque[Outcome]] = defaultdict(lambda: deque(maxlen=size))
        self._streaks: dict[str, int] = {}
        self._cooling: dict[str, float] = {}
        self._lock = threading.Lock()

    def record(self, key: str, outcome: Outcome, *, trips: bool) -> int:
        with self._lock:
            self._outcomes[key].appendleft(outcome)
            streak = self._streaks.get(key, 0)
            if outcome.ok:
                streak = 0
            elif trips:
                streak += 1
            self._streaks[key] = streak
            return streak

    def cool_down(self, key: str, until: float) -> None:
        with self._lock:
            self._cooling[key] = until

    def health(self, keys: Sequence[str]) -> dict[str, Health]:
        with self._lock:
            return {
                key: Health(tuple(self._outcomes.get(key, ())), self._cooling.get(key))
                for key in keys
            }


class RedisWindow:
    """The window in Redis: a capped list of outcomes, a streak counter and a cool-down mark.

    Routing must not fail because Redis did: on a Redis error the window logs it and answers
    as if it knew nothing, so the gateway keeps serving in catalog order.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        size: int = WINDOW_SIZE,
        ttl_seconds: int = REDIS_TTL_SECONDS,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.size = size
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisWindow:
        return cls(
            redis.Redis.from_url(url, decode_responses=True, socket_timeout=2),
            prefix=prefix,
        )

    def _key(self, key: str, part: str) -> str:
        return f"{self.prefix}:{key}:{part}"

    def record(self, key: str, outcome: Outcome, *, trips: bool) -> int:
        outcomes, streak = self._key(key, "outcomes"), self._key(key, "streak")
        pipe = self.client.pipeline(transaction=False)
        pipe.lpush(outcomes, f"{outcome.at:.3f} {int(outcome.ok)} {outcome.total_ms:.1f}")
        pipe.ltrim(outcomes, 0, self.size - 1)
        pipe.expire(outcomes, self.ttl_seconds)
        if outcome.ok:
            pipe.delete(streak)
        elif trips:
            pipe.incr(streak)
            pipe.expire(streak, self.ttl_seconds)
        else:
            pipe.get(streak)
        try:
            results = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("Gateway window: could not record %s in Redis: %s", key, exc)
            return 0
        return 0 if outcome.ok else int(results[3] or 0)

    def cool_down(self, key: str, until: float) -> None:
        try:
            self.client.set(self._key(key, "cooling"), f"{until:.3f}", ex=self.ttl_seconds)
        except redis.RedisError as exc:
            logger.warning("Gateway window: could not cool %s down in Redis: %s", key, exc)

    def health(self, keys: Sequence[str]) -> dict[str, Health]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.lrange(self._key(key, "outcomes"), 0, -1)
            pipe.get(self._key(key, "cooling"))
        try:
            results = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("Gateway window: could not read Redis: %s", exc)
            return {}
        return {
            key: Health(
                tuple(_outcome(line) for line in results[2 * index]),
                float(results[2 * index + 1]) if results[2 * index + 1] else None,
            )
            for index, key in enumerate(keys)
        }


def _outcome(line: str) -> Outcome:
    at, ok, total_ms = line.split()
    return Outcome(float(at), ok == "1", float(total_ms))


def window_from_env(environ: Mapping[str, str]) -> Window:
    """Redis when REDIS_URL is set, so every worker shares what it learns; memory otherwise."""
    url = environ.get("REDIS_URL")
    if not url:
        return MemoryWindow()
    return RedisWindow.from_url(url, prefix=environ.get("GATEWAY_WINDOW_PREFIX", DEFAULT_PREFIX))
