"""Accepting orders: checks that need no database, then the batch's risk checks and reservations.

`accept_batch` runs inside the sequencer's group commit and only reads and decides: it returns
what each accepted order reserves, and the batch's journal writes it with everything else.
Nothing here locks a row: the cash rows are locked once, late, in one globally ordered step
(`journal.Batch.persist`), which checks that the free cash the reservations counted on is still
there. So sequencers of different symbols never wait on each other's cash in opposite orders.

Invariants:
- an order is acknowledged only after its row and its reservation are committed together;
- a refused request reserves nothing: it is recorded as a REJECTED order (nothing filled, open or
  held; `reject_reason` its code) in the batch's transaction, and its caller gets the error; only a
  request of a user without an account, or a buy-back with nothing to buy, leaves no row;
- a buy reserves `price × quantity` of free cash (a market buy: its collar price), a sell reserves
  `quantity` of the position, and no sell may take the position below `-max_short_quantity`;
- a sell that may open or increase a short (`risk.short_units`, counting the resting sells) also
  reserves its initial margin from free cash: `initial_margin_bps` of those units at its price (a
  market sell: at the last price); without that much free cash it is refused;
- a market buy that covers a short may pay the covered part from that position's margin;
- an account flagged below maintenance is graded again at the last prices; if it still is, only
  orders that reduce its risk pass (`risk.risk_reducing_problem`). The exchange's own buy-backs
  (liquidations) are sized here to what the account can pay;
- (user, client_order_id) names at most one order, accepted or rejected: a repeat returns the
  original, marked duplicate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import Conflict, DomainError, InvalidInput, NotFound
from kyrios.core.i18n import N_
from kyrios.exchange import margin
from kyrios.exchange.bulk import Bulk
from kyrios.exchange.engine import OrderType, RejectCode, Side, risk
from kyrios.exchange.engine.rejections import order_problem
from kyrios.exchange.engine.risk import MarginState
from kyrios.exchange.ids import RowIds, time_ordered_uuids
from kyrios.exchange.live import LiveOrder
from kyrios.exchange.models import AssetStatus, ExchangeAsset, ExchangeOrder, OrderStatus
from kyrios.exchange.refusals import (
    PRICE_NOT_ALLOWED,
    QUANTITY_TOO_SMALL,
    IntakeCode,
    order_refusal,
    risk_refusal,
)
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest, OrderView

NO_ACCOUNT = N_("You have no exchange account yet.")
SELECT_ASSET = "SELECT status, last_price_cents FROM exchange_asset WHERE symbol = ?"
# No lock: only this symbol's sequencer writes its positions, and cash is checked under lock later.
SELECT_CASH = (
    "SELECT user_id, cash_cents, reserved_cents, margin_restricted FROM exchange_cash WHERE user_id IN ({in})"
)
SELECT_HOLDINGS = (
    "SELECT user_id, quantity, reserved_quantity, margin_cents FROM exchange_position"
    " WHERE symbol = ? AND user_id IN ({in})"
)


@dataclass(frozen=True, slots=True)
class AssetLimits:
    """The static trading limits of one symbol (they never change while it trades)."""

    symbol: str
    tick_size_cents: int
    min_quantity: int
    max_quantity: int
    max_notional_cents: int

    @classmethod
    def of(cls, asset: ExchangeAsset) -> AssetLimits:
        """The limits of an asset row."""
        return cls(
            asset.symbol,
            asset.tick_size_cents,
            asset.min_quantity,
            asset.max_quantity,
            asset.max_notional_cents,
        )


def request_refusal(request: OrderRequest, limits: AssetLimits) -> Refused | None:
    """What is wrong with an order's quantity, price, tick or notional, if anything (no database)."""
    if request.type is OrderType.MARKET and request.price_cents is not None:
        return Refused(IntakeCode.PRICE_NOT_ALLOWED, InvalidInput(PRICE_NOT_ALLOWED))
    problem = order_problem(
        request.quantity,
        request.price_cents,
        price_required=request.type is OrderType.LIMIT,
        tick_size_cents=limits.tick_size_cents,
        max_quantity=limits.max_quantity,
    )
    if problem is not None:
        return Refused(
            problem[0],
            order_refusal(
                problem[0],
                quantity=request.quantity,
                max_quantity=limits.max_quantity,
                price_cents=request.price_cents,
                tick_size_cents=limits.tick_size_cents,
            ),
        )
    if request.quantity < limits.min_quantity:
        return Refused(
            IntakeCode.QUANTITY_TOO_SMALL, InvalidInput(QUANTITY_TOO_SMALL, min_quantity=limits.min_quantity)
        )
    if request.price_cents is not None:
        notional = risk.notional_problem(request.price_cents, request.quantity, limits.max_notional_cents)
        if notional is not None:
            return Refused(notional.code, risk_refusal(notional))
    return None


class Refused(Exception):
    """A check refused a well-formed request: `code` goes into its REJECTED row, `error` to the caller."""

    def __init__(self, code: str, error: DomainError) -> None:
        super().__init__(code)
        self.code = code
        self.error = error


@dataclass(frozen=True, slots=True)
class Rejected:
    """A refused request, recorded: its REJECTED order (written with the batch) and the caller's error."""

    order: LiveOrder
    error: DomainError


NOTHING_TO_LIQUIDATE = N_("Nothing to buy back for this account.")


class NothingToLiquidate(Conflict):
    """The exchange's buy-back found no short left to cover, or no cash to pay for any of it."""


Outcome = LiveOrder | OrderView | Rejected | DomainError
"""What intake made of one request: a new live order, the original of a duplicate, a recorded
refusal, or a refusal with no row (no account, or nothing for a buy-back to buy)."""


@dataclass(slots=True)
class Reservations:
    """What a batch's accepted orders hold, per user, for the journal to write."""

    cash: dict[int, int] = field(default_factory=dict)
    """Cents each user's accepted orders hold: the free cash they counted on (buys, short margin)."""
    units: dict[int, int] = field(default_factory=dict)
    """Units each seller's accepted orders hold of the position."""
    margin: dict[int, int] = field(default_factory=dict)
    """Cents covering market buys took from each user's short margin in this symbol."""
    graded: dict[int, bool] = field(default_factory=dict)
    """Users flagged below maintenance that intake graded again: still restricted or not."""


@dataclass(slots=True)
class Books:
    """What intake knows of each user's cash and position in the symbol, as its orders use them."""

    cash: dict[int, list[int]]
    """user → [free, reserved]."""
    positions: dict[int, list[int]]
    """user → [quantity, reserved quantity, margin left]."""
    restricted: set[int]
    """Users still below maintenance after grading."""
    buys: dict[int, int] = field(default_factory=dict)
    """Units of buys the batch accepted so far from restricted users (they may all fill)."""


OpenQuantity = Callable[[int, Side], int]
"""A user's open quantity on one side in this symbol (the sequencer's live orders)."""


async def accept_batch(
    session: AsyncSession,
    limits: AssetLimits,
    batch: list[tuple[int, OrderRequest]],
    rules: ExchangeRules,
    ids: RowIds,
    now: datetime,
    *,
    open_quantity: OpenQuantity | None = None,
    liquidations: dict[int, MarginState] | None = None,
) -> tuple[list[Outcome], Reservations]:
    """Risk-check a batch of (user_id, request) for one symbol, in order; decide what each reserves.

    The new orders get their ids but no rows, and nothing is written: the caller writes the
    orders and their reservations in the same transaction (the sequencer does, once they have
    been through the book). `liquidations` maps the batch's indexes of the exchange's buy-backs
    to the margin state that caused each.
    """
    liquidations = liquidations or {}
    open_quantity = open_quantity or (lambda _user_id, _side: 0)
    symbol = limits.symbol
    bulk = await Bulk.of(session)
    ((status, last_price),) = await bulk.fetch(SELECT_ASSET, (symbol,))
    halted = status == AssetStatus.HALTED
    outcomes: list[Outcome | None] = [None] * len(batch)
    existing = await _existing_client_orders(session, batch)
    users = sorted({user_id for user_id, _ in batch})
    cash: dict[int, list[int]] = {}
    flagged: list[int] = []
    for uid, free, held, restricted in await bulk.fetch(SELECT_CASH, users):
        cash[int(uid)] = [int(free), int(held)]
        if restricted:
            flagged.append(int(uid))
    graded: dict[int, bool] = {}
    if flagged:  # rare: grade again, at the prices of now (a deposit or a move elsewhere may have cured it)
        found = await margin.states(bulk, {uid: sum(cash[uid]) for uid in flagged}, rules)
        graded = {uid: margin.is_restricted(state) for uid, state in found.items()}
    restricted = {uid for uid, still in graded.items() if still}
    readers = sorted(
        {
            user_id
            for user_id, request in batch
            if request.side is Side.SELL or request.type is OrderType.MARKET or user_id in restricted
        }
    )
    positions: dict[int, list[int]] = {}
    if readers and not halted:
        positions = {
            int(uid): [int(quantity), int(reserved), int(held)]
            for uid, quantity, reserved, held in await bulk.fetch(SELECT_HOLDINGS, (symbol, *readers))
        }
    books = Books(cash, positions, restricted)
    reserved_cash: defaultdict[int, int] = defaultdict(int)
    reserved_units: defaultdict[int, int] = defaultdict(int)
    reserved_margin: defaultdict[int, int] = defaultdict(int)
    made: list[tuple[int, LiveOrder, DomainError | None]] = []
    """New orders in request order: accepted (no error) or rejected (recorded with their error)."""
    first_of: dict[tuple[int, str], int] = {}
    for index, (user_id, request) in enumerate(batch):
        coid = request.client_order_id
        if coid is not None:
            original = existing.get((user_id, coid))
            if original is not None:
                outcomes[index] = OrderView.of(original, duplicate=True)
                continue
            if (user_id, coid) in first_of:
                continue  # filled in below with the order it repeats
            first_of[user_id, coid] = index
        if user_id not in cash:
            outcomes[index] = NotFound(NO_ACCOUNT)  # no account to record a rejection for
            continue
        cause = liquidations.get(index)
        try:
            if halted:
                raise Refused(RejectCode.BOOK_HALTED, order_refusal(RejectCode.BOOK_HALTED, symbol=symbol))
            refused = request_refusal(request, limits)
            if refused is not None:
                raise refused
            if cause is not None:
                quantity = _liquidation_size(user_id, books, rules, limits, last_price, open_quantity)
            else:
                quantity = request.quantity
                if user_id in restricted:
                    _check_reduces_risk(user_id, request, books, open_quantity)
            price, reserve, earmark = _reserve(request, quantity, user_id, books, rules, limits, last_price)
        except Refused as refusal:
            made.append((index, _rejected_order(request, user_id, refusal.code, now), refusal.error))
            continue
        except NothingToLiquidate as nothing:
            outcomes[index] = nothing
            continue
        reserved_cash[user_id] += reserve - earmark
        if earmark:
            reserved_margin[user_id] += earmark
        if request.side is Side.SELL:
            reserved_units[user_id] += quantity
        live = LiveOrder(
            0,
            "",
            user_id,
            request.side,
            request.type,
            price,
            quantity,
            reserve,
            request.stp,
        )
        live.margin_cents = earmark
        live.liquidating = cause
        live.client_order_id = coid
        live.created_at = now
        made.append((index, live, None))
    uuids = time_ordered_uuids(len(made))
    for (index, live, error), order_id, order_uuid in zip(made, ids.orders(len(made)), uuids, strict=True):
        live.id = order_id
        live.uuid = order_uuid
        outcomes[index] = live if error is None else Rejected(live, error)
    for index, (user_id, request) in enumerate(batch):
        if outcomes[index] is None:  # a repeat of an order made earlier in this batch
            first = outcomes[first_of[user_id, request.client_order_id or ""]]
            if isinstance(first, LiveOrder):
                first = first.view(symbol, duplicate=True)
            elif isinstance(first, Rejected):
                first = first.order.view(symbol, duplicate=True)
            outcomes[index] = first
    reservations = Reservations(dict(reserved_cash), dict(reserved_units), dict(reserved_margin), graded)
    return [outcome for outcome in outcomes if outcome is not None], reservations


def _rejected_order(request: OrderRequest, user_id: int, code: str, now: datetime) -> LiveOrder:
    """The REJECTED order of a refused request, as asked: nothing filled, open or held."""
    order = LiveOrder(
        0,
        "",
        user_id,
        request.side,
        request.type,
        request.price_cents or 0,
        request.quantity,
        0,
        request.stp,
    )
    order.client_order_id = request.client_order_id
    order.created_at = now
    order.canceled = request.quantity
    order.remaining = 0
    order.status = OrderStatus.REJECTED
    order.reject_reason = code
    return order


def _reserve(
    request: OrderRequest,
    quantity: int,
    user_id: int,
    books: Books,
    rules: ExchangeRules,
    limits: AssetLimits,
    last_price: int,
) -> tuple[int, int, int]:
    """(price to store, cash to reserve, of which from the short's margin) for one order.

    Updates the in-memory balances, so the batch's next orders see what this one holds; `Refused`
    when a pre-trade risk check fails.
    """
    account = books.cash[user_id]
    price = request.price_cents
    if price is None:
        price = risk.market_collar_price_cents(
            last_price, request.side, rules.market_collar_bps, limits.tick_size_cents
        )
        notional = risk.notional_problem(price, quantity, limits.max_notional_cents)
        if notional is not None:
            raise Refused(notional.code, risk_refusal(notional))
    if request.side is Side.BUY:
        reserve = risk.limit_buy_cash_cents(price, quantity)
        earmark = 0
        held = books.positions.get(user_id)
        if request.type is OrderType.MARKET and held is not None and held[0] < 0 and held[2] > 0:
            covered = min(quantity, -held[0])
            usable = risk.proportional_share(held[2], covered, -held[0])
            earmark = min(usable, max(reserve - account[0], 0))
        problem = risk.cash_problem(reserve, account[0] + earmark)
        if problem is not None:
            raise Refused(problem.code, risk_refusal(problem))
        account[0] -= reserve - earmark
        account[1] += reserve - earmark
        if earmark:
            held = books.positions[user_id]
            held[2] -= earmark
        return price, reserve, earmark
    held = books.positions.setdefault(user_id, [0, 0, 0])
    problem = risk.short_position_problem(held[0], held[1], Side.SELL, quantity, rules.max_short_quantity)
    if problem is not None:
        raise Refused(problem.code, risk_refusal(problem))
    units = risk.short_units(held[0], held[1], quantity)
    reserve = 0
    if units:
        # At the least the sell may fetch: its limit; a market sell's collar is far off, so the last price.
        basis = request.price_cents if request.price_cents is not None else last_price
        reserve = risk.short_margin_cents(units, basis, rules.initial_margin_bps)
        margin_problem = risk.margin_problem(reserve, account[0], units)
        if margin_problem is not None:
            raise Refused(margin_problem.code, risk_refusal(margin_problem))
        account[0] -= reserve
        account[1] += reserve
    held[1] += quantity
    return price, reserve, 0


def _check_reduces_risk(
    user_id: int, request: OrderRequest, books: Books, open_quantity: OpenQuantity
) -> None:
    """Refuse an order of a restricted account unless it only reduces the risk."""
    held = books.positions.get(user_id, [0, 0, 0])
    open_buys = 0
    if request.side is Side.BUY:
        open_buys = open_quantity(user_id, Side.BUY) + books.buys.get(user_id, 0)
    problem = risk.risk_reducing_problem(held[0], held[1], open_buys, request.side, request.quantity)
    if problem is not None:
        raise Refused(problem.code, risk_refusal(problem))
    if request.side is Side.BUY:  # the batch's next buys count this one as resting
        books.buys[user_id] = books.buys.get(user_id, 0) + request.quantity


def _liquidation_size(
    user_id: int,
    books: Books,
    rules: ExchangeRules,
    limits: AssetLimits,
    last_price: int,
    open_quantity: OpenQuantity,
) -> int:
    """Units the exchange's buy-back takes: the uncovered short, as far as free cash + margin pay."""
    held = books.positions.get(user_id, [0, 0, 0])
    account = books.cash.get(user_id, [0, 0])
    collar = risk.market_collar_price_cents(
        last_price, Side.BUY, rules.market_collar_bps, limits.tick_size_cents
    )
    quantity = risk.liquidation_quantity(
        held[0], open_quantity(user_id, Side.BUY), account[0] + held[2], collar
    )
    quantity = min(quantity, limits.max_quantity, limits.max_notional_cents // collar)
    if quantity <= 0:
        raise NothingToLiquidate(NOTHING_TO_LIQUIDATE)
    return quantity


async def _existing_client_orders(
    session: AsyncSession, batch: list[tuple[int, OrderRequest]]
) -> dict[tuple[int, str], ExchangeOrder]:
    wanted = {(user_id, r.client_order_id) for user_id, r in batch if r.client_order_id is not None}
    if not wanted:
        return {}
    rows = await session.scalars(
        select(ExchangeOrder).where(
            ExchangeOrder.user_id.in_({user_id for user_id, _ in wanted}),
            ExchangeOrder.client_order_id.in_({coid for _, coid in wanted}),
        )
    )
    return {
        (order.user_id, order.client_order_id): order
        for order in rows
        if order.client_order_id is not None and (order.user_id, order.client_order_id) in wanted
    }
