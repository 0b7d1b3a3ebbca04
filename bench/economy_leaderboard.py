"""Points leaderboards benchmark: week, month and all-time boards over a year of ledger, on SQLite.

A migrated SQLite file (WAL) holds one guild's `--members` members and a year of ledger rows,
`--rows` in all, spread evenly over the 365 days before now (written in bulk before timing), plus
another guild as large. Timed, each `--repeat` times, median reported: the first page of
`/points leaderboard` for `week`, `month` and `all` (the service calls the command makes). Also
printed: SQLite's plan of the week board, which should search `ix_economy_ledger_guild_created`
(guild_id, created_at) rather than scan the table.

    python bench/economy_leaderboard.py [--members 2000] [--rows 500000] [--repeat 5]

The database lives in a temporary directory removed afterwards; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from kyrios.core.db import Database
from kyrios.core.migrate import upgrade
from kyrios.features.economy import service
from kyrios.features.economy.models import EconomyAccount, EconomyLedger, Reason

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")
GUILDS = (1, 2)
BATCH = 20_000


async def prepare(db: Database, members: int, rows: int) -> None:
    """Accounts and a year of credits for each guild (balances equal to their ledger sums)."""
    rng = random.Random(7)
    span = timedelta(days=365).total_seconds()
    for guild_id in GUILDS:
        totals = dict.fromkeys(range(1, members + 1), 0)
        batch: list[dict[str, object]] = []
        for n in range(rows):
            user_id = rng.randint(1, members)
            delta = rng.randint(1, 500)
            totals[user_id] += delta
            at = NOW - timedelta(seconds=span * (rows - n) / rows)
            reason = rng.choice((Reason.DAILY, Reason.MESSAGE_ACTIVITY, Reason.GRANT, Reason.PAY_RECEIVED))
            batch.append(
                {
                    "guild_id": guild_id,
                    "user_id": user_id,
                    "delta": delta,
                    "balance_after": totals[user_id],
                    "reason": reason,
                    "detail": "",
                    "created_at": at,
                }
            )
            if len(batch) == BATCH:
                async with db.transaction() as session:
                    await session.execute(insert(EconomyLedger), batch)
                batch = []
        async with db.transaction() as session:
            if batch:
                await session.execute(insert(EconomyLedger), batch)
            await session.execute(
                insert(EconomyAccount),
                [
                    {"guild_id": guild_id, "user_id": uid, "points": points, "created_at": NOW}
                    for uid, points in totals.items()
                ],
            )


async def timed(repeat: int, work: Callable[[], Awaitable[object]]) -> float:
    """Median milliseconds of `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def main(members: int, rows: int, repeat: int) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as directory:
        db = Database(f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}")
        try:
            await upgrade(db)
            await prepare(db, members, rows)

            async def board(period: service.Period) -> None:
                """The first page of one board, in a read session of its own."""
                async with db.read() as session:
                    since = service.period_start(period, NOW, TOKYO)
                    if since is None:
                        await service.leaderboard(session, 1, page=1)
                    else:
                        await service.earned_leaderboard(session, 1, since, page=1)

            figures: dict[str, float | int | str] = {"members": members, "ledger_rows_per_guild": rows}
            for period in service.Period:
                figures[f"leaderboard_{period.value}_ms"] = await timed(
                    repeat, functools.partial(board, period)
                )
            week_start = service.period_start(service.Period.WEEK, NOW, TOKYO)
            assert week_start is not None
            async with db.read() as session:
                plan = await session.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT user_id, sum(delta) FROM economy_ledger"
                        " WHERE guild_id = 1 AND created_at >= :since AND delta > 0 GROUP BY user_id"
                    ),
                    {"since": week_start.astimezone(UTC).replace(tzinfo=None).isoformat(" ")},
                )
                figures["week_plan"] = " | ".join(str(row[-1]) for row in plan)
        finally:
            await db.dispose()
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(main(args.members, args.rows, args.repeat))
    for name, value in result.items():
        print(f"{name:>26}: {value}")
    print(json.dumps(result))
