"""Owned items: one row per member and item, kept by every pull in its own transaction.

Invariant: `copies` equals the member's pulls of that item (the migration backfilled the rows from
the pulls made before the table existed). The caller holds the member's `gacha_stats` row lock, so
two pulls of one member never race for the same row.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from kyrios.core.db import Sql

_ADD = "UPDATE gacha_owned_item SET copies = copies + ? WHERE guild_id = ? AND user_id = ? AND item_id = ?"
_NEW = (
    "INSERT INTO gacha_owned_item (guild_id, user_id, item_id, copies, first_obtained_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
_DISTINCT = "SELECT COUNT(*) FROM gacha_owned_item WHERE guild_id = ? AND user_id = ?"


async def add(sql: Sql, guild_id: int, user_id: int, item_ids: list[int], now: datetime) -> int | None:
    """Count the pulled items in; the member's number of different items if it grew, else None."""
    new = 0
    for item_id, copies in Counter(item_ids).items():
        if await sql.execute(_ADD, (copies, guild_id, user_id, item_id)) == 0:
            await sql.execute(_NEW, (guild_id, user_id, item_id, copies, sql.stamp(now)))
            new += 1
    return await distinct(sql, guild_id, user_id) if new else None


async def distinct(sql: Sql, guild_id: int, user_id: int) -> int:
    """How many different items the member owns."""
    return int(await sql.scalar(_DISTINCT, (guild_id, user_id)) or 0)
