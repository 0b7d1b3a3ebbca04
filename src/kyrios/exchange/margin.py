"""Margin checks against the database: an account's equity at the last prices, graded by the rules.

The arithmetic is the engine's (`risk.margin_state`); here are the reads it needs and what a
sequencer makes of the result. The check runs inside a batch's transaction for the accounts the
batch may have moved (`journal.Batch.watch`): the symbol's shorts when its mark changed, its
traders, and restricted accounts that sent orders. Their cash rows are locked with the batch's
own (one ordered step), and a flip of `margin_restricted` is written there.

Invariants:
- equity = free + reserved cash + Σ quantity × last price over every symbol (shorts negative);
- an account with shorts is RESTRICTED while its equity is below `maintenance_margin_bps` of the
  shorts' value, WARNING below `initial_margin_bps`, else OK; without shorts it is OK;
- a liquidation is a market buy the exchange sends on the account's behalf, in the symbol whose
  sequencer found it restricted, for the short it still has there (as much as its free cash and
  that position's margin pay at the collar price).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from kyrios.exchange.bulk import Bulk
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.engine.risk import MarginState, MarginStatus, margin_state
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest

# No lock: other symbols' positions move under their own sequencers; a mark a moment old is the
# same mark the next batch of that symbol checks again.
SELECT_HOLDINGS_VALUE = (
    "SELECT p.user_id, p.quantity, a.last_price_cents FROM exchange_position p"
    " JOIN exchange_asset a ON a.symbol = p.symbol WHERE p.quantity <> 0 AND p.user_id IN ({in})"
)
SET_RESTRICTED = "UPDATE exchange_cash SET margin_restricted = ? WHERE user_id = ?"
LIQUIDATION_PREFIX = "liquidation-"


async def states(bulk: Bulk, cash_totals: dict[int, int], rules: ExchangeRules) -> dict[int, MarginState]:
    """The margin state of each user in `cash_totals` (user → free + reserved cash)."""
    if not cash_totals:
        return {}
    equity = dict(cash_totals)
    shorts: defaultdict[int, int] = defaultdict(int)
    for user_id, quantity, last_price in await bulk.fetch(SELECT_HOLDINGS_VALUE, sorted(cash_totals)):
        value = int(quantity) * int(last_price)
        equity[int(user_id)] += value
        if value < 0:
            shorts[int(user_id)] -= value
    return {
        user_id: margin_state(total, shorts[user_id], rules.initial_margin_bps, rules.maintenance_margin_bps)
        for user_id, total in equity.items()
    }


def is_restricted(state: MarginState) -> bool:
    """Whether the account may only reduce risk."""
    return state.status is MarginStatus.RESTRICTED


def warning(state: MarginState) -> dict[str, object]:
    """The private message an account gets when it crosses below (or back above) maintenance."""
    return {
        "type": "margin",
        "status": state.status.value,
        "equity_cents": state.equity_cents,
        "short_value_cents": state.short_value_cents,
        "requirement_cents": state.requirement_cents,
        "maintenance_cents": state.maintenance_cents,
    }


def liquidation_request(symbol: str, quantity: int) -> OrderRequest:
    """The market buy-back the exchange sends for an account (intake sizes it to what it can pay)."""
    return OrderRequest(
        symbol=symbol,
        side=Side.BUY,
        type=OrderType.MARKET,
        quantity=max(quantity, 1),
        client_order_id=f"{LIQUIDATION_PREFIX}{uuid.uuid4().hex[:24]}",
    )


def liquidation_detail(symbol: str, quantity: int, price_cents: int, state: MarginState | None) -> str:
    """The ledger detail of a liquidation fill: what was bought, and why."""
    why = "below maintenance margin"
    if state is not None:
        why += f": equity {state.equity_cents} < maintenance {state.maintenance_cents} cents"
    return f"{symbol} {quantity} @ {price_cents} liquidation, {why}"


def restricted_users(found: Iterable[tuple[int, MarginState]]) -> dict[int, MarginState]:
    """The restricted ones of (user, state) pairs."""
    return {user_id: state for user_id, state in found if is_restricted(state)}
