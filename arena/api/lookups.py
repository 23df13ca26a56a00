"""The rows every API request reads, kept by each process while nothing has changed: its key,
its model, and the competition prompts it may not run (arena.api.params). Their three queries
were half of what the API added to a provider call (`make bench`, "API overhead").

Whether anything changed is one shared version in the cache (Redis), bumped by every write to a
key, a model or a prompt (signals: saved, deleted, and `curation_changed`, which the services
that write them in bulk send), and read by a process at most every VERSION_SECONDS: a key
revoked in one process is refused by the others within that time, and at once by the process
that revoked it. The version is read before a row, so a change committed while a row is read
leaves the row tagged with the version from before it, and it is read again. Where the version
cannot be read (Redis away), nothing is kept and the rows are read every time. A bump lost to
such an outage is bounded by KEPT_SECONDS. A write made by hand in SQL bumps nothing: it is
seen within KEPT_SECONDS.
"""

from __future__ import annotations

import time
import uuid
from contextlib import suppress
from typing import Any

from django.core.cache import cache
from django.db import transaction

from arena.api.models import ApiKey
from arena.cache import CacheUnavailable
from arena.catalog.models import AIModel, Arena, CompetitionPrompts, Prompt

VERSION_KEY = "api:lookups:version"
VERSION_SECONDS = 1.0
KEPT_SECONDS = 60.0

# (version, read at, row) by key prefix, by model id, by arena. Misses are never kept:
# made-up prefixes and model names would fill the memory.
_keys: dict[str, tuple[str, float, ApiKey]] = {}
_models: dict[str, tuple[str, float, AIModel]] = {}
_prompts: dict[str, tuple[str, float, CompetitionPrompts]] = {}
_version: tuple[str, float] = ("", -VERSION_SECONDS)  # as last read, and when


def active_key(prefix: str) -> ApiKey | None:
    """The active key with this prefix."""
    return _kept(_keys, prefix, lambda: ApiKey.objects.filter(prefix=prefix, active=True).first())


def model_named(slug: str) -> AIModel | None:
    """The model with this id."""
    return _kept(_models, slug, lambda: AIModel.objects.filter(slug=slug).first())


def competition_prompts(arena: Arena) -> CompetitionPrompts:
    """The active prompts of the arena (PromptQuerySet.competition)."""
    return _kept(_prompts, arena, lambda: Prompt.objects.competition(arena))


def lookups_changed(**kwargs: Any) -> None:
    """A key, a model or a prompt changed: every process reads them again. Said again once the
    caller's transaction commits, so a row read in between (from before the change) is not
    kept."""
    _version_bump()
    transaction.on_commit(_version_bump)


def lookups_forget() -> None:
    """Forget what this process keeps."""
    global _version
    _keys.clear()
    _models.clear()
    _prompts.clear()
    _version = ("", -VERSION_SECONDS)


def _kept(kept: dict[str, Any], name: str, read: Any) -> Any:
    global _version
    now = time.monotonic()
    version, read_at = _version
    if now - read_at >= VERSION_SECONDS:
        version = cache.get(VERSION_KEY)
        if version is None:
            # First use, a flushed cache, or Redis away: a new version, and this read is not
            # kept (while Redis is away, every request reads the row).
            with suppress(CacheUnavailable):
                cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            return read()
        _version = version, now
    known = kept.get(name)
    if known is not None and known[0] == version and now - known[1] < KEPT_SECONDS:
        return known[2]
    row = read()
    if row is not None:
        kept[name] = (version, now, row)
    return row


def _version_bump() -> None:
    lookups_forget()
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
