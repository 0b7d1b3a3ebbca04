"""Trading: `submit_order` and `cancel_order`, through one sequencer per symbol.

Invariants:
- an order is acknowledged (the call returns) only once its row and its reservation are
  committed; a refused order reserves nothing, is recorded as REJECTED with its reason's code, and
  its error says why, in the reader's language;
- a repeated (user, client_order_id) returns the original order, never a second one;
- only the owner may cancel an order; a finished order cannot be canceled;
- each user may send at most `orders_per_second` new orders (bursts of `order_burst`).

Accounts (deposit, withdraw, portfolio) live in `accounts`; listings in `assets`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select

from kyrios.core.bus import EventBus
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, InvalidInput, NotFound
from kyrios.exchange.engine import Depth
from kyrios.exchange.ids import RowIds
from kyrios.exchange.intake import AssetLimits
from kyrios.exchange.models import ExchangeAsset, ExchangeOrder, OrderStatus
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.refusals import Uncancelable, cancel_refusal
from kyrios.exchange.rules import ExchangeRules, LiveRules, OrderRateLimiter
from kyrios.exchange.schemas import OrderRequest, OrderView
from kyrios.exchange.sequencer import SymbolSequencer

if TYPE_CHECKING:
    from kyrios.ops.metrics import ExchangeMetrics

_FINISHED = {
    OrderStatus.FILLED: Uncancelable.FILLED,
    OrderStatus.CANCELED: Uncancelable.CANCELED,
    OrderStatus.REJECTED: Uncancelable.REJECTED,
}


class Exchange:
    """The trading front of the exchange: validation, rate limits and the per-symbol sequencers.

    Run it only under the exchange `lease` (`kyrios up` takes it): every batch is fenced by it.
    Without one it trusts its caller to be the database's only exchange writer (a test on a
    database of its own, a benchmark).
    """

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        rules: ExchangeRules | None = None,
        *,
        lease: ExchangeLease | None = None,
        metrics: ExchangeMetrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.lease = lease
        self.bus = bus
        self.clock = clock
        self.live_rules = LiveRules(rules)
        self.limiter = OrderRateLimiter(clock, self.live_rules)
        self.sequencers: dict[str, SymbolSequencer] = {}
        self._ids: RowIds | None = None
        self._opening = asyncio.Lock()
        self._closed = False

    @property
    def rules(self) -> ExchangeRules:
        """The rules in force."""
        return self.live_rules.current

    async def start(self) -> int:
        """Recover every listed symbol's book and start its sequencer; returns the resting orders restored."""
        async with self.db.read() as session:
            await self.live_rules.refresh(session)
            symbols = list(await session.scalars(select(ExchangeAsset.symbol).order_by(ExchangeAsset.symbol)))
        restored = 0
        for symbol in symbols:
            restored += (await self._open(symbol))[1]
        return restored

    async def aclose(self) -> None:
        """Let every sequencer finish its queue, then stop them."""
        self._closed = True
        await asyncio.gather(*(sequencer.aclose() for sequencer in self.sequencers.values()))

    async def sequencer(self, symbol: str) -> SymbolSequencer:
        """The running sequencer of `symbol` (recovered and started on first use)."""
        if self._closed:
            raise Conflict("The exchange is shutting down; try again in a moment.")
        if self.lease is not None and self.lease.lost:
            raise self.lease.refusal()
        running = self.sequencers.get(symbol)
        if running is not None:
            return running
        return (await self._open(symbol))[0]

    async def _open(self, symbol: str) -> tuple[SymbolSequencer, int]:
        async with self._opening:
            running = self.sequencers.get(symbol)
            if running is not None:
                return running, 0
            if self._closed:
                raise Conflict("The exchange is shutting down.")
            async with self.db.read() as session:
                asset = await session.get(ExchangeAsset, symbol)
                if self._ids is None:
                    self._ids = await RowIds.load(session)
            if asset is None:
                raise NotFound("There is no symbol {symbol}.", symbol=symbol)
            limits = AssetLimits.of(asset)
            fence = self.lease.fence if self.lease is not None else None
            sequencer = SymbolSequencer(
                self.db,
                self.bus,
                self.clock,
                self.live_rules,
                limits,
                self._ids,
                fence=fence,
                metrics=self.metrics,
            )
            restored = await sequencer.recover()
            sequencer.start()
            self.sequencers[symbol] = sequencer
            return sequencer, restored

    async def submit_order(self, user_id: int, request: OrderRequest) -> OrderView:
        """Rate-limit, check, reserve and durably record a new order; matching follows in the sequencer.

        A refused order (a bad price or quantity, halted, too little cash …) is recorded as REJECTED
        by the sequencer before its error is raised here; an unknown symbol or a rate-limited user
        leaves no row."""
        sequencer = await self.sequencer(request.symbol)
        self.limiter.take(user_id)
        return await sequencer.submit(user_id, request)

    async def cancel_order(
        self, user_id: int, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView:
        """Cancel one of the user's open orders, named by id or by client order id."""
        if (order_id is None) == (client_order_id is None):
            raise InvalidInput("Name the order to cancel by its id or by its client order id.")
        async with self.db.read() as session:
            if order_id is not None:
                order = await session.get(ExchangeOrder, order_id)
            else:
                order = await session.scalar(
                    select(ExchangeOrder).where(
                        ExchangeOrder.user_id == user_id, ExchangeOrder.client_order_id == client_order_id
                    )
                )
        if order is None:
            raise cancel_refusal(Uncancelable.UNKNOWN, order_id=order_id, client_order_id=client_order_id)
        why = Uncancelable.NOT_OWNER if order.user_id != user_id else _FINISHED.get(order.status)
        if why is not None:
            raise cancel_refusal(why, order_id=order_id, client_order_id=client_order_id)
        sequencer = await self.sequencer(order.symbol)
        return await sequencer.cancel(user_id, order.id)

    @property
    def retries(self) -> int:
        """Batch transactions the sequencers had to run again (deadlocks, duplicates, moved cash)."""
        return sum(sequencer.retries for sequencer in self.sequencers.values())

    async def flush(self) -> None:
        """Wait until every order and cancel acknowledged so far is matched and persisted."""
        await asyncio.gather(*(sequencer.flush() for sequencer in list(self.sequencers.values())))

    async def depth(self, symbol: str, levels: int = 10) -> Depth:
        """The aggregated book of `symbol`, best levels first."""
        return (await self.sequencer(symbol)).book.depth(levels)
