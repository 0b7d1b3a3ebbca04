"""Who did it: matching gateway events to audit-log entries (pure; entries arrive as plain data).

Kicks, bans, unbans, timeouts, role and channel changes name their target, so a matching entry
written moments ago is exact. Message deletes are not: Discord logs no message id, never logs a
self-delete or a bot's single delete, and folds repeated deletes into one entry whose `count`
grows. A delete is therefore attributed only as "likely": an entry against the same author in
the same channel, either written within a few seconds or whose count went up since we last saw it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from kyrios.features.modlog.events import AuditAction, AuditEntry

EXACT_WINDOW = timedelta(seconds=30)
LIKELY_WINDOW = timedelta(seconds=5)
REMEMBERED_ENTRIES = 2000


def exact_entry(
    entries: Iterable[AuditEntry],
    action: AuditAction,
    target_id: int,
    now: datetime,
    window: timedelta = EXACT_WINDOW,
) -> AuditEntry | None:
    """The newest entry of `action` against `target_id` written within `window` of `now`."""
    matches = [
        e
        for e in entries
        if e.action == action and e.target_id == target_id and abs(now - e.created_at) <= window
    ]
    return max(matches, key=lambda e: e.id, default=None)


class DeleteAttributor:
    """Remembers each MESSAGE_DELETE entry's count so a grown count reads as one more delete."""

    def __init__(self, window: timedelta = LIKELY_WINDOW) -> None:
        self.window = window
        self._counts: dict[int, int] = {}

    def likely_deleter(
        self, entries: Iterable[AuditEntry], *, author_id: int, channel_id: int, now: datetime
    ) -> AuditEntry | None:
        """The entry that most likely deleted a message of `author_id` in `channel_id`, if any."""
        found: AuditEntry | None = None
        for entry in sorted(entries, key=lambda e: e.id, reverse=True):
            if entry.action != AuditAction.MESSAGE_DELETE:
                continue
            count = entry.count or 1
            previous = self._counts.get(entry.id)
            self._remember(entry.id, count)
            if found is not None or entry.target_id != author_id or entry.channel_id != channel_id:
                continue
            recent = abs(now - entry.created_at) <= self.window
            grew = previous is not None and count > previous
            if recent or grew:
                found = entry
        return found

    def _remember(self, entry_id: int, count: int) -> None:
        self._counts[entry_id] = count
        if len(self._counts) > REMEMBERED_ENTRIES:
            for old in sorted(self._counts)[: REMEMBERED_ENTRIES // 2]:
                del self._counts[old]
