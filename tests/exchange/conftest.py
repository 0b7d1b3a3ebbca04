"""Exchange fixtures: a listed symbol, funded users and a running `Exchange` on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange import accounts, assets
from kyrios.exchange.models import AssetType
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.service import Exchange
from kyrios.runtime import Runtime

SYMBOL = "ACME"
TICK = 5
PRICE = 10_000
SUPPLY = 10_000


@dataclass
class Market:
    """One symbol, an issuer and two funded players."""

    exchange: Exchange
    issuer_id: int
    alice: int
    bob: int
    carol: int


async def open_market(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules | None, *, cash_cents: int = 10_000_000
) -> Market:
    """List ACME, open alice/bob/carol with `cash_cents` each, start an exchange (rules None: the admin's)."""
    now = clock.now()
    async with runtime.db.transaction() as session:
        asset = await assets.create_asset(
            session,
            symbol=SYMBOL,
            name="Acme Corp",
            asset_type=AssetType.STOCK,
            tick_size_cents=TICK,
            supply=SUPPLY,
            price_cents=PRICE,
            max_quantity=10_000,
            max_notional_cents=10**9,
            now=now,
        )
        ids = []
        for name in ("alice", "bob", "carol"):
            user = await accounts.create_user(session, username=name, now=now)
            await accounts.deposit(session, user.id, cash_cents, now=now)
            ids.append(user.id)
    exchange = Exchange(runtime.db, runtime.bus, clock, rules)
    await exchange.start()
    return Market(exchange, asset.issuer_user_id, *ids)


@pytest.fixture
def rules() -> ExchangeRules:
    """Generous rate limits; a short limit of 100 units."""
    return ExchangeRules(max_short_quantity=100, orders_per_second=1_000_000, order_burst=1_000_000)


@pytest.fixture
async def market(runtime: Runtime, clock: FrozenClock, rules: ExchangeRules) -> AsyncIterator[Market]:
    """A running exchange with ACME listed and three funded players."""
    opened = await open_market(runtime, clock, rules)
    try:
        yield opened
    finally:
        await opened.exchange.aclose()
