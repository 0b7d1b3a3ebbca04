"""Which backups to keep: the newest of each of the last N days and of each of the last M ISO weeks
that have one (a backup may count for both). Pure: names and times in, names out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

NAME = re.compile(r"^kyrios-(\d{8}T\d{6}Z)\.backup$")


def backup_name(when: datetime) -> str:
    """The file name of a backup made at `when` (UTC; sorts by time)."""
    return f"kyrios-{when.astimezone(UTC):%Y%m%dT%H%M%SZ}.backup"


def made_at(name: str) -> datetime | None:
    """When the backup called `name` was made, or None for a file that is not a backup."""
    match = NAME.match(name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def to_keep(names: Iterable[str], *, daily: int, weekly: int) -> set[str]:
    """The backup names retention keeps; other backup names may be deleted (non-backups are ignored)."""
    dated = sorted(((when, name) for name in names if (when := made_at(name)) is not None), reverse=True)
    keep: set[str] = set()
    days: set[object] = set()
    weeks: set[object] = set()
    for when, name in dated:
        day = when.date()
        week = when.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(name)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            keep.add(name)
    return keep


def to_delete(names: Iterable[str], *, daily: int, weekly: int) -> list[str]:
    """The backup names retention removes, oldest first."""
    names = list(names)
    kept = to_keep(names, daily=daily, weekly=weekly)
    return sorted(name for name in names if made_at(name) is not None and name not in kept)
