"""Settlement arithmetic: how a fill changes a unified position, in integers only.

Invariants:
- `cost_basis_cents` is the exact cost (long) or proceeds (short) of the open quantity, never
  negative, and 0 when the position is flat; so over a position's life the realised P&L is exact;
- increasing a position adds `quantity × price` to the cost basis; reducing it moves the
  proportional share of the cost basis (rounded down; the last unit takes the remainder) into
  realised P&L; a fill larger than the position closes it and opens the rest at the fill price;
- the average price shown is the cost basis per unit, rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass

from kyrios.exchange.engine import Side


@dataclass(slots=True)
class PositionState:
    """A position as settlement sees it: + long / − short quantity, exact cost basis, realised P&L."""

    quantity: int = 0
    cost_basis_cents: int = 0
    realized_pnl_cents: int = 0

    @property
    def average_price_cents(self) -> int:
        """The cost basis per unit, rounded half up (0 when flat)."""
        return average_price_cents(self.cost_basis_cents, self.quantity)


def average_price_cents(cost_basis_cents: int, quantity: int) -> int:
    """Cost per unit rounded half up; 0 for a flat position."""
    units = abs(quantity)
    if units == 0:
        return 0
    return (2 * cost_basis_cents + units) // (2 * units)


def apply_fill(position: PositionState, side: Side, quantity: int, price_cents: int) -> PositionState:
    """The position after buying or selling `quantity` at `price_cents` (a new object)."""
    if quantity <= 0 or price_cents <= 0:
        raise ValueError("a fill has a positive quantity and price")
    held = position.quantity
    signed = quantity if side is Side.BUY else -quantity
    if held == 0 or (held > 0) == (signed > 0):
        return PositionState(
            held + signed, position.cost_basis_cents + quantity * price_cents, position.realized_pnl_cents
        )
    units = abs(held)
    closing = min(quantity, units)
    released_cost = position.cost_basis_cents * closing // units
    proceeds = closing * price_cents
    pnl = proceeds - released_cost if held > 0 else released_cost - proceeds
    cost = position.cost_basis_cents - released_cost
    opening = quantity - closing
    if opening:
        cost = opening * price_cents  # the old position is closed entirely; the rest opens anew
    return PositionState(held + signed, cost, position.realized_pnl_cents + pnl)


def unrealized_pnl_cents(position: PositionState, last_price_cents: int) -> int:
    """What closing the position at `last_price_cents` would realise."""
    value = abs(position.quantity) * last_price_cents
    if position.quantity > 0:
        return value - position.cost_basis_cents
    if position.quantity < 0:
        return position.cost_basis_cents - value
    return 0
