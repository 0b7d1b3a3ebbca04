"""Row ids the exchange assigns itself, so bulk inserts need no RETURNING round trip per row.

SQLite cannot return ids of a multi-row INSERT in parameter order, so SQLAlchemy would insert
row by row. One exchange process is the only writer of orders and executions (the sequencers
are single writers), so it continues from the largest id at start and counts up in memory.
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


def time_ordered_uuid() -> str:
    """A version-7 style UUID: 48 bits of Unix milliseconds, then randomness.

    Orders created together get neighbouring keys, so the unique index on `uuid` grows at its
    end instead of touching a random page per row (which made every group commit rewrite
    hundreds of index pages). Formatted directly (no `uuid.UUID` object): it is made per order.
    """
    millis = time.time_ns() // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
