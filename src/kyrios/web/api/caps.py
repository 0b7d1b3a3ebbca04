"""`OpenOrderCap`: at most N live orders per account and symbol, counted without a lock.

All orders reach the exchange through the one process that runs it, so counting in process is
enough for this door. A placement reads the account's live orders in the symbol, then adds the
placements still in flight and the ones that finished while it read (those may or may not be in
what it read): a count that can only come out high, so the cap is never passed, and orders of
one account are not serialised behind each other's commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from kyrios.core.errors import Conflict
from kyrios.core.i18n import N_

TOO_MANY_OPEN = N_(
    "Order rejected: you already have {open} open orders in {symbol}, the most allowed. "
    "Cancel some before placing more."
)


@dataclass
class _Counts:
    readers: int = 0
    in_flight: int = 0
    finished: int = 0


class OpenOrderCap:
    """Refuses a new order (409 `conflict`) once the account has `limit` live orders in the symbol."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[tuple[int, str], _Counts] = {}

    @asynccontextmanager
    async def placing(
        self, account: int, symbol: str, count_live: Callable[[], Awaitable[int]]
    ) -> AsyncIterator[None]:
        """Hold one slot while the body places the order; `Conflict` when none is left."""
        key = (account, symbol)
        counts = self._counts.setdefault(key, _Counts())
        counts.readers += 1
        try:
            finished_before = counts.finished
            live = await count_live()
            taken = live + counts.in_flight + (counts.finished - finished_before)
            if taken >= self.limit:
                raise Conflict(TOO_MANY_OPEN, open=min(taken, self.limit), symbol=symbol)
            counts.in_flight += 1
        finally:
            counts.readers -= 1
        try:
            yield
        finally:
            counts.in_flight -= 1
            counts.finished += 1
            if counts.readers == 0 and counts.in_flight == 0:
                del self._counts[key]  # nobody holds a snapshot of it: start afresh next time
