"""Orders per second through REST beside a trivial endpoint, and WebSocket fan-out to many subscribers.

    python bench/api.py [--seconds 8] [--clients 16] [--keys 128] [--subscribers 1000]
                        [--fanout-seconds 8] [--fanout-rate 20] [--profile server.prof] [--smoke]

Setup, everything real: a migrated SQLite file in a temporary directory; this process takes the
exchange lease briefly to list two symbols (ACME for the order load, FANO for the fan-out), open
`--keys` BOT accounts with an API key each, fund them and raise the exchange's own order-rate and
short-position rules for them (`change_rules`, what `kyrios exchange set-rules` does: settings,
not code paths). It then gives the lease up and starts `python -m kyrios.cli up` (one uvicorn
worker, the exchange in the same process, `KYRIOS_BOTS=0`) as a subprocess. This process is the
load generator, so it never shares the server's event loop; on a 2-core host the two processes
each get about one core.

1. `GET /healthz` and then `POST /api/v1/orders` by `--clients` keep-alive connections, each
   sending its next request when the previous one is answered (`http_load.py`). Orders are
   limit orders for 1 unit at one price with a fresh `client_order_id` (as the bots send them);
   even keys buy, odd keys sell, so the flow crosses and the open-order cap is never reached.
   The keys are cycled across requests, so the REST API's BOT tier (50/s per key) stays far from
   its limit. Figures: accepted (201) orders/s, its ratio to `/healthz`, p50/p99 latency, and the
   server's CPU per order.
2. `--subscribers` WebSocket clients each follow `trades:FANO` and `book:FANO`; then crossing
   pairs (a resting sell, then a buy at the same price, one pair at a time, `--fanout-rate` pairs
   per second, each pair at its own price) flow through REST. For every `trade` frame each
   subscriber receives, two delays are taken on this host's wall clock:
   - `fanout_p99_ms` (the headline): receipt − the frame's `ts`, the batch's timestamp that the
     sequencer stamps when it starts the batch, before its transaction commits; so it is an
     upper bound of commit → delivery (it includes the batch's own persist and commit, ms
     resolution);
   - `order_to_frame_p99_ms`: receipt − the moment this process sent the crossing (buy) order,
     found by the trade's price (the REST request, the batch, the commit and the fan-out).
   Subscribers closed with code 4008 are the dropped slow consumers; `missing_frames` counts trade
   frames a subscriber that stayed connected never got. The subscribers and the sender share this
   one process: `fanout_client_cpu_share` beside `fanout_server_cpu_share` (each a share of one
   core over the phase) says which side limited the figures; near 1.0 the delays are this
   process's own queueing, not the server's.

`--profile PATH` runs the server under cProfile and writes its stats to PATH at the end. The last
line of output is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kyrios
from http_load import LoadResult, run_load, trivial_baseline
from interactions import HOST, free_port, process_cpu_seconds, report, wait_ready
from kyrios.bots.provision import fund_accounts
from kyrios.core.migrate import upgrade
from kyrios.exchange import accounts
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import build_runtime
from kyrios.settings import Settings
from kyrios.web.auth import api_keys

console = Console(stderr=True)
SYMBOL = "ACME"
FANOUT_SYMBOL = "FANO"
PRICE = 10_000
FANOUT_PRICES = 1_000
"""The fan-out pairs cycle through this many prices below `PRICE`, one price per pair."""
SLOW_CONSUMER = 4008


async def seed(database_url: str, keys: int) -> list[str]:
    """Migrate, list the symbols, open and fund `keys` BOT accounts; their API keys."""
    runtime = build_runtime(Settings(database_url=database_url, log_level="WARNING", _env_file=None))
    try:
        await upgrade(runtime.db)
        lease = ExchangeLease(runtime.db, program="bench/api.py")
        await lease.acquire()
        await runtime.run_exchange(lease)
        for symbol in (SYMBOL, FANOUT_SYMBOL):
            await runtime.exchange.create_asset(
                AssetListing(symbol=symbol, name=symbol.title(), supply=1_000_000, price_cents=PRICE)
            )
        await runtime.exchange.change_rules(
            orders_per_second=100_000, order_burst=1_000_000, max_short_quantity=1_000_000_000
        )
        names = [f"bench-{index}" for index in range(keys)]
        await fund_accounts(runtime.exchange, names, 10**13)

        async def make_keys(session: AsyncSession) -> list[str]:
            made = []
            for name in names:
                bot = await accounts.resolve_user(session, name)
                new = await api_keys.create_key(
                    session,
                    bot,
                    scopes=list(api_keys.SCOPES),
                    label="bench",
                    created_by=None,
                    now=runtime.clock.now(),
                )
                made.append(new.key)
            return made

        return await runtime.db.run(make_keys)
    finally:
        await runtime.aclose()  # stops the exchange and gives the lease up for the server


def start_server(
    directory: Path, database_url: str, port: int, profile: Path | None
) -> subprocess.Popen[bytes]:
    """`kyrios up` on `database_url` (optionally under cProfile), without bots."""
    source = str(Path(kyrios.__file__).resolve().parents[1])  # the server runs the kyrios imported here
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
        "KYRIOS_DATABASE_URL": database_url,
        "KYRIOS_BOTS": "0",
        "KYRIOS_LOG_LEVEL": "WARNING",
        "KYRIOS_JWT_SECRET_FILE": str(directory / "jwt-secret"),
    }
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    command = [sys.executable, *profiler, "-m", "kyrios.cli", "up", "--host", HOST, "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=directory)


def order_request(key: str, symbol: str, side: str, price: int, client_order_id: str) -> bytes:
    """One raw `POST /api/v1/orders` request with the key as bearer."""
    body = json.dumps(
        {
            "symbol": symbol,
            "side": side,
            "type": "limit",
            "quantity": 1,
            "price_cents": price,
            "client_order_id": client_order_id,
        }
    ).encode()
    head = (
        f"POST /api/v1/orders HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def order_flow(keys: list[str]) -> Callable[[], bytes]:
    """Orders cycling through the keys: even keys buy, odd keys sell, all at `PRICE`."""
    count = 0

    def next_order() -> bytes:
        nonlocal count
        index = count % len(keys)
        count += 1
        side = "buy" if index % 2 == 0 else "sell"
        return order_request(keys[index], SYMBOL, side, PRICE, f"load-{count}")

    return next_order


@dataclass
class Fanout:
    """What the subscribers saw."""

    subscribed: int = 0
    dropped: int = 0
    frames: int = 0
    trade_frames: int = 0
    ts_delays: list[float] = field(default_factory=list)
    send_delays: list[float] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict)
    """The price of each pair → when its crossing order was sent (`time.time()`)."""


async def subscriber(url: str, fanout: Fanout, ready: asyncio.Event, counted: list[int]) -> None:
    """Follow trades and book of the fan-out symbol until cancelled; note each trade frame's delays."""
    async with connect(url, max_queue=None, open_timeout=60) as ws:
        await ws.send(
            json.dumps({"op": "subscribe", "channels": [f"trades:{FANOUT_SYMBOL}", f"book:{FANOUT_SYMBOL}"]})
        )
        await _until_snapshot(ws)
        fanout.subscribed += 1
        ready.set()
        trades = 0
        dropped = False
        try:
            async for message in ws:
                received = time.time()
                fanout.frames += 1
                if '"type":"trade"' not in message:
                    continue
                trade = json.loads(message)
                trades += 1
                fanout.trade_frames += 1
                fanout.ts_delays.append(received - trade["ts"] / 1000)
                sent = fanout.sent_at.get(trade["price_cents"])
                if sent is not None:
                    fanout.send_delays.append(received - sent)
        except ConnectionClosed as closed:
            if closed.rcvd is None or closed.rcvd.code != SLOW_CONSUMER:
                raise
            dropped = True
            fanout.dropped += 1
        finally:
            if not dropped:
                counted.append(trades)


async def _until_snapshot(ws: ClientConnection) -> None:
    while True:
        frame = json.loads(await ws.recv())
        if frame["channel"].startswith("book:") and frame["type"] == "snapshot":
            return


async def send_pairs(base_url: str, keys: list[str], fanout: Fanout, seconds: float, rate: float) -> int:
    """Crossing pairs on the fan-out symbol, one at a time, `rate` a second; how many traded."""
    pairs = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            price = PRICE - 1 - pairs % FANOUT_PRICES
            seller, buyer = keys[(2 * pairs + 1) % len(keys)], keys[(2 * pairs) % len(keys)]
            order = {"symbol": FANOUT_SYMBOL, "type": "limit", "quantity": 1, "price_cents": price}
            answer = await http.post(
                "/api/v1/orders",
                json={**order, "side": "sell"},
                headers={"Authorization": f"Bearer {seller}"},
            )
            answer.raise_for_status()
            fanout.sent_at[price] = time.time()
            answer = await http.post(
                "/api/v1/orders", json={**order, "side": "buy"}, headers={"Authorization": f"Bearer {buyer}"}
            )
            answer.raise_for_status()
            pairs += 1
            pause = started + pairs / rate - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
    return pairs


async def run_fanout(
    port: int, keys: list[str], subscribers: int, seconds: float, rate: float
) -> tuple[Fanout, int, list[int]]:
    """Connect the subscribers (50 at a time), let the pairs flow, then let the frames drain."""
    fanout = Fanout()
    counted: list[int] = []
    url = f"ws://{HOST}:{port}/ws"
    tasks: list[asyncio.Task[None]] = []
    for start in range(0, subscribers, 50):
        batch = []
        for _ in range(start, min(subscribers, start + 50)):
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(subscriber(url, fanout, ready, counted)))
            batch.append(ready.wait())
        await asyncio.wait_for(asyncio.gather(*batch), 60)
    pairs = await send_pairs(f"http://{HOST}:{port}", keys, fanout, seconds, rate)
    await asyncio.sleep(2)  # frames still on their way
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
    return fanout, pairs, counted


def percentile_ms(values: list[float], pct: float) -> float | None:
    """The percentile in milliseconds; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))], 2)


def settings_from(args: argparse.Namespace) -> argparse.Namespace:
    """`--smoke`: a run of a few seconds that still crosses every path (for the test)."""
    if args.smoke:
        args.seconds, args.clients, args.keys = 1.0, 4, 8
        args.subscribers, args.fanout_seconds, args.fanout_rate = 20, 1.0, 10.0
    return args


async def main() -> None:
    """Seed, start the server, run both phases, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8, help="length of each REST phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent REST connections")
    parser.add_argument("--keys", type=int, default=128, help="BOT accounts with an API key each")
    parser.add_argument("--subscribers", type=int, default=1000, help="WebSocket subscribers")
    parser.add_argument("--fanout-seconds", type=float, default=8)
    parser.add_argument("--fanout-rate", type=float, default=20, help="crossing pairs per second")
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, stats to this file")
    parser.add_argument("--smoke", action="store_true", help="a short run that checks the bench works")
    args = settings_from(parser.parse_args())

    with tempfile.TemporaryDirectory(prefix="kyrios-api-") as tmp:
        directory = Path(tmp)
        database_url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        console.print(f"seeding {args.keys} BOT accounts and keys")
        keys = await seed(database_url, args.keys)
        port = free_port()
        profile = args.profile.resolve() if args.profile else None
        server = start_server(directory, database_url, port, profile)
        try:
            wait_ready(port)
            trivial = await trivial_baseline(HOST, port, clients=args.clients, seconds=args.seconds)
            report("GET /healthz", trivial)
            cpu_before = process_cpu_seconds(server.pid)
            orders = await run_load(HOST, port, order_flow(keys), clients=args.clients, seconds=args.seconds)
            cpu_after = process_cpu_seconds(server.pid)
            report("POST /orders", orders)
            fanout_start = cpu_shares(server.pid)
            fanout, pairs, counted = await run_fanout(
                port, keys, args.subscribers, args.fanout_seconds, args.fanout_rate
            )
            fanout_busy = cpu_shares(server.pid, since=fanout_start)
        finally:
            server.terminate()
            server.wait(30)
    print_figures(args, trivial, orders, (cpu_before, cpu_after), fanout, pairs, counted, fanout_busy)


def cpu_shares(server: int, since: tuple[float, ...] | None = None) -> tuple[float, ...]:
    """(wall clock, server CPU, this process's CPU) now; with `since`: the share of a core each
    process used from then on (-1 where /proc is missing)."""
    now = (time.monotonic(), process_cpu_seconds(server) or -1.0, process_cpu_seconds(os.getpid()) or -1.0)
    if since is None:
        return now
    wall = now[0] - since[0]
    return tuple(round((now[i] - since[i]) / wall, 2) if since[i] >= 0 else -1.0 for i in (1, 2))


def print_figures(
    args: argparse.Namespace,
    trivial: LoadResult,
    orders: LoadResult,
    cpu: tuple[float | None, float | None],
    fanout: Fanout,
    pairs: int,
    counted: list[int],
    fanout_busy: tuple[float, ...],
) -> None:
    """The human summary, then one JSON line."""
    accepted = orders.statuses.get(201, 0)
    accepted_per_s = accepted / orders.seconds
    ratio = accepted_per_s / trivial.per_second
    before, after = cpu
    server_cpu_us = (
        round(1e6 * (after - before) / accepted, 1)
        if before is not None and after is not None and accepted
        else None
    )
    server_share, client_share = fanout_busy
    missing = sum(max(0, pairs - seen) for seen in counted)
    console.print(
        f"orders: {accepted_per_s:,.0f} accepted/s = {100 * ratio:.1f} % of /healthz "
        f"(server CPU {server_cpu_us} µs per order)"
    )
    console.print(
        f"fan-out: {fanout.subscribed} subscribers, {pairs} trades, {fanout.trade_frames:,} "
        f"trade frames, p50 {percentile_ms(fanout.ts_delays, 50)} ms, "
        f"p99 {percentile_ms(fanout.ts_delays, 99)} ms "
        f"after the batch's ts; dropped {fanout.dropped}; server busy {server_share} of a core, "
        f"subscribers and sender {client_share}"
    )
    print(
        json.dumps(
            {
                "trivial_req_per_s": round(trivial.per_second),
                "orders_accepted_per_s": round(accepted_per_s),
                "ratio_percent": round(100 * ratio, 1),
                "order_p50_ms": round(orders.median_ms, 2),
                "order_p99_ms": round(orders.percentile_ms(99), 2),
                "order_statuses": {str(status): count for status, count in sorted(orders.statuses.items())},
                "server_cpu_us_per_order": server_cpu_us,
                "clients": args.clients,
                "keys": args.keys,
                "subscribers": fanout.subscribed,
                "fanout_trades": pairs,
                "fanout_frames": fanout.frames,
                "fanout_p50_ms": percentile_ms(fanout.ts_delays, 50),
                "fanout_p99_ms": percentile_ms(fanout.ts_delays, 99),
                "order_to_frame_p50_ms": percentile_ms(fanout.send_delays, 50),
                "order_to_frame_p99_ms": percentile_ms(fanout.send_delays, 99),
                "dropped_slow_consumers": fanout.dropped,
                "missing_frames": missing,
                "fanout_server_cpu_share": server_share,
                "fanout_client_cpu_share": client_share,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
