"""The net-worth history: the exchange's owner records each player's net worth once a minute.

A tick values every player at the last prices (one read, `net_worth.valuations`) and writes a point
only for the players whose net worth or net deposits changed since their last point, in one small
transaction fenced by the lease, so a quiet market writes nothing. A new player's first point comes
at the first tick after their first deposit or trade. Nothing here runs in the sequencers' batches;
its own transactions are short (on SQLite they share the one writer lock with the batches: see
`bench/net_worth.py` for how long they take).

Old points are thinned once an hour (`thin`), keeping the last point of each step (one
primary-key range delete per player and step, a few hundred per transaction): every point of
the last `MINUTE_POINTS_DAYS` days (the day chart), one per hour up to `HOURLY_POINTS_DAYS` days
(the week and month charts), one per day beyond. A player's history stays about
2 × 1,440 + 33 × 24 + one row a day, whatever they do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.exchange.models import ExchangeNetWorth
from kyrios.exchange.net_worth import last_points, valuations
from kyrios.exchange.owner import ExchangeUnavailable

log = logging.getLogger(__name__)

RECORD_SECONDS = 60.0
THIN_SECONDS = 3_600.0
MINUTE_POINTS_DAYS = 2
HOURLY_POINTS_DAYS = 35
TIERS = ((MINUTE_POINTS_DAYS * 86_400, 3_600), (HOURLY_POINTS_DAYS * 86_400, 86_400))
"""(keep every point this many seconds, then one per this many seconds), finer tier first."""
BATCH = 50
"""Ranges deleted per transaction: each transaction holds the writer (SQLite) only briefly."""
TABLE = cast(Table, ExchangeNetWorth.__table__)  # deletes by key, many at once: a Core statement

Fence = Callable[[AsyncSession], Awaitable[None]]


class NetWorthRecorder:
    """Records and thins the players' net-worth history in the process that runs the exchange."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        fence: Fence | None = None,
        every_seconds: float = RECORD_SECONDS,
        thin_every_seconds: float = THIN_SECONDS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.fence = fence
        self.every_seconds = every_seconds
        self.thin_every_seconds = thin_every_seconds
        self._last: dict[int, tuple[int, int, int]] | None = None  # user: (time, worth, deposits)
        self._thinned = [0 for _ in TIERS]  # per tier: below this time it is thinned already
        self._task: asyncio.Task[None] | None = None
        self._busy = asyncio.Lock()  # one tick at a time: two would write the same (user, second)

    async def record(self) -> int:
        """Write a point for every player whose value changed since their last one; returns how many."""
        async with self._busy:
            return await self._record()

    async def _record(self) -> int:
        now = int(self.clock.now().timestamp())
        async with self.db.read() as session:
            valued = await valuations(session)
            if self._last is None:
                self._last = await last_points(session, [v.user_id for v in valued])
        rows = []
        for v in valued:
            last = self._last.get(v.user_id)
            if last is None and v.net_worth_cents == 0 and v.net_deposits_cents == 0:
                continue  # never funded: nothing to chart yet
            if last is not None and (last[0] >= now or last[1:] == (v.net_worth_cents, v.net_deposits_cents)):
                continue
            rows.append(
                {
                    "user_id": v.user_id,
                    "snapshot_time": now,
                    "net_worth_cents": v.net_worth_cents,
                    "net_deposits_cents": v.net_deposits_cents,
                }
            )
        if rows:
            async with self.db.transaction() as session:
                if self.fence is not None:
                    await self.fence(session)
                await session.execute(insert(ExchangeNetWorth), rows)
            for row in rows:
                self._last[row["user_id"]] = (now, row["net_worth_cents"], row["net_deposits_cents"])
        return len(rows)

    async def thin(self) -> int:
        """Delete the points older than each tier's age but the last of each step; returns how many."""
        async with self._busy:
            return await self._thin()

    async def _thin(self) -> int:
        now = int(self.clock.now().timestamp())
        deleted = 0
        for tier, (age, step) in enumerate(TIERS):
            cutoff = (now - age) // step * step
            if cutoff <= self._thinned[tier]:
                continue
            async with self.db.read() as session:
                rows = await session.execute(
                    select(ExchangeNetWorth.user_id, ExchangeNetWorth.snapshot_time)
                    .where(
                        ExchangeNetWorth.snapshot_time >= self._thinned[tier],
                        ExchangeNetWorth.snapshot_time < cutoff,
                    )
                    .order_by(ExchangeNetWorth.user_id, ExchangeNetWorth.snapshot_time)
                )
                points = [(int(user_id), int(moment)) for user_id, moment in rows]
            # per (user, step) with more than one point: the range from its first point up to
            # (not including) its last, deleted by one statement over the primary key
            ranges: dict[tuple[int, int], list[int]] = {}
            for user_id, moment in points:
                span = ranges.setdefault((user_id, moment // step), [moment, moment, 0])
                span[1], span[2] = moment, span[2] + 1
            doomed = [
                {"u": user_id, "first": low, "last": high}
                for (user_id, _), (low, high, count) in ranges.items()
                if count > 1
            ]
            for chunk in range(0, len(doomed), BATCH):
                async with self.db.transaction() as session:
                    if self.fence is not None:
                        await self.fence(session)
                    await session.execute(
                        delete(TABLE).where(
                            TABLE.c.user_id == bindparam("u"),
                            TABLE.c.snapshot_time >= bindparam("first"),
                            TABLE.c.snapshot_time < bindparam("last"),
                        ),
                        doomed[chunk : chunk + BATCH],
                    )
                await asyncio.sleep(0)  # let the sequencers' batches have the writer between chunks
            deleted += sum(count - 1 for _, _, count in ranges.values())
            self._thinned[tier] = cutoff
        return deleted

    def start(self) -> None:
        """Record now and then every `every_seconds`, thinning every `thin_every_seconds`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="net-worth-recorder")

    async def aclose(self) -> None:
        """Stop recording."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        next_thin = time.monotonic()
        while True:
            try:
                await self.record()
                if time.monotonic() >= next_thin:
                    await self.thin()
                    next_thin = time.monotonic() + self.thin_every_seconds
            except ExchangeUnavailable:
                return  # the lease is gone: the next owner records
            except Exception:  # a passing database failure: try again at the next tick
                log.exception("net worth: recording failed; trying again in %g s", self.every_seconds)
            await asyncio.sleep(self.every_seconds)
