"""Session stores that refuse malformed session cookies: Django's cached database sessions
here, and its plain database sessions in `arena.sessions.db` (for when the cache is the
database itself).

Django takes any cookie of eight characters or more as a session key to look up; a longer one
than the column holds, or one with a NUL, makes PostgreSQL fail the query (a 500 on any page).
Keys Django makes are 32 lowercase letters and digits, so anything else is no session: the
visitor gets a fresh one, as for an expired cookie.
"""

from __future__ import annotations

import re

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

SESSION_KEY = re.compile(r"[a-z0-9]{8,40}")


class KeyShaped:
    """Only keys of the shape Django makes are looked up."""

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and SESSION_KEY.fullmatch(key or "") is not None


class SessionStore(KeyShaped, CachedDbSessionStore):
    pass
