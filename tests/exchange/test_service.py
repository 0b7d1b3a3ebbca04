"""Submitting and canceling orders: every bad input is refused with a clear message and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    OnCooldown,
)
from kyrios.exchange import accounts, assets, invariants
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.ids import RowIds
from kyrios.exchange.journal import Batch
from kyrios.exchange.models import (
    AssetStatus,
    ExchangeCash,
    ExchangeCashLedger,
    ExchangeExecution,
    ExchangeOrder,
    ExchangePosition,
    OrderStatus,
)
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, SYMBOL, Market, open_market


def buy(quantity: int, price: int | None = PRICE, **kw: Any) -> OrderRequest:
    """A buy of ACME (market when price is None)."""
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderRequest(
        symbol=kw.pop("symbol", SYMBOL), side=Side.BUY, type=kind, quantity=quantity, price_cents=price, **kw
    )


def sell(quantity: int, price: int | None = PRICE, **kw: Any) -> OrderRequest:
    """A sell of ACME (market when price is None)."""
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderRequest(symbol=SYMBOL, side=Side.SELL, type=kind, quantity=quantity, price_cents=price, **kw)


async def state(db: Database) -> tuple[object, ...]:
    """Everything a refused order must leave untouched (its own REJECTED row aside)."""
    async with db.read() as session:
        orders = await session.scalar(
            select(func.count())
            .select_from(ExchangeOrder)
            .where(ExchangeOrder.status != OrderStatus.REJECTED)
        )
        cash = (
            await session.execute(
                select(ExchangeCash.user_id, ExchangeCash.cash_cents, ExchangeCash.reserved_cents).order_by(
                    ExchangeCash.user_id
                )
            )
        ).all()
        positions = (
            await session.execute(
                select(
                    ExchangePosition.user_id, ExchangePosition.quantity, ExchangePosition.reserved_quantity
                ).order_by(ExchangePosition.user_id)
            )
        ).all()
        ledger = await session.scalar(select(func.count()).select_from(ExchangeCashLedger))
    return orders, tuple(cash), tuple(positions), ledger


async def rejected_rows(db: Database, user_id: int) -> list[tuple[object, ...]]:
    """The user's REJECTED orders: (reject_reason, quantity, filled, canceled, remaining, reserved)."""
    async with db.read() as session:
        rows = await session.execute(
            select(
                ExchangeOrder.reject_reason,
                ExchangeOrder.quantity,
                ExchangeOrder.filled_quantity,
                ExchangeOrder.canceled_quantity,
                ExchangeOrder.remaining_quantity,
                ExchangeOrder.reserved_cents,
            )
            .where(ExchangeOrder.user_id == user_id, ExchangeOrder.status == OrderStatus.REJECTED)
            .order_by(ExchangeOrder.id)
        )
        return [tuple(row) for row in rows]


async def refused(
    market: Market,
    db: Database,
    user_id: int,
    request: OrderRequest,
    kind: type[DomainError],
    text: str,
    reason: str | None = None,
) -> None:
    """Submit `request`, expect `kind` with `text` in its message, and no change but its REJECTED
    row with `reason` (no row at all when `reason` is None)."""
    before = await state(db)
    rows_before = await rejected_rows(db, user_id)
    with pytest.raises(kind) as caught:
        await market.exchange.submit_order(user_id, request)
    assert text in caught.value.message
    await market.exchange.flush()
    assert await state(db) == before
    added = (await rejected_rows(db, user_id))[len(rows_before) :]
    q = request.quantity
    assert added == ([] if reason is None else [(reason, q, 0, q, 0, 0)])
    async with db.read() as session:
        assert await invariants.check(session) == []


@pytest.mark.parametrize(
    ("quantity", "text"),
    [
        (0, "quantity must be a positive whole number, got 0"),
        (-5, "got -5"),
        (10_001, "above the maximum of 10,000"),
    ],
)
async def test_bad_quantities_are_refused(market: Market, runtime: Runtime, quantity: int, text: str) -> None:
    reason = "invalid_quantity" if quantity <= 0 else "quantity_too_large"
    await refused(market, runtime.db, market.alice, buy(quantity), InvalidInput, text, reason)


async def test_price_off_the_tick_is_refused(market: Market, runtime: Runtime) -> None:
    await refused(
        market,
        runtime.db,
        market.alice,
        buy(1, 10_003),
        InvalidInput,
        "not a multiple of the tick size 0.05",
        "price_off_tick",
    )


async def test_limit_without_price_and_market_with_price_are_refused(
    market: Market, runtime: Runtime
) -> None:
    no_price = OrderRequest(symbol=SYMBOL, side=Side.BUY, quantity=1)
    await refused(
        market,
        runtime.db,
        market.alice,
        no_price,
        InvalidInput,
        "a limit order needs a price",
        "invalid_price",
    )
    priced = OrderRequest(symbol=SYMBOL, side=Side.BUY, type=OrderType.MARKET, quantity=1, price_cents=PRICE)
    await refused(
        market,
        runtime.db,
        market.alice,
        priced,
        InvalidInput,
        "A market order takes no price",
        "price_not_allowed",
    )


async def test_order_value_above_the_limit_is_refused(market: Market, runtime: Runtime) -> None:
    await refused(
        market,
        runtime.db,
        market.alice,
        buy(10_000, 500_000),
        InvalidInput,
        "above the maximum of 10,000,000.00 per order",
        "order_value_too_large",
    )


async def test_unknown_symbol_is_refused(market: Market, runtime: Runtime) -> None:
    await refused(
        market, runtime.db, market.alice, buy(1, symbol="NOPE"), NotFound, "There is no symbol NOPE."
    )


async def test_halted_symbol_is_refused_and_resume_reopens_it(market: Market, runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        await assets.set_status(session, SYMBOL, AssetStatus.HALTED)
    await refused(
        market, runtime.db, market.alice, buy(1), Conflict, "Trading in ACME is halted", "book_halted"
    )
    async with runtime.db.transaction() as session:
        await assets.set_status(session, SYMBOL, AssetStatus.TRADING)
    assert (await market.exchange.submit_order(market.alice, buy(1))).status == "OPEN"


async def test_insufficient_cash_is_refused(market: Market, runtime: Runtime) -> None:
    await refused(
        market,
        runtime.db,
        market.alice,
        buy(1_001, PRICE),
        InsufficientFunds,
        "needs 100,100.00 but you have 100,000.00 available",
        "insufficient_cash",
    )


async def test_short_beyond_the_margin_limit_is_refused(market: Market, runtime: Runtime) -> None:
    await market.exchange.submit_order(market.alice, sell(60, PRICE + 500))
    await refused(
        market,
        runtime.db,
        market.alice,
        sell(41, PRICE + 500),
        InsufficientFunds,
        "above the short limit of 100",
        "short_limit_exceeded",
    )
    await market.exchange.submit_order(market.alice, sell(40, PRICE + 500))  # exactly at the limit


async def test_duplicate_client_order_id_returns_the_original(market: Market, runtime: Runtime) -> None:
    first = await market.exchange.submit_order(market.alice, buy(3, client_order_id="abc"))
    before = await state(runtime.db)
    again = await market.exchange.submit_order(market.alice, buy(7, PRICE - 5, client_order_id="abc"))
    assert again.duplicate and again.id == first.id and again.quantity == 3
    await market.exchange.flush()
    assert await state(runtime.db) == before
    # concurrent repeats in one batch also make one order
    views = await asyncio.gather(
        *(market.exchange.submit_order(market.bob, buy(2, client_order_id="same")) for _ in range(5))
    )
    assert len({v.id for v in views}) == 1
    assert sum(not v.duplicate for v in views) == 1
    async with runtime.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(ExchangeOrder).where(ExchangeOrder.user_id == market.bob)
        )
    assert count == 1


async def test_cancel_of_another_users_order_is_forbidden(market: Market, runtime: Runtime) -> None:
    order = await market.exchange.submit_order(market.alice, buy(2, client_order_id="mine"))
    await market.exchange.flush()
    before = await state(runtime.db)
    with pytest.raises(Forbidden) as caught:
        await market.exchange.cancel_order(market.bob, order_id=order.id)
    assert caught.value.message == f"You cannot cancel order {order.id}: it belongs to another user."
    with pytest.raises(NotFound, match="There is no order with client order id 'mine'"):
        await market.exchange.cancel_order(market.bob, client_order_id="mine")
    assert await state(runtime.db) == before


async def test_cancel_of_a_filled_order_is_a_conflict(market: Market, runtime: Runtime) -> None:
    ask = await market.exchange.submit_order(market.issuer_id, sell(5))
    await market.exchange.submit_order(market.alice, buy(5))
    await market.exchange.flush()
    before = await state(runtime.db)
    with pytest.raises(Conflict) as caught:
        await market.exchange.cancel_order(market.issuer_id, order_id=ask.id)
    assert caught.value.message == f"You cannot cancel order {ask.id}: it is already filled."
    assert await state(runtime.db) == before
    with pytest.raises(NotFound, match="There is no order 999999"):
        await market.exchange.cancel_order(market.alice, order_id=999_999)


async def test_cancel_by_client_order_id_releases_the_reservation(market: Market, runtime: Runtime) -> None:
    await market.exchange.submit_order(market.alice, buy(10, PRICE - 100, client_order_id="bid-1"))
    await market.exchange.flush()
    async with runtime.db.read() as session:
        assert (await accounts.portfolio(session, market.alice)).reserved_cents == 10 * (PRICE - 100)
    canceled = await market.exchange.cancel_order(market.alice, client_order_id="bid-1")
    assert canceled.status == "CANCELED"
    async with runtime.db.read() as session:
        view = await accounts.portfolio(session, market.alice)
        assert (view.cash_cents, view.reserved_cents) == (10_000_000, 0)
    with pytest.raises(Conflict, match="already canceled"):
        await market.exchange.cancel_order(market.alice, client_order_id="bid-1")


async def test_rate_limit_refuses_then_recovers(runtime: Runtime, clock: FrozenClock) -> None:
    market = await open_market(runtime, clock, ExchangeRules(orders_per_second=2, order_burst=3))
    try:
        for _ in range(3):
            await market.exchange.submit_order(market.alice, buy(1, PRICE - 100))
        await refused(
            market,
            runtime.db,
            market.alice,
            buy(1, PRICE - 100),
            OnCooldown,
            "Too many orders: at most 2 per second",
        )
        await market.exchange.submit_order(market.bob, buy(1, PRICE - 100))  # other users are unaffected
        clock.advance(timedelta(seconds=0.5))
        await market.exchange.submit_order(market.alice, buy(1, PRICE - 100))
    finally:
        await market.exchange.aclose()


async def test_a_trade_settles_cash_positions_and_releases_unused_reservation(
    market: Market, runtime: Runtime
) -> None:
    await market.exchange.submit_order(market.issuer_id, sell(10, PRICE))
    bid = await market.exchange.submit_order(market.alice, buy(4, PRICE + 200))  # fills at the maker's price
    market_buy = await market.exchange.submit_order(market.bob, buy(3, None))
    await market.exchange.flush()
    async with runtime.db.read() as session:
        alice = await accounts.portfolio(session, market.alice)
        bob = await accounts.portfolio(session, market.bob)
        issuer = await accounts.portfolio(session, market.issuer_id)
        filled = [await session.get(ExchangeOrder, i) for i in (bid.id, market_buy.id)]
        assert await invariants.check(session) == []
    assert (alice.cash_cents, alice.reserved_cents) == (10_000_000 - 4 * PRICE, 0)
    assert (bob.cash_cents, bob.reserved_cents) == (10_000_000 - 3 * PRICE, 0)
    assert [(p.symbol, p.quantity, p.average_price_cents) for p in alice.positions] == [(SYMBOL, 4, PRICE)]
    assert issuer.positions[0].quantity == 10_000 - 7 and issuer.cash_cents == 7 * PRICE
    assert [o.status for o in filled if o] == ["FILLED", "FILLED"]


async def test_market_buy_without_liquidity_is_canceled_and_refunded(
    market: Market, runtime: Runtime
) -> None:
    order = await market.exchange.submit_order(market.alice, buy(5, None))
    assert order.price_cents == 10_500  # the 5 % collar above the last price
    await market.exchange.flush()
    async with runtime.db.read() as session:
        row = await session.get(ExchangeOrder, order.id)
        view = await accounts.portfolio(session, market.alice)
    assert row is not None and (row.status, row.canceled_quantity) == ("CANCELED", 5)
    assert (view.cash_cents, view.reserved_cents) == (10_000_000, 0)


async def test_concurrent_submits_never_overspend(market: Market, runtime: Runtime) -> None:
    # alice can afford exactly 100 units at PRICE; 300 concurrent one-unit bids race for them
    async with runtime.db.transaction() as session:
        await accounts.withdraw(session, market.alice, 10_000_000 - 100 * PRICE, now=runtime.clock.now())
    results = await asyncio.gather(
        *(market.exchange.submit_order(market.alice, buy(1, PRICE)) for _ in range(300)),
        return_exceptions=True,
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    assert len(accepted) == 100
    assert all(isinstance(r, InsufficientFunds) for r in results if isinstance(r, BaseException))
    await market.exchange.submit_order(market.issuer_id, sell(150, PRICE))
    await market.exchange.flush()
    async with runtime.db.read() as session:
        view = await accounts.portfolio(session, market.alice)
        assert await invariants.check(session) == []
    assert (view.cash_cents, view.reserved_cents, view.positions[0].quantity) == (0, 0, 100)


async def test_committed_batches_are_published_on_the_bus(market: Market, runtime: Runtime) -> None:
    with runtime.bus.subscribe(f"trades:{SYMBOL}", f"book:{SYMBOL}", f"orders:{market.alice}") as feed:
        await market.exchange.submit_order(market.issuer_id, sell(5, PRICE + 5))
        bid = await market.exchange.submit_order(market.alice, buy(2, PRICE + 5))
        await market.exchange.flush()
        messages = [feed.queue.get_nowait() for _ in range(feed.queue.qsize())]
    trades = [m for channel, m in messages if channel == f"trades:{SYMBOL}"]
    assert [(t["price_cents"], t["quantity"], t["taker_side"]) for t in trades] == [(PRICE + 5, 2, "buy")]
    depth = [(m["side"], m["price_cents"], m["quantity"]) for c, m in messages if c == f"book:{SYMBOL}"]
    assert depth == [("sell", PRICE + 5, 5), ("sell", PRICE + 5, 3)]
    seqs = [m["seq"] for c, m in messages if c != f"orders:{market.alice}"]
    assert seqs == sorted(seqs)
    mine = [m for c, m in messages if c == f"orders:{market.alice}"]
    assert mine[-1]["id"] == bid.id and mine[-1]["status"] == "FILLED"


async def test_a_failed_batch_rebuilds_the_book_from_the_database(
    market: Market, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await market.exchange.submit_order(market.issuer_id, sell(5))
    await market.exchange.flush()
    before = await state(runtime.db)
    persist = Batch.persist
    calls = 0

    async def fail_once(self: Batch, session: AsyncSession, engine_seq: int, ids: RowIds) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the disk is full")
        await persist(self, session, engine_seq, ids)

    monkeypatch.setattr(Batch, "persist", fail_once)
    # The book matched the bid before the write failed: the bid is refused and nothing of it stays,
    # in the database or in the book.
    with pytest.raises(RuntimeError, match="the disk is full"):
        await market.exchange.submit_order(market.alice, buy(2))
    assert await state(runtime.db) == before
    assert (await market.exchange.depth(SYMBOL)).asks == [(PRICE, 5)]
    bid = await market.exchange.submit_order(market.alice, buy(2))  # acknowledged: its row is committed
    assert (bid.status, bid.filled_quantity) == ("FILLED", 2)  # as the book left it
    await market.exchange.flush()
    assert calls >= 2
    async with runtime.db.read() as session:
        row = await session.get(ExchangeOrder, bid.id)
        assert await invariants.check(session) == []
    assert row is not None and row.status == "FILLED"
    assert (await market.exchange.depth(SYMBOL)).asks == [(PRICE, 3)]


async def test_a_retried_batch_runs_the_book_again_from_the_database(
    market: Market, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await market.exchange.submit_order(market.issuer_id, sell(5))
    await market.exchange.flush()
    persist = Batch.persist
    calls = 0

    async def collide_once(self: Batch, session: AsyncSession, engine_seq: int, ids: RowIds) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # as if another symbol's batch took the same client order id meanwhile
            raise IntegrityError("INSERT INTO exchange_order …", {}, Exception("UNIQUE constraint failed"))
        await persist(self, session, engine_seq, ids)

    monkeypatch.setattr(Batch, "persist", collide_once)
    # The first attempt matched the bid in the book before it failed; the retry starts from the
    # database again, so the bid trades once.
    bid = await market.exchange.submit_order(market.alice, buy(2))
    await market.exchange.flush()
    assert calls == 2  # the failed attempt and its retry
    assert (bid.status, bid.filled_quantity) == ("FILLED", 2)
    async with runtime.db.read() as session:
        assert await invariants.check(session) == []
        trades = await session.scalar(select(func.count()).select_from(ExchangeExecution))
        alice = await accounts.portfolio(session, market.alice)
    assert trades == 1
    assert (alice.cash_cents, alice.positions[0].quantity) == (10_000_000 - 2 * PRICE, 2)
    assert (await market.exchange.depth(SYMBOL)).asks == [(PRICE, 3)]


async def test_a_retried_rejected_client_order_id_returns_the_rejected_original(
    market: Market, runtime: Runtime
) -> None:
    too_dear = buy(1_001, PRICE, client_order_id="dear")
    with pytest.raises(InsufficientFunds):
        await market.exchange.submit_order(market.alice, too_dear)
    again = await market.exchange.submit_order(market.alice, too_dear)
    assert (again.status, again.reject_reason, again.duplicate) == ("REJECTED", "insufficient_cash", True)
    # repeats in one batch: one row, the first refused, the others its duplicates
    answers = await asyncio.gather(
        *(market.exchange.submit_order(market.bob, buy(0, client_order_id="zero")) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(a, InvalidInput) for a in answers) == 1
    duplicates = [a for a in answers if not isinstance(a, BaseException)]
    assert len(duplicates) == 3 and all(d.duplicate and d.status == "REJECTED" for d in duplicates)
    assert [row[0] for row in await rejected_rows(runtime.db, market.bob)] == ["invalid_quantity"]
    async with runtime.db.read() as session:
        assert await invariants.check(session) == []
