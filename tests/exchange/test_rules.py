"""The admin's risk and pacing rules: stored once, checked, and applied by a running exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.core.errors import InsufficientFunds, InvalidInput, OnCooldown
from kyrios.exchange.rules import ExchangeRules, change_rules, stored_rules
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, Market, open_market
from tests.exchange.test_service import refused, sell


@pytest.fixture
async def followed(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[Market]:
    """A running exchange that follows the rules stored in the database."""
    opened = await open_market(runtime, clock, None)
    try:
        yield opened
    finally:
        await opened.exchange.aclose()


async def set_elsewhere(database_url: str, clock: FrozenClock, **changes: object) -> ExchangeRules:
    """Change the rules from another connection pool, as `kyrios exchange set-rules` would."""
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            return await change_rules(session, clock.now(), **changes)
    finally:
        await db.dispose()


async def test_a_new_margin_limit_applies_to_the_next_orders(
    followed: Market, runtime: Runtime, clock: FrozenClock, database_url: str
) -> None:
    assert followed.exchange.rules == ExchangeRules()  # nothing stored yet: the defaults
    await set_elsewhere(database_url, clock, max_short_quantity=50)
    await refused(
        followed,
        runtime.db,
        followed.alice,
        sell(60, PRICE + 500),
        InsufficientFunds,
        "short limit of 50",
        "short_limit_exceeded",
    )
    await set_elsewhere(database_url, clock, max_short_quantity=100)
    await followed.exchange.submit_order(followed.alice, sell(60, PRICE + 500))
    assert followed.exchange.rules.max_short_quantity == 100


async def test_a_smaller_burst_applies_to_the_next_orders(
    followed: Market, runtime: Runtime, clock: FrozenClock, database_url: str
) -> None:
    await set_elsewhere(database_url, clock, order_burst=2, orders_per_second=1)
    # The first order still passes the old bucket; its batch reads the new rules, and from then
    # on the user holds at most 2 tokens (the clock is frozen, so none come back).
    for _ in range(3):
        await followed.exchange.submit_order(followed.alice, sell(1, PRICE + 500))
    await refused(
        followed, runtime.db, followed.alice, sell(1, PRICE + 500), OnCooldown, "at most 1 per second"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"market_collar_bps": 0}, "market_collar_bps (basis points a market order may trade away"),
        ({"max_short_quantity": -1}, "must be between 0 and 1e+09, not -1"),
        ({"orders_per_second": float("nan")}, "orders_per_second must be a number"),
        ({"order_burst": None}, "Name at least one rule to change"),
        ({"leverage": 3}, "There is no rule 'leverage'"),
        ({"initial_margin_bps": 9_999}, "initial_margin_bps (basis points of a short's notional"),
        ({"liquidation_enabled": 2}, "liquidation_enabled must be 0 (off) or 1 (on), not 2"),
        (
            {"initial_margin_bps": 12_000, "maintenance_margin_bps": 13_000},
            "The maintenance margin (13000 bps) cannot be above the initial margin (12000 bps).",
        ),
        ({"maintenance_margin_bps": 15_001}, "cannot be above the initial margin (15000 bps)"),
    ],
)
async def test_bad_rules_are_refused_and_change_nothing(
    runtime: Runtime, clock: FrozenClock, changes: dict[str, object], message: str
) -> None:
    async with runtime.db.transaction() as session:
        await change_rules(session, clock.now(), max_short_quantity=7)
    with pytest.raises(InvalidInput) as caught:
        async with runtime.db.transaction() as session:
            await change_rules(session, clock.now(), **changes)
    assert message in caught.value.message
    async with runtime.db.read() as session:
        assert await stored_rules(session) == ExchangeRules(max_short_quantity=7)


async def test_the_margin_rules_are_stored_and_read_back(runtime: Runtime, clock: FrozenClock) -> None:
    async with runtime.db.transaction() as session:
        rules = await change_rules(
            session,
            clock.now(),
            initial_margin_bps=20_000,
            maintenance_margin_bps=14_000,
            liquidation_enabled=True,
        )
    assert (rules.initial_margin_bps, rules.maintenance_margin_bps, rules.liquidation_enabled) == (
        20_000,
        14_000,
        True,
    )
    async with runtime.db.transaction() as session:
        await change_rules(session, clock.now(), liquidation_enabled=False)
    async with runtime.db.read() as session:
        assert await stored_rules(session) == ExchangeRules(
            initial_margin_bps=20_000, maintenance_margin_bps=14_000, liquidation_enabled=False
        )
