"""Who is asking: the visitor's session and address. A leaf any layer may use."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
