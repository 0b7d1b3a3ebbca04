"""Position arithmetic: increasing, reducing and flipping, long and short, in integer cents."""

from __future__ import annotations

import pytest

from kyrios.exchange.engine import Side
from kyrios.exchange.settlement import PositionState, apply_fill, average_price_cents, unrealized_pnl_cents

BUY, SELL = Side.BUY, Side.SELL


def fills(*steps: tuple[Side, int, int]) -> PositionState:
    """The position after a sequence of (side, quantity, price) fills from flat."""
    position = PositionState()
    for side, quantity, price in steps:
        position = apply_fill(position, side, quantity, price)
    return position


def test_increasing_a_long_averages_the_price() -> None:
    p = fills((BUY, 10, 100), (BUY, 30, 200))
    assert (p.quantity, p.cost_basis_cents, p.average_price_cents, p.realized_pnl_cents) == (40, 7000, 175, 0)


def test_reducing_a_long_realises_against_the_average() -> None:
    p = fills((BUY, 10, 100), (BUY, 30, 200), (SELL, 20, 250))
    assert (p.quantity, p.average_price_cents, p.realized_pnl_cents) == (20, 175, 20 * (250 - 175))


def test_closing_a_long_exactly_leaves_no_cost() -> None:
    p = fills((BUY, 3, 100), (BUY, 3, 101), (SELL, 6, 90))
    assert (p.quantity, p.cost_basis_cents, p.realized_pnl_cents) == (0, 0, 6 * 90 - 603)


def test_a_long_flips_to_a_short_at_the_fill_price() -> None:
    p = fills((BUY, 10, 100), (SELL, 25, 120))
    assert (p.quantity, p.average_price_cents, p.realized_pnl_cents) == (-15, 120, 10 * 20)


def test_increasing_a_short_averages_the_entry() -> None:
    p = fills((SELL, 10, 100), (SELL, 10, 90))
    assert (p.quantity, p.average_price_cents, p.cost_basis_cents) == (-20, 95, 1900)


def test_covering_a_short_below_the_entry_is_a_gain() -> None:
    p = fills((SELL, 10, 100), (BUY, 4, 80))
    assert (p.quantity, p.average_price_cents, p.realized_pnl_cents) == (-6, 100, 4 * 20)


def test_a_short_flips_to_a_long() -> None:
    p = fills((SELL, 10, 100), (BUY, 15, 110))
    assert (p.quantity, p.average_price_cents, p.realized_pnl_cents) == (5, 110, -10 * 10)


def test_rounding_never_leaks_cents_over_a_round_trip() -> None:
    # cost 100 over 3 units: partial closes round down, the last unit takes the remainder
    p = fills((BUY, 1, 33), (BUY, 1, 33), (BUY, 1, 34))
    assert p.average_price_cents == 33
    for _ in range(3):
        p = apply_fill(p, SELL, 1, 50)
    assert (p.quantity, p.cost_basis_cents, p.realized_pnl_cents) == (0, 0, 150 - 100)


def test_unrealised_pnl_long_and_short() -> None:
    assert unrealized_pnl_cents(fills((BUY, 10, 100)), 130) == 300
    assert unrealized_pnl_cents(fills((SELL, 10, 100)), 130) == -300
    assert unrealized_pnl_cents(PositionState(), 130) == 0


def test_average_price_rounds_half_up_and_is_zero_when_flat() -> None:
    assert average_price_cents(5, 2) == 3
    assert average_price_cents(0, 0) == 0


@pytest.mark.parametrize(("quantity", "price"), [(0, 100), (5, 0), (-1, 100)])
def test_a_fill_needs_positive_quantity_and_price(quantity: int, price: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        apply_fill(PositionState(), BUY, quantity, price)
