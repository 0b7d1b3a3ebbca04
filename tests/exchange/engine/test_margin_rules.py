"""The margin rules as pure arithmetic, checked with Hypothesis like the rest of the engine."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kyrios.exchange.engine import RejectCode, Side
from kyrios.exchange.engine.risk import (
    BPS,
    MarginStatus,
    liquidation_quantity,
    margin_problem,
    margin_state,
    proportional_share,
    risk_reducing_problem,
    short_margin_cents,
    short_units,
)

positions = st.integers(-10_000, 10_000)
quantities = st.integers(1, 10_000)
open_quantities = st.integers(0, 10_000)
prices = st.integers(1, 10**7)
bps = st.integers(BPS, 10 * BPS)


def test_the_default_example_reads_as_reg_t() -> None:
    # a short of 10 at 100.00 holds 1,500.00; at 120.00 an equity of 1,400.00 is below 125 % (1,500.00)
    assert short_margin_cents(10, 10_000, 15_000) == 150_000
    state = margin_state(140_000, 120_000, 15_000, 12_500)
    assert state.status is MarginStatus.RESTRICTED
    assert (state.requirement_cents, state.maintenance_cents) == (180_000, 150_000)
    refused = margin_problem(300_00, 160_00, 2)
    assert refused is not None and refused.code is RejectCode.INSUFFICIENT_MARGIN


@settings(max_examples=500, deadline=None)
@given(positions, open_quantities, quantities)
def test_short_units_are_exactly_what_the_worst_case_takes_below_zero(
    position: int, open_sells: int, quantity: int
) -> None:
    units = short_units(position, open_sells, quantity)
    assert 0 <= units <= quantity
    before = min(position - open_sells, 0)  # the worst case before this sell
    after = position - open_sells - quantity
    assert units == min(before - after, quantity) if after < 0 else units == 0
    assert (units == 0) == (after >= 0)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 10**12), st.lists(st.integers(1, 1_000), min_size=1, max_size=30))
def test_shares_taken_one_after_another_add_up_exactly(amount: int, parts: list[int]) -> None:
    left, whole, taken = amount, sum(parts), 0
    for part in parts:
        share = proportional_share(left, part, whole)
        assert 0 <= share <= left
        assert share * whole <= amount * part + amount  # never much more than its fair share
        left, whole, taken = left - share, whole - part, taken + share
    assert left == 0 and taken == amount


@settings(max_examples=500, deadline=None)
@given(st.integers(-(10**12), 10**12), st.integers(0, 10**11), bps, bps)
def test_the_grade_follows_the_two_thresholds(equity: int, shorts: int, first: int, second: int) -> None:
    initial, maintenance = max(first, second), min(first, second)
    state = margin_state(equity, shorts, initial, maintenance)
    assert state.requirement_cents >= state.maintenance_cents >= shorts
    assert state.requirement_cents * BPS >= shorts * initial > (state.requirement_cents - 1) * BPS
    if shorts == 0:
        assert state.status is MarginStatus.OK
    elif equity < state.maintenance_cents:
        assert state.status is MarginStatus.RESTRICTED
    elif equity < state.requirement_cents:
        assert state.status is MarginStatus.WARNING
    else:
        assert state.status is MarginStatus.OK


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**11), st.integers(0, 10**11), st.integers(1, 10**6), bps)
def test_more_equity_never_grades_worse(equity: int, more: int, shorts: int, initial: int) -> None:
    rank = {MarginStatus.RESTRICTED: 0, MarginStatus.WARNING: 1, MarginStatus.OK: 2}
    low = margin_state(equity, shorts, initial, BPS)
    high = margin_state(equity + more, shorts, initial, BPS)
    assert rank[high.status] >= rank[low.status]


@settings(max_examples=1_000, deadline=None)
@given(positions, open_quantities, open_quantities, st.sampled_from(Side), quantities)
def test_a_restricted_account_can_only_shrink_its_exposure(
    position: int, open_sells: int, open_buys: int, side: Side, quantity: int
) -> None:
    problem = risk_reducing_problem(position, open_sells, open_buys, side, quantity)
    if side is Side.SELL:
        worst_before, worst_after = position - open_sells, position - open_sells - quantity
    else:
        worst_before, worst_after = position + open_buys, position + open_buys + quantity
    if problem is None:  # the worst case stays on the same side of zero and comes closer to it
        assert abs(worst_after) < abs(worst_before)
        assert (worst_before >= 0) == (worst_after >= 0) or worst_after == 0
    else:
        assert problem.code is RejectCode.BELOW_MAINTENANCE_MARGIN
        assert worst_after < 0 if side is Side.SELL else worst_after > 0


@settings(max_examples=500, deadline=None)
@given(positions, open_quantities, st.integers(-(10**9), 10**12), prices)
def test_a_buy_back_covers_no_more_than_the_short_and_what_cash_pays(
    position: int, open_buys: int, spendable: int, price: int
) -> None:
    quantity = liquidation_quantity(position, open_buys, spendable, price)
    assert 0 <= quantity <= max(-position - open_buys, 0)
    assert quantity * price <= max(spendable, 0)
    if quantity < max(-position - open_buys, 0):  # cut short only by the cash
        assert (quantity + 1) * price > spendable


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 10_000), prices, bps, st.integers(0, 10**12))
def test_an_initial_margin_is_refused_exactly_when_it_exceeds_free_cash(
    units: int, price: int, initial: int, free: int
) -> None:
    needed = short_margin_cents(units, price, initial)
    assert needed * BPS >= units * price * initial > (needed - 1) * BPS or units == 0
    problem = margin_problem(needed, free, units)
    assert (problem is None) == (needed <= free)
    if problem is not None:
        assert problem.values == {"short": units, "needed_cents": needed, "available_cents": free}
