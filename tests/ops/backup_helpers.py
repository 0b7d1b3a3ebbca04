"""Populate a database with every kind of row a backup must carry, and read every table back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kyrios.core.clock import FrozenClock
from kyrios.exchange.engine import Side
from kyrios.exchange.schemas import OrderRequest
from kyrios.features.modlog import flows as modlog
from kyrios.features.modlog.events import MemberEvent, UserInfo
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, SYMBOL, open_market
from tests.helpers import invoke

FILLED_TABLES = (
    "economy_account",
    "economy_ledger",
    "gacha_pull",
    "modlog_entry",
    "exchange_order",
    "exchange_execution",
    "exchange_cash_ledger",
)


async def populate(runtime: Runtime, clock: FrozenClock) -> None:
    """Points, pulls, a moderation case, orders and a trade, through the features' own code."""
    assert not (await invoke(runtime, "give", admin=True, user="42", amount=5_000)).is_error
    assert not (await invoke(runtime, "gacha pull", count=3)).is_error
    assert not (await invoke(runtime, "settings set", admin=True, log_channel="500")).is_error
    async with runtime.db.transaction() as session:
        joined = MemberEvent(1, UserInfo(77, "alice"), clock.now(), account_created_at=clock.now())
        assert await modlog.member_joined(session, joined) is not None
    market = await open_market(runtime, clock, None)
    try:
        sell = OrderRequest(symbol=SYMBOL, side=Side.SELL, quantity=5, price_cents=PRICE)
        buy = OrderRequest(symbol=SYMBOL, side=Side.BUY, quantity=3, price_cents=PRICE)
        await market.exchange.submit_order(market.issuer_id, sell)
        await market.exchange.submit_order(market.alice, buy)  # a trade, and a sell left resting
    finally:
        await market.exchange.aclose()


async def snapshot(url: URL) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, by table name."""

    def read(sync: Connection) -> dict[str, list[tuple[Any, ...]]]:
        quote = sync.dialect.identifier_preparer.quote
        tables = {}
        for name in inspect(sync).get_table_names():
            rows = sync.execute(text(f"SELECT * FROM {quote(name)}")).all()  # noqa: S608
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
        return tables

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()
