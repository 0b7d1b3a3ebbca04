"""Cash-backed shorts: the initial margin, marking to market, the maintenance restriction, liquidation.

ACME trades at 100.00. Alice has 160.00: a short of 1 holds 150.00 of it as margin; a short of 2
needs 300.00 and is refused. When the price reaches 120.00 her equity (260.00 − 120.00) is below
125 % of the short's value (150.00): she may only reduce her risk, or the exchange buys her out.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import Conflict, InsufficientFunds
from kyrios.exchange import accounts, invariants
from kyrios.exchange.models import CashReason, ExchangeCash, ExchangeCashLedger, ExchangePosition, OrderStatus
from kyrios.exchange.rules import ExchangeRules
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, SYMBOL, Market, open_market
from tests.exchange.test_service import buy, refused, sell

ALICE_CASH = 16_000
HIGH = 12_000
BELOW = "below_maintenance_margin"  # the REJECTED rows' reason


async def alice_with(runtime: Runtime, clock: FrozenClock, rules: ExchangeRules) -> Market:
    """The market with alice's cash cut down to ALICE_CASH."""
    market = await open_market(runtime, clock, rules)
    async with runtime.db.transaction() as session:
        await accounts.withdraw(session, market.alice, 10_000_000 - ALICE_CASH, now=clock.now())
    return market


async def cash_of(runtime: Runtime, user_id: int) -> tuple[int, int, bool]:
    """(free, reserved, restricted) of a user's cash row."""
    async with runtime.db.read() as session:
        row = (
            await session.execute(
                select(
                    ExchangeCash.cash_cents, ExchangeCash.reserved_cents, ExchangeCash.margin_restricted
                ).where(ExchangeCash.user_id == user_id)
            )
        ).one()
    return int(row[0]), int(row[1]), bool(row[2])


async def margin_held(runtime: Runtime, user_id: int) -> int:
    """The margin alice's ACME position holds."""
    async with runtime.db.read() as session:
        held = await session.scalar(
            select(ExchangePosition.margin_cents).where(
                ExchangePosition.user_id == user_id, ExchangePosition.symbol == SYMBOL
            )
        )
    return int(held or 0)


async def assert_sound(runtime: Runtime) -> None:
    """Every exchange invariant holds."""
    async with runtime.db.read() as session:
        assert await invariants.check(session) == []


async def short_one_then_mark_up(market: Market) -> None:
    """Alice shorts 1 at 100.00 to carol; bob sells 2 at 120.00 and carol takes 1 of them."""
    exchange = market.exchange
    await exchange.submit_order(market.alice, sell(1, PRICE))
    await exchange.submit_order(market.carol, buy(1, PRICE))
    await exchange.submit_order(market.bob, sell(2, HIGH))
    await exchange.submit_order(market.carol, buy(1, HIGH))
    await exchange.flush()


async def test_a_short_needs_free_cash_of_its_initial_margin(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules
) -> None:
    market = await alice_with(runtime, clock, rules)
    try:
        await refused(
            market,
            runtime.db,
            market.alice,
            sell(2, PRICE),
            InsufficientFunds,
            "could open a short of 2, which needs 300.00 of free cash as initial margin, "
            "but you have 160.00 free",
            "insufficient_margin",
        )
        order = await market.exchange.submit_order(market.alice, sell(1, PRICE))
        await market.exchange.flush()
        assert await cash_of(runtime, market.alice) == (1_000, 15_000, False)  # 150 % of 100.00 held
        await market.exchange.submit_order(market.carol, buy(1, PRICE))
        await market.exchange.flush()
        # the proceeds are free; the margin moved from the order to the short position
        assert await cash_of(runtime, market.alice) == (11_000, 15_000, False)
        assert await margin_held(runtime, market.alice) == 15_000
        assert order.status is OrderStatus.OPEN
        await assert_sound(runtime)
        # covering at 100.00 gives the whole margin back
        await market.exchange.submit_order(market.bob, sell(1, PRICE))
        await market.exchange.submit_order(market.alice, buy(1, PRICE))
        await market.exchange.flush()
        assert await cash_of(runtime, market.alice) == (ALICE_CASH, 0, False)
        assert await margin_held(runtime, market.alice) == 0
        await assert_sound(runtime)
    finally:
        await market.exchange.aclose()


async def test_a_canceled_short_sell_releases_its_margin(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules
) -> None:
    market = await alice_with(runtime, clock, rules)
    try:
        order = await market.exchange.submit_order(market.alice, sell(1, PRICE + 500))
        await market.exchange.cancel_order(market.alice, order_id=order.id)
        assert await cash_of(runtime, market.alice) == (ALICE_CASH, 0, False)
        await assert_sound(runtime)
    finally:
        await market.exchange.aclose()


async def test_below_maintenance_only_risk_reducing_orders_pass(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules
) -> None:
    market = await alice_with(runtime, clock, rules)
    alerts = runtime.bus.subscribe(f"orders:{market.alice}")
    try:
        await short_one_then_mark_up(market)
        assert await cash_of(runtime, market.alice) == (11_000, 15_000, True)
        sent = [alerts.queue.get_nowait()[1] for _ in range(alerts.queue.qsize())]
        warning = [m for m in sent if m["type"] == "margin"]
        assert warning == [
            {
                "type": "margin",
                "symbol": SYMBOL,
                "status": "restricted",
                "equity_cents": 14_000,
                "short_value_cents": 12_000,
                "requirement_cents": 18_000,
                "maintenance_cents": 15_000,
            }
        ]
        async with runtime.db.read() as session:
            portfolio = await accounts.portfolio(session, market.alice, rules)
        assert portfolio.margin.model_dump() == {
            "equity_cents": 14_000,
            "short_value_cents": 12_000,
            "requirement_cents": 18_000,
            "maintenance_cents": 15_000,
            "held_cents": 15_000,
            "status": "restricted",
        }
        assert portfolio.positions[0].margin_cents == 15_000
        below = "below its maintenance margin: only orders that reduce risk are accepted"
        await refused(market, runtime.db, market.alice, sell(1, HIGH), Conflict, below, BELOW)
        # a buy of 2 would take the short of 1 long: not risk-reducing
        await refused(market, runtime.db, market.alice, buy(2, HIGH), Conflict, below, BELOW)
        # a market buy that covers may pay from the short's margin (free cash alone is 110.00)
        covered = await market.exchange.submit_order(market.alice, buy(1, None))
        await market.exchange.flush()
        assert covered.status is OrderStatus.FILLED
        assert await cash_of(runtime, market.alice) == (14_000, 0, False)  # 260.00 − 120.00, cured
        assert await margin_held(runtime, market.alice) == 0
        cured = [alerts.queue.get_nowait()[1] for _ in range(alerts.queue.qsize())]
        assert [m["status"] for m in cured if m["type"] == "margin"] == ["ok"]
        await assert_sound(runtime)
    finally:
        alerts.close()
        await market.exchange.aclose()


@pytest.fixture
def liquidating() -> ExchangeRules:
    """The default margins, with liquidation on."""
    return ExchangeRules(
        max_short_quantity=100, orders_per_second=1_000_000, order_burst=1_000_000, liquidation_enabled=True
    )


async def test_liquidation_buys_the_short_back_at_market_with_explaining_ledger_rows(
    runtime: Runtime, clock: FrozenClock, liquidating: ExchangeRules
) -> None:
    market = await alice_with(runtime, clock, liquidating)
    try:
        await short_one_then_mark_up(market)
        await market.exchange.flush()
        async with runtime.db.read() as session:
            position = await session.get(ExchangePosition, (market.alice, SYMBOL))
            rows = (
                await session.scalars(
                    select(ExchangeCashLedger)
                    .where(ExchangeCashLedger.user_id == market.alice)
                    .order_by(ExchangeCashLedger.id)
                )
            ).all()
        assert position is not None and position.quantity == 0 and position.margin_cents == 0
        assert [(r.reason, r.delta_cents) for r in rows] == [
            (CashReason.DEPOSIT, 10_000_000),
            (CashReason.WITHDRAWAL, -(10_000_000 - ALICE_CASH)),
            (CashReason.SELL, PRICE),
            (CashReason.LIQUIDATION, -HIGH),
        ]
        assert rows[-1].detail == (
            "ACME 1 @ 12000 liquidation, below maintenance margin: equity 14000 < maintenance 15000 cents"
        )
        bought = [o for o in await runtime.exchange.orders(market.alice) if o.side == "buy"]
        assert len(bought) == 1 and (bought[0].client_order_id or "").startswith("liquidation-")
        # bought back at 120.00 what sold at 100.00: 160.00 − 20.00 is left, all free, no longer restricted
        assert await cash_of(runtime, market.alice) == (ALICE_CASH - (HIGH - PRICE), 0, False)
        await assert_sound(runtime)
    finally:
        await market.exchange.aclose()


async def test_a_buy_back_that_finds_no_seller_is_not_sent_again_until_the_market_moves(
    runtime: Runtime, clock: FrozenClock, liquidating: ExchangeRules
) -> None:
    market = await alice_with(runtime, clock, liquidating)
    try:
        exchange = market.exchange
        await exchange.submit_order(market.alice, sell(1, PRICE))
        await exchange.submit_order(market.carol, buy(1, PRICE))
        await exchange.submit_order(market.bob, sell(1, HIGH))
        await exchange.submit_order(market.carol, buy(1, HIGH))  # marks 120.00 and leaves no seller
        for _ in range(3):
            await exchange.flush()
        buy_backs = [o for o in await runtime.exchange.orders(market.alice) if o.side == "buy"]
        assert [(o.status, o.filled_quantity) for o in buy_backs] == [(OrderStatus.CANCELED, 0)]
        assert await cash_of(runtime, market.alice) == (11_000, 15_000, True)  # still short, restricted
        await assert_sound(runtime)
    finally:
        await market.exchange.aclose()
