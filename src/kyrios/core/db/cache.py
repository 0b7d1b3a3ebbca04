"""Per-database caches of rarely changing configuration, checked against a version each use.

A cached value is only used when the version read in the current transaction matches the one
it was loaded at, so a change committed by any process (the bot, the HTTP server, the console)
is seen by the next command everywhere, with no message bus needed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

SESSION_KEY = "kyrios_cache"
MEMO_KEY = "kyrios_command_memo"
MAX_ENTRIES = 10_000


class VersionedCache:
    """(namespace, key) → (version, value), bounded: the oldest entries go first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[str, Any], tuple[int, Any]] = {}

    def get(self, namespace: str, key: Any, version: int) -> Any | None:
        """The value cached at exactly `version`, else None."""
        entry = self._entries.get((namespace, key))
        if entry is None or entry[0] != version:
            return None
        return entry[1]

    def put(self, namespace: str, key: Any, version: int, value: Any) -> None:
        """Remember `value` as of `version`."""
        entries = self._entries
        entries.pop((namespace, key), None)
        if len(entries) >= self.max_entries:
            del entries[next(iter(entries))]
        entries[(namespace, key)] = (version, value)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


def cache_of(session: AsyncSession) -> VersionedCache:
    """The cache of the session's database (a throwaway one for sessions made elsewhere)."""
    cache = session.info.get(SESSION_KEY)
    if cache is None:
        cache = session.info[SESSION_KEY] = VersionedCache(max_entries=100)
    assert isinstance(cache, VersionedCache)
    return cache


def command_memo(session: AsyncSession) -> dict[Any, Any]:
    """Values looked up once per command (e.g. the guild's settings); forgotten when it ends."""
    memo = session.info.get(MEMO_KEY)
    if memo is None:
        memo = session.info[MEMO_KEY] = {}
    assert isinstance(memo, dict)
    return memo


def end_command(session: AsyncSession) -> None:
    """Forget the command's memo (the next command in the same transaction starts afresh)."""
    session.info.pop(MEMO_KEY, None)
