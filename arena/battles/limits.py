"""How fast one visitor (a session) or one address may vote: per minute and per day.

Counters live in the cache (Redis in production), in fixed windows, so checking them costs
no database query on the vote path.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from arena.battles.models import VoteRejected
from arena.ratelimit import window_count


@dataclass(frozen=True, slots=True)
class Cap:
    scope: str
    seconds: int
    setting: str
    message: str

    @property
    def limit(self) -> int:
        return int(getattr(settings, self.setting))


CAPS = (
    Cap(
        "session",
        60,
        "ARENA_VOTES_PER_MINUTE",
        "You are voting faster than anyone can look at two pictures. "
        "Take a breath and try again in a minute.",
    ),
    Cap(
        "session",
        86_400,
        "ARENA_VOTES_PER_DAY",
        "You have reached today's vote limit. Thank you for voting so much! Come back tomorrow.",
    ),
    Cap(
        "ip",
        60,
        "ARENA_IP_VOTES_PER_MINUTE",
        "Too many votes are coming from your network right now. Try again in a minute.",
    ),
    Cap(
        "ip",
        86_400,
        "ARENA_IP_VOTES_PER_DAY",
        "Your network has reached today's vote limit. Come back tomorrow.",
    ),
)


def visitor_session(request: HttpRequest) -> str:
    """The visitor's session key, starting a session for a first-time visitor."""
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: behind ARENA_PROXY_COUNT proxies, the one the outermost saw."""
    proxies = settings.ARENA_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")
        ]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def vote_allowance_take(*, session_key: str, ip: str) -> None:
    """Count one vote against every cap, or raise VoteRejected (429) naming the one exceeded.

    A refused attempt still counts, so hammering the button does not open the gate sooner.
    """
    identities = {"session": session_key, "ip": ip}
    for cap in CAPS:
        identity = identities[cap.scope]
        if not identity or cap.limit <= 0:
            continue
        if window_count(f"vote-{cap.scope}", identity, cap.seconds) > cap.limit:
            raise VoteRejected(cap.message, 429)
