"""`python -m kyrios.exchange.soak URL`: own the exchange, recover it, then trade randomly until killed.

Used by the crash-recovery and takeover tests. It prints `WAITING`, waits for the exchange lease
(a standby while another process holds it), prints `RECOVERED <resting orders>` once the books
are rebuilt, then one line per acknowledged command, written only after the command is durable:
`ACK <order_id>` for an order, `CANCELED <order_id>` for a cancel. The tests SIGKILL it at random
points and check that everything acknowledged survived.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys

from sqlalchemy import select

from kyrios.core.bus import InMemoryBus
from kyrios.core.clock import SystemClock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, InsufficientFunds
from kyrios.core.migrate import upgrade
from kyrios.exchange import accounts, assets
from kyrios.exchange.engine import OrderType, SelfTradePrevention, Side
from kyrios.exchange.models import AssetType, ExchangeAsset, ExchangeUser
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange

SYMBOLS = ("SOAK", "WAVE")
PLAYERS = 20
RULES = ExchangeRules(max_short_quantity=200, orders_per_second=1e9, order_burst=10**9, max_batch=500)


async def prepare(db: Database, rng: random.Random) -> list[int]:
    """Create the symbols and funded players on first run; return every user id (issuer first)."""
    now = SystemClock().now()
    async with db.transaction() as session:
        if await session.get(ExchangeAsset, SYMBOLS[0]) is None:
            for symbol in SYMBOLS:
                await assets.create_asset(
                    session,
                    symbol=symbol,
                    name=symbol.title(),
                    asset_type=AssetType.STOCK,
                    tick_size_cents=5,
                    supply=100_000,
                    price_cents=10_000,
                    now=now,
                )
            for n in range(PLAYERS):
                user = await accounts.create_user(session, username=f"soak{n}", now=now)
                await accounts.deposit(session, user.id, rng.randint(2_000_000, 20_000_000), now=now)
        return list(await session.scalars(select(ExchangeUser.id).order_by(ExchangeUser.id)))


def random_request(rng: random.Random) -> OrderRequest:
    """A limit near 100.00 (80 %) or a market order, any STP mode."""
    symbol = rng.choice(SYMBOLS)
    side = rng.choice((Side.BUY, Side.SELL))
    stp = rng.choice(list(SelfTradePrevention))
    if rng.random() < 0.2:
        return OrderRequest(
            symbol=symbol, side=side, type=OrderType.MARKET, quantity=rng.randint(1, 20), stp=stp
        )
    price = 10_000 + 5 * rng.randint(-15, 15)
    coid = f"s{rng.getrandbits(48):x}" if rng.random() < 0.3 else None
    return OrderRequest(
        symbol=symbol,
        side=side,
        quantity=rng.randint(1, 30),
        price_cents=price,
        stp=stp,
        client_order_id=coid,
    )


async def trade(exchange: Exchange, users: list[int], rng: random.Random, workers: int, orders: int) -> None:
    """Run `workers` concurrent clients until `orders` orders were sent (0 = forever)."""
    out = sys.stdout
    resting: list[tuple[int, int]] = []
    sent = 0

    async def client() -> None:
        nonlocal sent
        while orders == 0 or sent < orders:
            if resting and rng.random() < 0.25:
                order_id, user_id = resting.pop(rng.randrange(len(resting)))
                try:
                    await exchange.cancel_order(user_id, order_id=order_id)
                except Conflict:
                    continue
                out.write(f"CANCELED {order_id}\n")
                out.flush()
                continue
            sent += 1
            user_id = rng.choice(users)
            request = random_request(rng)
            try:
                view = await exchange.submit_order(user_id, request)
            except (InsufficientFunds, Conflict):  # no cash or margin, or below maintenance margin
                continue
            out.write(f"ACK {view.id}\n")
            out.flush()
            if request.type is OrderType.LIMIT and not view.duplicate:
                resting.append((view.id, user_id))

    await asyncio.gather(*(client() for _ in range(workers)))


async def main(url: str, seed: int, workers: int, orders: int, lease: tuple[float, float]) -> None:
    """Migrate, take the lease (waiting for it), prepare, recover, trade."""
    rng = random.Random(seed)
    db = Database(url)
    try:
        await upgrade(db)
        owner = ExchangeLease(
            db, program="kyrios.exchange.soak", lease_seconds=lease[0], renew_seconds=lease[1]
        )
        print("WAITING", flush=True)
        await owner.wait()
        try:
            users = await prepare(db, rng)
            exchange = Exchange(db, InMemoryBus(), SystemClock(), RULES, lease=owner)
            restored = await exchange.start()
            print(f"RECOVERED {restored}", flush=True)
            try:
                await trade(exchange, users, rng, workers, orders)
                await exchange.flush()
            finally:
                await exchange.aclose()
        finally:
            await owner.release()
        print("DONE", flush=True)
    finally:
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--orders", type=int, default=0, help="stop after this many orders (0 = never)")
    parser.add_argument("--lease-seconds", type=float, default=1.0, help="how long the lease lasts unrenewed")
    parser.add_argument("--renew-seconds", type=float, default=0.25, help="how often it is renewed")
    arguments = parser.parse_args()
    lease = (arguments.lease_seconds, arguments.renew_seconds)
    asyncio.run(main(arguments.url, arguments.seed, arguments.workers, arguments.orders, lease))
