"""Crash recovery: SIGKILL a trading exchange at random points; every acknowledged command survives.

The exchange runs in a subprocess (`python -m kyrios.exchange.soak`) that prints each order id
once it is acknowledged (durable) and each cancel once it is recorded. After several kills and
restarts, a final recovery must find every acknowledged order, every acknowledged cancel, a
book equal to the database's open orders, and every invariant intact.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from kyrios.core.bus import InMemoryBus
from kyrios.core.clock import SystemClock
from kyrios.core.db import Database
from kyrios.exchange import invariants
from kyrios.exchange.models import LIVE_STATUSES, ExchangeOrder
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.service import Exchange
from kyrios.exchange.soak import RULES, SYMBOLS
from kyrios.testing.database import TEST_DATABASE_ENV, wipe

KILLS = 4


def run_until_killed(url: str, seed: int, acks_before_kill: int, log: Path) -> tuple[set[int], set[int], int]:
    """Start the soak process, SIGKILL it after `acks_before_kill` acknowledgements; return what it acked."""
    acked: set[int] = set()
    canceled: set[int] = set()
    restored = -1
    with (
        log.open("w") as errors,
        subprocess.Popen(
            [sys.executable, "-m", "kyrios.exchange.soak", url, "--seed", str(seed)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as process,
    ):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                word, _, value = line.strip().partition(" ")
                if word == "RECOVERED":
                    restored = int(value)
                elif word == "ACK":
                    acked.add(int(value))
                elif word == "CANCELED":
                    canceled.add(int(value))
                if len(acked) >= acks_before_kill:
                    break
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
    assert restored >= 0, f"the exchange did not recover: {log.read_text()}"
    return acked, canceled, restored


async def verify(url: str, acked: set[int], canceled: set[int]) -> int:
    """Take the exchange over (once the killed owner's lease expired), recover once more, and check
    that everything acknowledged is there and consistent."""
    db = Database(url)
    lease = ExchangeLease(db, program="test", lease_seconds=1.0, renew_seconds=0.25)
    await lease.wait()
    exchange = Exchange(db, InMemoryBus(), SystemClock(), RULES, lease=lease)
    try:
        restored = await exchange.start()
        await exchange.flush()
        async with db.read() as session:
            rows = {
                order.id: order
                for order in await session.scalars(
                    select(ExchangeOrder).where(ExchangeOrder.id.in_(acked | canceled))
                )
            }
            problems = await invariants.check(session)
            live = {
                (order.symbol, order.id)
                for order in await session.scalars(
                    select(ExchangeOrder).where(ExchangeOrder.status.in_(LIVE_STATUSES))
                )
            }
        assert problems == []
        assert acked - rows.keys() == set(), "acknowledged orders were lost"
        assert all(rows[i].priority is not None for i in acked), (
            "an acknowledged order never reached the book"
        )
        assert {i for i in canceled if rows[i].status != "CANCELED"} == set(), (
            "an acknowledged cancel was lost"
        )
        in_books = set()
        for symbol in SYMBOLS:
            sequencer = await exchange.sequencer(symbol)
            in_books |= {(symbol, int(order.order_id)) for order in sequencer.book.orders()}
        assert in_books == live
    finally:
        await exchange.aclose()
        await lease.release()
        await db.dispose()
    return restored


def crash_and_recover(url: str, seed: int, log: Path) -> None:
    """Several kill/restart rounds, then the final verification."""
    rng = random.Random(seed)
    acked: set[int] = set()
    canceled: set[int] = set()
    for round_number in range(KILLS):
        got, cancels, restored = run_until_killed(url, seed * 100 + round_number, rng.randint(20, 400), log)
        acked |= got
        canceled |= cancels
        print(f"round {round_number}: {len(got)} acked, {len(cancels)} canceled, {restored} restored")
    assert len(acked) > KILLS * 20
    restored = asyncio.run(verify(url, acked, canceled))
    print(f"final recovery restored {restored} resting orders")


def test_acknowledged_orders_survive_sigkill_on_a_sqlite_file(tmp_path: Path) -> None:
    crash_and_recover(f"sqlite:///{tmp_path / 'crash.db'}", seed=7, log=tmp_path / "soak.log")


@pytest.mark.skipif(not os.environ.get(TEST_DATABASE_ENV), reason="needs KYRIOS_TEST_DATABASE_URL")
def test_acknowledged_orders_survive_sigkill_on_the_server_database(
    database_url: str, tmp_path: Path
) -> None:
    async def clean() -> None:
        db = Database(database_url)
        try:
            await wipe(db)
        finally:
            await db.dispose()

    asyncio.run(clean())
    crash_and_recover(database_url, seed=11, log=tmp_path / "soak.log")
