"""One single-writer task per symbol: queue → one transaction (intake, book, journal) → acknowledged.

Each cycle takes what is queued (up to `max_batch` commands) and runs ONE transaction: it
checks and reserves the new orders (`intake`), runs them and the cancels through the book
in memory, and writes the outcome (`journal`): the new orders once, in their state after the
book (the refused ones as REJECTED rows, answered with their error after the commit), with
the executions, the changed older orders, positions, cash and ledger, and
`engine_seq`. After it commits, the orders are acknowledged, the cancels answered and the
events published. One commit per batch, and every order row is written once.

Invariants:
- only this task changes the symbol's book, its orders after acceptance, and its positions; and
  only while its process holds the exchange lease (`fence`, checked inside every batch);
- a submit is acknowledged after the transaction that inserted the order (with its reservation
  and whatever the book did with it) committed; a cancel is answered after the transaction that
  recorded it committed;
- the book's effects (executions, order states, positions, cash, `engine_seq`) of one batch are
  written in one transaction; events are published only after it committed;
- the book goes ahead of the database only inside that transaction: if it fails (or must be
  retried), the book is rebuilt from the database before anything else runs;
- `recover()` rebuilds the book from the database: the resting orders in priority order (an
  order row is written only after the book took it, so there is nothing else to replay).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus
from kyrios.core.clock import Clock
from kyrios.core.db import MAX_ATTEMPTS, Database, is_retryable
from kyrios.core.errors import Conflict, DomainError, NotFound
from kyrios.exchange import margin
from kyrios.exchange.commands import (
    CancelCommand,
    Command,
    FlushCommand,
    SubmitCommand,
    answer,
    fail,
    fail_all,
    release,
    succeed,
)
from kyrios.exchange.engine import CancelRejected, OrderBook, OrderCanceled, OrderType, Side
from kyrios.exchange.engine import Order as BookOrder
from kyrios.exchange.ids import RowIds
from kyrios.exchange.intake import AssetLimits, Outcome, Rejected, accept_batch
from kyrios.exchange.journal import Batch, CashMoved
from kyrios.exchange.live import LiveOrder
from kyrios.exchange.models import LIVE_STATUSES, ExchangeAsset, ExchangeOrder, ExchangePosition
from kyrios.exchange.refusals import NOT_OPEN, book_cancel_refusal
from kyrios.exchange.rules import ExchangeRules, LiveRules
from kyrios.exchange.schemas import OrderRequest, OrderView

if TYPE_CHECKING:
    from kyrios.ops.metrics import ExchangeMetrics

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class Cycle:
    """What one cycle's transaction did, to be answered once it committed."""

    batch: Batch
    outcomes: list[Outcome]
    answers: list[tuple[CancelCommand, LiveOrder | DomainError]] = field(default_factory=list)
    flushes: list[asyncio.Future[None]] = field(default_factory=list)
    timings: tuple[float, float] | None = None
    """Seconds spent matching and persisting (when metrics are kept)."""


class SymbolSequencer:
    """The single writer of one symbol's book."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        rules: LiveRules,
        limits: AssetLimits,
        ids: RowIds,
        *,
        fence: Callable[[AsyncSession], Awaitable[None]] | None = None,
        metrics: ExchangeMetrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.fence = fence
        """Run first in every batch transaction: refuses it unless this process owns the exchange."""
        self.ids = ids
        self.bus = bus
        self.clock = clock
        self.live_rules = rules
        self.limits = limits
        self.symbol = limits.symbol
        self.book = OrderBook(
            self.symbol, tick_size_cents=limits.tick_size_cents, max_quantity=limits.max_quantity
        )
        self.live: dict[int, LiveOrder] = {}
        self.shorts: set[int] = set()
        """The users short in this symbol (only this sequencer changes its positions)."""
        self.mark: int | None = None
        """The last price the margins of this symbol's shorts were graded at."""
        self.liquidating: set[int] = set()
        """Users whose buy-back is queued and not yet processed."""
        self.queue: asyncio.Queue[Command | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stale = False
        self.retries = 0
        """Batch transactions run again after a deadlock, a duplicate key or `CashMoved`."""

    @property
    def rules(self) -> ExchangeRules:
        """The rules in force (re-read from the database at every batch unless fixed)."""
        return self.live_rules.current

    # ----------------------------------------------------------------- public

    async def submit(self, user_id: int, request: OrderRequest) -> OrderView:
        """Queue a checked order; return once it is durable (or refused)."""
        command = SubmitCommand(user_id, request)
        self.queue.put_nowait(command)
        return await command.future

    async def cancel(self, user_id: int, order_id: int) -> OrderView:
        """Queue a cancel of one of the user's orders; return the order once the cancel is durable."""
        command = CancelCommand(user_id, order_id)
        self.queue.put_nowait(command)
        return await command.future

    async def flush(self) -> None:
        """Wait until everything queued so far is matched and persisted."""
        command = FlushCommand()
        self.queue.put_nowait(command)
        await command.future

    def start(self) -> None:
        """Start the writer task (after `recover()`)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"sequencer:{self.symbol}")

    async def aclose(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is None:
            return
        self.queue.put_nowait(None)
        await self._task
        self._task = None

    async def recover(self) -> int:
        """Rebuild the book from the database's resting orders; returns how many were restored."""
        async with self.db.read() as session:
            engine_seq = await session.scalar(
                select(ExchangeAsset.engine_seq).where(ExchangeAsset.symbol == self.symbol)
            )
            if engine_seq is None:
                raise NotFound("There is no symbol {symbol}.", symbol=self.symbol)
            resting = (
                await session.scalars(
                    select(ExchangeOrder)
                    .where(
                        ExchangeOrder.symbol == self.symbol,
                        ExchangeOrder.status.in_(LIVE_STATUSES),
                        ExchangeOrder.priority.is_not(None),
                    )
                    .order_by(ExchangeOrder.priority)
                )
            ).all()
            shorts = set(
                await session.scalars(
                    select(ExchangePosition.user_id).where(
                        ExchangePosition.symbol == self.symbol, ExchangePosition.quantity < 0
                    )
                )
            )
        self.book = OrderBook(
            self.symbol,
            tick_size_cents=self.limits.tick_size_cents,
            max_quantity=self.limits.max_quantity,
            last_seq=int(engine_seq),
        )
        self.live = {}
        self.shorts = shorts
        self.mark = None
        for row in resting:
            live = LiveOrder.of(row)
            self.live[live.id] = live
            assert live.priority is not None
            self.book.restore(
                BookOrder(
                    live.id,
                    live.user_id,
                    live.side,
                    live.price_cents,
                    live.quantity,
                    live.remaining,
                    live.priority,
                )
            )
        return len(resting)

    # ----------------------------------------------------------------- the writer

    async def _run(self) -> None:
        queue = self.queue
        max_batch = self.rules.max_batch
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is None:
                break
            commands: list[Command] = [first]
            while len(commands) < max_batch and not queue.empty():
                command = queue.get_nowait()
                if command is None:
                    stopping = True
                    break
                commands.append(command)
            try:
                await self._cycle(commands)
            except Exception:  # keep serving: the book was rebuilt from the database
                log.exception("%s: batch of %d commands failed", self.symbol, len(commands))

    async def _cycle(self, commands: list[Command]) -> None:
        """One transaction: accept the new orders, match them and the cancels, write the outcome.

        Then acknowledge the orders, answer the cancels and publish, in that order.
        """
        if self._stale:  # a failed transaction left the book ahead of the database
            try:
                await self.recover()
            except Exception as error:
                fail_all(commands, error)
                raise
            self._stale = False
        submits = [c for c in commands if isinstance(c, SubmitCommand)]
        requests = [(c.user_id, c.request) for c in submits]
        liquidations = {i: c.liquidating for i, c in enumerate(submits) if c.liquidating is not None}
        now = self.clock.now()

        async def work(session: AsyncSession) -> Cycle:
            if self.fence is not None:
                await self.fence(session)  # first: the lease row's lock comes before any other
            outcomes: list[Outcome] = []
            rules = self.rules
            if requests:
                rules = await self.live_rules.refresh(session)
            batch = Batch(self.symbol, self.live, now, rules, set(self.shorts))
            batch.mark = self.mark
            if requests:
                outcomes, reserved = await accept_batch(
                    session,
                    self.limits,
                    requests,
                    rules,
                    self.ids,
                    now,
                    open_quantity=self._open_quantity,
                    liquidations=liquidations,
                )
                batch.reserve(reserved.cash, reserved.units, reserved.margin, reserved.graded)
            # From here on the book runs ahead of the database until the commit.
            self._stale = True
            accepted: dict[int, LiveOrder] = {}
            for submit, outcome in zip(submits, outcomes, strict=True):
                if isinstance(outcome, LiveOrder):
                    self.live[outcome.id] = outcome
                    batch.new.append(outcome)
                    accepted[id(submit)] = outcome
                elif isinstance(outcome, Rejected):  # recorded, never near the book
                    batch.new.append(outcome.order)
                    batch.dirty[outcome.order.id] = outcome.order
            cycle = Cycle(batch, outcomes)
            matching = time.perf_counter()
            for command in commands:
                if isinstance(command, SubmitCommand):
                    live = accepted.get(id(command))
                    if live is not None:
                        self._place(live, batch)
                elif isinstance(command, CancelCommand):
                    cycle.answers.append((command, self._cancel(command, batch)))
                else:
                    cycle.flushes.append(command.future)
            persisting = time.perf_counter()
            if batch.seq is not None or batch.new:
                await batch.persist(session, self.book.seq, self.ids)
            if self.metrics is not None:
                cycle.timings = (persisting - matching, time.perf_counter() - persisting)
            return cycle

        try:
            cycle = await self._transact(work)
        except Exception as error:
            try:  # rebuild the book before answering, so no caller sees the book of a failed batch
                if self._stale:
                    await self.recover()
                    self._stale = False
            finally:
                fail_all(commands, error)
            raise
        self._stale = False
        batch = cycle.batch
        self._forget_finished(batch)
        self.shorts = batch.shorts
        if batch.last_price is not None:
            self.mark = batch.last_price
        self.liquidating.difference_update(c.user_id for c in submits if c.liquidating is not None)
        self._liquidate(batch)
        symbol = self.symbol
        for submit, outcome in zip(submits, cycle.outcomes, strict=True):
            if isinstance(outcome, LiveOrder):
                succeed(submit.future, outcome.view(symbol))
            elif isinstance(outcome, OrderView):
                succeed(submit.future, outcome)
            elif isinstance(outcome, Rejected):
                fail(submit.future, outcome.error)
            else:
                fail(submit.future, outcome)
        for cancel, canceled in cycle.answers:
            answer(cancel, canceled, symbol)
        if self.metrics is not None:
            self._count(cycle)
        if batch.seq is not None:
            self.bus.publish_many(batch.messages())
        release(cycle.flushes)

    async def _transact(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction of its own; retry it after a deadlock, a duplicate key or
        `CashMoved`, counting the retries in `self.retries`.

        A duplicate key: another symbol's batch inserted the same (user, client order id) at the
        same moment; the retry sees it and answers with the original. `CashMoved`: another
        transaction spent free cash a reservation counted on; the retry reads the cash again.
        A failed attempt that moved the book has the book rebuilt from the database before the
        next one (`work` then runs the book again).
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.db.transaction() as session:
                    return await work(session)
            except CashMoved as moved:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.info("%s: retrying a batch: %s", self.symbol, moved)
            except DBAPIError as error:
                duplicate = isinstance(error, IntegrityError)
                if not (duplicate or is_retryable(error)) or attempt == (3 if duplicate else MAX_ATTEMPTS):
                    raise
            self.retries += 1
            if self._stale:
                await self.recover()
                self._stale = False
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))
        raise AssertionError("unreachable")

    def _count(self, cycle: Cycle) -> None:
        """Record a committed batch in the metrics: its orders' outcomes, trades and timings."""
        metrics = self.metrics
        assert metrics is not None
        for outcome in cycle.outcomes:
            if isinstance(outcome, LiveOrder):
                metrics.accepted.inc()
            elif isinstance(outcome, Rejected):
                metrics.rejected(outcome.order.reject_reason or "unknown")
            elif isinstance(outcome, OrderView):
                metrics.duplicate.inc()
            else:
                metrics.rejected(type(outcome).__name__)  # no row: no account, nothing to buy back
        if cycle.batch.trades:
            metrics.traded(self.symbol, len(cycle.batch.trades))
        if cycle.timings is not None:
            metrics.match_seconds.observe(cycle.timings[0])
            metrics.persist_seconds.observe(cycle.timings[1])

    def _open_quantity(self, user_id: int, side: Side) -> int:
        """The open quantity of the user's live orders on one side (rare: restricted users only)."""
        return sum(o.remaining for o in self.live.values() if o.user_id == user_id and o.side is side)

    def _liquidate(self, batch: Batch) -> None:
        """Queue a market buy-back for each account the batch found below maintenance and short here.

        Only after a batch that traded: a buy-back that found nothing to buy (or could pay for
        nothing) trades nothing, so it is not sent again until the market moves.
        """
        if not self.rules.liquidation_enabled or batch.last_price is None:
            return
        for user_id, state in batch.margin_states.items():
            if not margin.is_restricted(state) or user_id not in self.shorts or user_id in self.liquidating:
                continue
            command = SubmitCommand(user_id, margin.liquidation_request(self.symbol, 1), liquidating=state)
            command.future.add_done_callback(_outcome_seen)
            self.liquidating.add(user_id)
            self.queue.put_nowait(command)
            log.info("%s: liquidating the short of user %s: %s", self.symbol, user_id, state)

    def _place(self, order: LiveOrder, batch: Batch) -> None:
        book = self.book
        if order.order_type is OrderType.LIMIT:
            book.place_limit(
                order.id, order.user_id, order.side, order.price_cents, order.remaining, stp=order.stp
            )
        else:
            book.place_market(
                order.id,
                order.user_id,
                order.side,
                order.remaining,
                protection_price_cents=order.price_cents or None,
                stp=order.stp,
            )
        for event in book.take_events():
            batch.apply(event)

    def _cancel(self, command: CancelCommand, batch: Batch) -> LiveOrder | DomainError:
        self.book.cancel(command.order_id, command.user_id)
        result: LiveOrder | DomainError = Conflict(NOT_OPEN, order_id=str(command.order_id))
        for event in self.book.take_events():
            batch.apply(event)
            if isinstance(event, OrderCanceled) and event.order_id == command.order_id:
                result = self.live[command.order_id]
            elif isinstance(event, CancelRejected):
                result = book_cancel_refusal(event.code, command.order_id)
        return result

    def _forget_finished(self, batch: Batch) -> None:
        for order in batch.dirty.values():
            if order.status not in LIVE_STATUSES:
                self.live.pop(order.id, None)


def _outcome_seen(future: asyncio.Future[OrderView]) -> None:
    """Retrieve a buy-back's outcome (nobody waits for it), logging a refusal."""
    if not future.cancelled() and future.exception() is not None:
        log.info("a liquidation was not placed: %s", future.exception())
