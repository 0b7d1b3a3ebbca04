"""Net-worth benchmark: the recorder's tick, the leaderboards and a chart read, on SQLite.

A migrated SQLite file (WAL) holds `--players` players (Discord accounts) with cash and positions
in five symbols, and a history of `--points` points each, one a minute up to now (written in bulk
before timing). Timed, each `--repeat` times, median reported:

- `record`: one tick of `NetWorthRecorder.record` after every last price moved (every player
  changed: the most a tick ever writes);
- `leaderboard_all` / `leaderboard_day`: `net_worth.leaderboard` (the day's needs each player's
  point at the day's start: one index seek each);
- `history_day`: `net_worth.history` of one player over the day (its points read, thinned, now);
- `thin`: the first hourly thinning of a history `--points` long aged past the 2 days of minute
  points (what a restarted owner does once).

    python bench/net_worth.py [--players 2000] [--points 1440] [--repeat 5]

The database lives in a temporary directory removed afterwards; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.core.migrate import upgrade
from kyrios.exchange import accounts, assets, net_worth
from kyrios.exchange.models import AssetType, ExchangeAsset, ExchangeNetWorth, ExchangePosition
from kyrios.exchange.recorder import NetWorthRecorder

SYMBOLS = ("AAA", "BBB", "CCC", "DDD", "EEE")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def prepare(db: Database, players: int, points: int) -> list[int]:
    """List the symbols, open and fund the players with positions, write their histories."""
    async with db.transaction() as session:
        issuer_ids = []
        for symbol in SYMBOLS:
            asset = await assets.create_asset(
                session,
                symbol=symbol,
                name=symbol,
                asset_type=AssetType.STOCK,
                tick_size_cents=1,
                supply=10**9,
                price_cents=10_000,
                max_quantity=10**6,
                max_notional_cents=10**12,
                now=NOW,
            )
            issuer_ids.append(asset.issuer_user_id)
        ids = []
        for n in range(players):
            user = await accounts.create_user(session, username=f"p{n}", discord_id=10**6 + n, now=NOW)
            await accounts.deposit(session, user.id, 1_000_000, now=NOW)
            ids.append(user.id)
        await session.execute(
            insert(ExchangePosition),
            [
                {"user_id": uid, "symbol": symbol, "quantity": 10, "cost_basis_cents": 100_000}
                | {"average_price_cents": 10_000, "realized_pnl_cents": 0, "reserved_quantity": 0}
                for uid in ids
                for symbol in SYMBOLS
            ],
        )
    end = int(NOW.timestamp())
    for first in range(0, len(ids), 100):
        async with db.transaction() as session:
            await session.execute(
                insert(ExchangeNetWorth),
                [
                    {"user_id": uid, "snapshot_time": end - 60 * k, "net_worth_cents": 1_500_000 + k}
                    | {"net_deposits_cents": 1_000_000}
                    for uid in ids[first : first + 100]
                    for k in range(1, points + 1)
                ],
            )
    return ids


async def timed(repeat: int, work: Callable[[], Awaitable[object]]) -> float:
    """Median milliseconds of `repeat` runs of `work`."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


async def main(players: int, points: int, repeat: int) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as directory:
        db = Database(f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}")
        try:
            await upgrade(db)
            ids = await prepare(db, players, points)
            clock = FrozenClock(NOW)
            recorder = NetWorthRecorder(db, clock)

            async def tick() -> None:
                clock.advance(timedelta(minutes=1))
                async with db.transaction() as session:
                    await session.execute(
                        update(ExchangeAsset).values(last_price_cents=ExchangeAsset.last_price_cents + 1)
                    )
                await recorder.record()

            async def board(period: net_worth.Period) -> None:
                async with db.read() as session:
                    await net_worth.leaderboard(session, period, clock.now(), 20)

            async def chart() -> None:
                async with db.read() as session:
                    await net_worth.history(session, ids[len(ids) // 2], net_worth.Period.DAY, clock.now())

            figures: dict[str, float | int] = {"players": players, "points_per_player": points}
            figures["record_ms"] = await timed(repeat, tick)
            figures["leaderboard_all_ms"] = await timed(repeat, lambda: board(net_worth.Period.ALL))
            figures["leaderboard_day_ms"] = await timed(repeat, lambda: board(net_worth.Period.DAY))
            figures["history_day_ms"] = await timed(repeat, chart)
            clock.advance(timedelta(days=3))
            started = time.perf_counter()
            figures["thinned_points"] = await NetWorthRecorder(db, clock).thin()
            figures["thin_ms"] = (time.perf_counter() - started) * 1000
        finally:
            await db.dispose()
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=2_000)
    parser.add_argument("--points", type=int, default=1_440)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(main(args.players, args.points, args.repeat))
    for name, value in result.items():
        print(f"{name:>22}: {value}")
    print(json.dumps(result))
