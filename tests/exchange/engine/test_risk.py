"""Pre-trade risk arithmetic: exact integer results, refusals with their codes and numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyrios.exchange.engine import RejectCode, Side
from kyrios.exchange.engine.risk import (
    RiskProblem,
    cash_problem,
    limit_buy_cash_cents,
    market_buy_cash_cents,
    market_collar_price_cents,
    notional_problem,
    short_margin_cents,
    short_position_problem,
)


def test_limit_buy_reserves_price_times_quantity() -> None:
    assert limit_buy_cash_cents(10_050, 7) == 70_350


def test_market_collar_rounds_inwards_to_the_tick() -> None:
    # 10_000 + 2.5 % = 10_250 -> 10_250 on a 10-cent tick; 10_001 + 2.5 % = 10_251.025 -> 10_250
    assert market_collar_price_cents(10_000, Side.BUY, 250, 10) == 10_250
    assert market_collar_price_cents(10_001, Side.BUY, 250, 10) == 10_250
    # 10_001 - 2.5 % = 9_750.975 -> 9_760 (never below the collar)
    assert market_collar_price_cents(10_001, Side.SELL, 250, 10) == 9_760
    assert market_collar_price_cents(100, Side.SELL, 20_000, 10) == 10  # at least one tick
    assert market_buy_cash_cents(10_000, 3, 250, 10) == 30_750


def test_market_collar_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        market_collar_price_cents(0, Side.BUY, 100, 1)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**9), st.integers(0, 5_000), st.integers(1, 1_000), st.sampled_from(Side))
def test_market_collar_is_on_the_tick_and_within_bounds(last: int, bps: int, tick: int, side: Side) -> None:
    collar = market_collar_price_cents(last, side, bps, tick)
    assert collar % tick == 0 and collar >= tick
    if side is Side.BUY:
        assert collar * 10_000 <= last * (10_000 + bps) or collar == tick
    else:
        assert collar * 10_000 >= last * (10_000 - bps)


def test_short_margin_rounds_up() -> None:
    assert short_margin_cents(3, 333, 5_000) == 500  # 499.5 -> 500
    assert short_margin_cents(-3, 333, 5_000) == 0


def test_short_position_problem() -> None:
    assert short_position_problem(10, 0, Side.SELL, 10, max_short_quantity=0) is None
    assert short_position_problem(10, 4, Side.SELL, 10, max_short_quantity=0) == RiskProblem(
        RejectCode.SHORT_SELLING_NOT_ALLOWED, {"available": 6}
    )
    assert short_position_problem(0, 0, Side.SELL, 50, max_short_quantity=50) is None
    assert short_position_problem(-20, 0, Side.SELL, 40, max_short_quantity=50) == RiskProblem(
        RejectCode.SHORT_LIMIT_EXCEEDED, {"short": 60, "max_short": 50}
    )
    assert short_position_problem(-100, 0, Side.BUY, 1_000, max_short_quantity=0) is None


def test_notional_and_cash_problems() -> None:
    assert notional_problem(10_000, 100, 1_000_000) is None
    assert notional_problem(10_000, 101, 1_000_000) == RiskProblem(
        RejectCode.ORDER_VALUE_TOO_LARGE, {"value_cents": 1_010_000, "max_value_cents": 1_000_000}
    )
    assert cash_problem(500, 500) is None
    assert cash_problem(501, 500) == RiskProblem(
        RejectCode.INSUFFICIENT_CASH, {"needed_cents": 501, "available_cents": 500}
    )
