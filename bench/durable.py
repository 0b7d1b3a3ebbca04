"""Durable order benchmark: acknowledged orders per second through the sequencer on SQLite.

Everything real: a migrated SQLite file (WAL), the exchange lease this process takes (as
`kyrios up` does), `Exchange.submit_order` with its checks, rate limiter and risk, and the
sequencer's group commit: one transaction per batch that checks the lease, reserves cash/units,
runs the orders through the pure book and writes the outcome (each order row once, in its state
after the book, with the executions, positions, cash and the ledger), and that must commit
before any of its orders is acknowledged.

Load: `--clients` concurrent clients in the same process (closed loop: each sends its next
order when the previous one is acknowledged), or with `--rate` an open loop that starts
orders at a fixed rate whatever the latency. Orders: 90 % limit within ±50 ticks of the mid,
10 % market, 100 funded users. The load generator shares the one CPU core with the exchange,
so the figures are a floor for the exchange alone.

On a shared host the wall-clock rate depends on what else runs; `cpu_us_per_order` (process
CPU time, load generator included, over the whole run) is the steadier figure.

Acknowledge latency is measured from the call of `submit_order` (open loop: from the
scheduled start) to its return. Orders/s counts acknowledgements over the sending window;
"end to end" also waits until every batch is matched and persisted (the same moment now that
a batch is matched before it commits). The invariants are checked at the end. The database
lives in a temporary directory removed afterwards. The last line of output is one JSON object
with the headline figures.

    python bench/durable.py [--orders 100000] [--clients 256] [--rate 0] [--batch 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from kyrios.core.bus import InMemoryBus
from kyrios.core.clock import SystemClock
from kyrios.core.db import Database
from kyrios.core.migrate import upgrade
from kyrios.exchange import accounts, assets, invariants
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import AssetType, ExchangeExecution
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange

SYMBOL = "BENCH"
MID = 10_000
USERS = 100
console = Console()


def requests(count: int, seed: int) -> list[tuple[int, OrderRequest]]:
    """The order stream, built before timing starts: (user index, request)."""
    rng = random.Random(seed)
    stream = []
    for _ in range(count):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        quantity = rng.randint(1, 100)
        if rng.random() < 0.1:
            request = OrderRequest(symbol=SYMBOL, side=side, type=OrderType.MARKET, quantity=quantity)
        else:
            price = MID + rng.randint(-50, 50)
            request = OrderRequest(symbol=SYMBOL, side=side, quantity=quantity, price_cents=price)
        stream.append((rng.randrange(USERS), request))
    return stream


async def prepare(db: Database) -> list[int]:
    """One symbol, 100 users with deep pockets (shorts allowed), migrated from scratch."""
    await upgrade(db)
    now = SystemClock().now()
    async with db.transaction() as session:
        await assets.create_asset(
            session,
            symbol=SYMBOL,
            name="Benchmark",
            asset_type=AssetType.STOCK,
            tick_size_cents=1,
            supply=10**9,
            price_cents=MID,
            now=now,
        )
        ids = []
        for n in range(USERS):
            user = await accounts.create_user(session, username=f"bench{n}", now=now)
            await accounts.deposit(session, user.id, 10**13, now=now)
            ids.append(user.id)
    return ids


async def run(args: argparse.Namespace) -> dict[str, object]:
    """Send the stream, time every acknowledgement, check the invariants."""
    with tempfile.TemporaryDirectory(prefix="kyrios-durable-") as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        return await measure(args, url)


async def measure(args: argparse.Namespace, url: str) -> dict[str, object]:
    """The run itself, on the database at `url`."""
    db = Database(url)
    users = await prepare(db)
    stream = requests(args.orders, args.seed)
    rules = ExchangeRules(
        max_short_quantity=10**9, orders_per_second=1e12, order_burst=10**12, max_batch=args.batch
    )
    lease = ExchangeLease(db, program="bench/durable.py")
    await lease.acquire()
    exchange = Exchange(db, InMemoryBus(), SystemClock(), rules, lease=lease)
    await exchange.start()
    latencies: list[float] = []
    refused = 0
    position = 0
    perf = time.perf_counter

    async def submit(user: int, request: OrderRequest, started: float) -> None:
        nonlocal refused
        try:
            await exchange.submit_order(users[user], request)
        except Exception:
            refused += 1
            return
        latencies.append(perf() - started)

    async def client() -> None:
        nonlocal position
        while position < len(stream):
            user, request = stream[position]
            position += 1
            await submit(user, request, perf())

    async def open_loop() -> None:
        nonlocal position
        tasks = set()
        start = perf()
        while position < len(stream):
            due = int((perf() - start) * args.rate) + 1
            while position < min(due, len(stream)):
                user, request = stream[position]
                task = asyncio.create_task(submit(user, request, start + position / args.rate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                position += 1
            await asyncio.sleep(0.0005)
        await asyncio.gather(*tasks)

    gc.collect()
    gc.freeze()  # the set-up objects are long-lived; keep the collector off them
    with Progress(
        TextColumn("[bold]orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        bar = progress.add_task("orders", total=len(stream))

        async def report() -> None:
            while True:
                progress.update(bar, completed=len(latencies) + refused)
                await asyncio.sleep(0.2)

        reporter = asyncio.create_task(report())
        started = perf()
        cpu_started = time.process_time()
        if args.rate:
            await open_loop()
        else:
            await asyncio.gather(*(client() for _ in range(args.clients)))
        acked_at = perf()
        await exchange.flush()
        persisted_at = perf()
        cpu_used = time.process_time() - cpu_started
        reporter.cancel()
        progress.update(bar, completed=len(stream))
    await exchange.aclose()
    await lease.release()
    async with db.read() as session:
        problems = await invariants.check(session)
        trades = int(await session.scalar(select(func.count()).select_from(ExchangeExecution)) or 0)
    await db.dispose()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {
        "database": db.dialect,
        "mode": f"open loop {args.rate:g}/s" if args.rate else f"closed loop, {args.clients} clients",
        "orders": len(stream),
        "acknowledged": len(latencies),
        "refused": refused,
        "trades": trades,
        "acked_orders_per_s": round(len(latencies) / (acked_at - started)),
        "end_to_end_orders_per_s": round(len(latencies) / (persisted_at - started)),
        "cpu_us_per_order": round(cpu_used / len(stream) * 1e6, 1),
        "orders_per_cpu_s": round(len(stream) / cpu_used),
        "ack_p50_ms": pct(0.5),
        "ack_p99_ms": pct(0.99),
        "ack_p999_ms": pct(0.999),
        "ack_max_ms": round(latencies[-1] * 1000, 2),
        "ack_mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "max_batch": args.batch,
        "invariants_ok": not problems,
    }


def main() -> None:
    """Parse arguments, run, print a table and the JSON line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=256, help="concurrent closed-loop clients")
    parser.add_argument("--rate", type=float, default=0, help="open-loop orders per second (0 = closed loop)")
    parser.add_argument("--batch", type=int, default=2_000, help="most commands per group commit")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    table = Table("figure", "value", title="Durable orders through the sequencer")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
