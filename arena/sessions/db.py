"""Django's database sessions, refusing malformed session cookies (see arena.sessions)."""

from django.contrib.sessions.backends.db import SessionStore as DbSessionStore

from arena.sessions import KeyShaped


class SessionStore(KeyShaped, DbSessionStore):
    pass
