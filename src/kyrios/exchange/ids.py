"""Row ids the exchange assigns itself, so bulk inserts need no RETURNING round trip per row.

SQLite cannot return ids of a multi-row INSERT in parameter order, so SQLAlchemy would insert
row by row. The process that holds the exchange lease (`owner`) is the only writer of orders and
executions (its sequencers are single writers, and every batch is fenced by the lease), so it
continues from the largest id once it holds the lease and counts up in memory.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.exchange.models import ExchangeExecution, ExchangeOrder


class RowIds:
    """The next free order and execution ids."""

    def __init__(self, next_order_id: int = 1, next_execution_id: int = 1) -> None:
        self.next_order_id = next_order_id
        self.next_execution_id = next_execution_id

    @classmethod
    async def load(cls, session: AsyncSession) -> RowIds:
        """Continue after the largest ids in the database."""
        orders = await session.scalar(select(func.max(ExchangeOrder.id)))
        executions = await session.scalar(select(func.max(ExchangeExecution.id)))
        return cls(int(orders or 0) + 1, int(executions or 0) + 1)

    def orders(self, count: int) -> range:
        """Reserve `count` order ids."""
        first = self.next_order_id
        self.next_order_id += count
        return range(first, first + count)

    def executions(self, count: int) -> range:
        """Reserve `count` execution ids."""
        first = self.next_execution_id
        self.next_execution_id += count
        return range(first, first + count)


_RANDOM_BITS = ((1 << 80) - 1) & ~(0xF << 76) & ~(0x3 << 62)  # room for the version and variant


def time_ordered_uuids(count: int) -> list[str]:
    """`count` version-7 style UUIDs: 48 bits of Unix milliseconds, then randomness.

    Orders created together get neighbouring keys, so the unique index on `uuid` grows at its
    end instead of touching a random page per row (which made every group commit rewrite
    hundreds of index pages). The randomness of a whole batch comes from one `secrets` call
    (one system call instead of one per order), and each id is formatted directly (no
    `uuid.UUID` object).
    """
    millis = time.time_ns() // 1_000_000
    head = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | 0x2 << 62  # version 7, RFC 4122 variant
    noise = secrets.token_bytes(10 * count)
    from_bytes = int.from_bytes
    made = []
    for start in range(0, 10 * count, 10):
        d = f"{head | (from_bytes(noise[start : start + 10]) & _RANDOM_BITS):032x}"
        made.append(f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:]}")
    return made
