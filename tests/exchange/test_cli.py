"""`kyrios exchange …` against the test database: listing, halting, cash, the book and the invariant check."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import CursorResult, text
from typer.testing import CliRunner

from kyrios.cli import app
from kyrios.core.bus import InMemoryBus
from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.exchange import accounts, assets
from kyrios.exchange.engine import Side
from kyrios.exchange.models import AssetType
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange
from kyrios.testing.database import wipe


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database, emptied, as the CLI's configured database."""

    async def clean() -> None:
        db = Database(database_url)
        try:
            await wipe(db)
        finally:
            await db.dispose()

    asyncio.run(clean())
    monkeypatch.setenv("KYRIOS_DATABASE_URL", database_url)
    return database_url


def kyrios(*args: str) -> tuple[int, str]:
    """Run `kyrios exchange …`; (exit code, output)."""
    result = CliRunner().invoke(app, ["exchange", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_admin_cli_lists_halts_funds_and_checks(cli_database: str) -> None:
    assert (
        kyrios(
            "create-asset",
            "OMNI",
            "--name",
            "Omni Corp",
            "--supply",
            "1000",
            "--price",
            "12345",
            "--tick",
            "5",
        )[0]
        == 0
    )
    code, out = kyrios("create-asset", "OMNI", "--name", "Again", "--supply", "1")
    assert (code, out.strip()) == (1, "The symbol OMNI is already listed.")
    code, out = kyrios(
        "create-asset", "BAD", "--name", "Off tick", "--supply", "1", "--price", "101", "--tick", "5"
    )
    assert code == 1 and "multiple of the tick" in out
    assert kyrios("create-user", "alice")[0] == 0
    code, out = kyrios("deposit", "alice", "250000")
    assert code == 0 and "alice now has 2,500.00 free" in out
    code, out = kyrios("deposit", "nobody", "5")
    assert (code, out.strip()) == (1, "There is no exchange user 'nobody'.")
    code, out = kyrios("deposit", "alice", "0")
    assert code == 1 and "positive whole number" in out
    code, out = kyrios("users")
    assert code == 0 and "alice" in out and "2,500.00" in out and "market" in out
    assert kyrios("halt", "OMNI") == (0, "OMNI is now HALTED\n")
    code, out = kyrios("assets")
    assert code == 0 and "Omni Corp" in out and "HALTED" in out and "123.45" in out
    assert kyrios("resume", "OMNI")[0] == 0
    assert kyrios("halt", "NOPE") == (1, "There is no symbol NOPE.\n")
    code, out = kyrios("book", "OMNI")
    assert code == 0 and "OMNI book" in out
    code, out = kyrios("portfolio", "market")
    assert code == 0 and "1,000" in out
    assert kyrios("check") == (0, "✓ all exchange invariants hold\n")


def test_check_fails_loudly_when_cash_appears_from_nowhere(cli_database: str) -> None:
    assert kyrios("create-user", "bob")[0] == 0
    assert kyrios("deposit", "bob", "1000")[0] == 0

    async def counterfeit() -> None:
        db = Database(cli_database)
        try:
            async with db.transaction() as session:
                await session.execute(text("UPDATE exchange_cash SET cash_cents = cash_cents + 1"))
        finally:
            await db.dispose()

    asyncio.run(counterfeit())
    code, out = kyrios("check")
    assert code == 1
    assert "cash + reserved = 1001 but the ledger sums to 1000" in out


def test_admin_cli_shows_and_changes_the_rules(cli_database: str) -> None:
    code, out = kyrios("rules")
    assert code == 0 and "max_short_quantity" in out and "1000" in out
    code, out = kyrios("set-rules", "--max-short", "250", "--collar-bps", "300")
    assert code == 0 and "250" in out and "300" in out
    code, out = kyrios("set-rules", "--burst", "0")
    assert code == 1 and "order_burst (new orders a user may send at once) must be between 1" in out
    code, out = kyrios("set-rules")
    assert code == 1 and "Name at least one rule" in out
    code, out = kyrios("rules")
    assert code == 0 and "250" in out and "300" in out and "20" in out  # the burst kept its value
    assert "initial_margin_bps" in out and "15000" in out and "12500" in out
    code, out = kyrios("set-rules", "--maintenance-margin-bps", "14000", "--liquidation")
    assert code == 0 and "14000" in out
    code, out = kyrios("set-rules", "--maintenance-margin-bps", "16000")
    assert code == 1 and "cannot be above the initial margin (15000 bps)" in out


def hold_the_lease(database_url: str) -> None:
    """Take the exchange lease as a running `kyrios up` would (and keep it for two minutes)."""

    async def take() -> None:
        db = Database(database_url)
        try:
            lease = ExchangeLease(db, program="kyrios up", lease_seconds=120, renew_seconds=60)
            assert await lease.try_acquire() is None
        finally:
            await db.dispose()

    asyncio.run(take())


def lease_rows(database_url: str, statement: str = "SELECT COUNT(*) FROM exchange_owner") -> int:
    """Run `statement` on the lease table (a count, or a delete); its count or the rows deleted."""

    async def run() -> int:
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                result = await session.execute(text(statement))
                assert isinstance(result, CursorResult)  # a textual statement's result
                return int(result.scalar_one()) if result.returns_rows else int(result.rowcount)
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_beside_a_running_owner_the_cli_reads_but_never_writes(cli_database: str) -> None:
    assert kyrios("create-asset", "OMNI", "--name", "Omni Corp", "--supply", "1000")[0] == 0
    assert kyrios("create-user", "alice")[0] == 0
    assert kyrios("deposit", "alice", "1000")[0] == 0
    assert lease_rows(cli_database) == 0  # each command gave the lease back
    hold_the_lease(cli_database)
    reads = [kyrios("users"), kyrios("assets"), kyrios("rules"), kyrios("portfolio", "alice")]
    assert all(code == 0 for code, _ in reads)
    for command in (
        ("deposit", "alice", "5"),
        ("withdraw", "alice", "5"),
        ("create-user", "bob"),
        ("create-asset", "NEW", "--name", "New", "--supply", "10"),
        ("halt", "OMNI"),
        ("set-rules", "--burst", "3"),
    ):
        code, out = kyrios(*command)
        said = " ".join(out.split())
        assert code == 1, command
        assert said.startswith(f"The exchange is run by `kyrios up` (pid {os.getpid()} on host "), said
        assert "nothing was changed. Stop that process and try again" in said
    assert [kyrios("users"), kyrios("assets"), kyrios("rules"), kyrios("portfolio", "alice")] == reads
    assert kyrios("check") == (0, "✓ all exchange invariants hold\n")
    assert lease_rows(cli_database, "DELETE FROM exchange_owner") == 1  # the owner stops
    code, out = kyrios("deposit", "alice", "5")
    assert code == 0 and "alice now has 10.05 free" in out


def trade_across_bars(database_url: str) -> None:
    """List ACME, fund a buyer, and trade through a real exchange at moments in three minutes."""

    async def run() -> None:
        db = Database(database_url)
        clock = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
        try:
            async with db.transaction() as session:
                asset = await assets.create_asset(
                    session,
                    symbol="ACME",
                    name="Acme Corp",
                    asset_type=AssetType.STOCK,
                    tick_size_cents=5,
                    supply=1_000,
                    price_cents=10_000,
                    now=clock.now(),
                )
                buyer = await accounts.create_user(session, username="bob", now=clock.now())
                await accounts.deposit(session, buyer.id, 10**8, now=clock.now())
            exchange = Exchange(
                db, InMemoryBus(), clock, ExchangeRules(orders_per_second=1e6, order_burst=10**6)
            )
            await exchange.start()
            try:
                for seconds, price in ((10, 10_000), (50, 10_050), (70, 9_900), (200, 10_100)):
                    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=seconds))
                    for user, side in ((asset.issuer_user_id, Side.SELL), (buyer.id, Side.BUY)):
                        await exchange.submit_order(
                            user, OrderRequest(symbol="ACME", side=side, quantity=2, price_cents=price)
                        )
            finally:
                await exchange.aclose()
        finally:
            await db.dispose()

    asyncio.run(run())


def candle_rows(database_url: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        db = Database(database_url)
        try:
            async with db.read() as session:
                result = await session.execute(
                    text("SELECT * FROM exchange_candles ORDER BY symbol, bar_interval, start_time")
                )
                return [tuple(row) for row in result]
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_rebuild_candles_recomputes_them_from_the_executions(cli_database: str) -> None:
    trade_across_bars(cli_database)
    kept = candle_rows(cli_database)
    assert len(kept) == 3 + 1 + 1 + 1  # three minutes, one bar of 5 minutes, of an hour, of a day
    lease_rows(cli_database, "DELETE FROM exchange_candles WHERE bar_interval = '1m'")
    code, out = kyrios("check")
    assert code == 1 and "ACME 1m candle at 1772366400: stored" in out
    assert kyrios("rebuild-candles", "--symbol", "NOPE") == (1, "There is no symbol NOPE.\n")
    assert kyrios("rebuild-candles", "--symbol", "ACME") == (0, "wrote 6 candles\n")
    assert candle_rows(cli_database) == kept
    assert kyrios("check") == (0, "✓ all exchange invariants hold\n")

    hold_the_lease(cli_database)  # a running exchange's batches would race the rebuild
    code, out = kyrios("rebuild-candles")
    assert code == 1 and "nothing was changed" in " ".join(out.split())
    assert candle_rows(cli_database) == kept
