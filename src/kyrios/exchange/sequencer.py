"""One single-writer task per symbol: queue → group-committed intake → book → persisted in one transaction.

Each cycle takes what is queued (up to `max_batch` commands) and runs ONE transaction that
persists the previous cycle's matched batch and inserts this cycle's new orders with their
reservations; after it commits, the new orders are acknowledged, the previous batch's cancels
answered and its events published; then this cycle's orders and cancels go through the book in
memory, and their effects ride on the next transaction (or on one of their own when the queue is
empty). Two commits per batch become one under load.

Invariants:
- only this task changes the symbol's book, its orders after acceptance, and its positions;
- a submit is acknowledged after the transaction that inserted the order (and reserved its cash
  or units) committed; a cancel is answered after the transaction that recorded it committed;
- the book's effects (executions, order states, positions, cash, `engine_seq`) of one batch are
  written in one transaction; events are published only after it committed;
- `recover()` rebuilds the book from the database: resting orders in priority order, then the
  orders acknowledged but never matched (priority NULL) replayed in acceptance (id) order.
  If a persisting transaction fails, the book is rebuilt the same way, so it never runs ahead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, DomainError, NotFound
from kyrios.exchange.commands import (
    CancelCommand,
    Command,
    FlushCommand,
    Matched,
    SubmitCommand,
    answer,
    fail,
    fail_all,
    release,
    succeed,
)
from kyrios.exchange.engine import (
    CancelRejected,
    OrderBook,
    OrderCanceled,
    OrderType,
    RejectCode,
)
from kyrios.exchange.engine import Order as BookOrder
from kyrios.exchange.ids import RowIds
from kyrios.exchange.intake import AssetLimits, Outcome, accept_batch
from kyrios.exchange.journal import Batch, LiveOrder
from kyrios.exchange.models import LIVE_STATUSES, ExchangeAsset, ExchangeOrder, OrderStatus
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest, OrderView

log = logging.getLogger(__name__)


class SymbolSequencer:
    """The single writer of one symbol's book."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        rules: ExchangeRules,
        limits: AssetLimits,
        ids: RowIds,
    ) -> None:
        self.db = db
        self.ids = ids
        self.bus = bus
        self.clock = clock
        self.rules = rules
        self.limits = limits
        self.symbol = limits.symbol
        self.book = OrderBook(
            self.symbol, tick_size_cents=limits.tick_size_cents, max_quantity=limits.max_quantity
        )
        self.live: dict[int, LiveOrder] = {}
        self.queue: asyncio.Queue[Command | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stale = False

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
        """Rebuild the book from the database; returns how many acknowledged orders were replayed."""
        async with self.db.read() as session:
            engine_seq = await session.scalar(
                select(ExchangeAsset.engine_seq).where(ExchangeAsset.symbol == self.symbol)
            )
            if engine_seq is None:
                raise NotFound(f"There is no symbol {self.symbol}.")
            resting = (
                await session.scalars(
                    select(ExchangeOrder)
                    .where(
                        ExchangeOrder.symbol == self.symbol,
                        ExchangeOrder.status.in_([s.value for s in LIVE_STATUSES]),
                        ExchangeOrder.priority.is_not(None),
                    )
                    .order_by(ExchangeOrder.priority)
                )
            ).all()
            pending = (
                await session.scalars(
                    select(ExchangeOrder)
                    .where(
                        ExchangeOrder.symbol == self.symbol,
                        ExchangeOrder.status == OrderStatus.OPEN.value,
                        ExchangeOrder.priority.is_(None),
                    )
                    .order_by(ExchangeOrder.id)
                )
            ).all()
        self.book = OrderBook(
            self.symbol,
            tick_size_cents=self.limits.tick_size_cents,
            max_quantity=self.limits.max_quantity,
            last_seq=int(engine_seq),
        )
        self.live = {}
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
        for start in range(0, len(pending), self.rules.max_batch):
            chunk = [LiveOrder.of(row) for row in pending[start : start + self.rules.max_batch]]
            batch = Batch(self.symbol, self.live, self.clock.now())
            for live in chunk:
                self.live[live.id] = live
                self._place(live, batch)
            await self._commit(batch)
            self._forget_finished(batch)
        if pending:
            log.info(
                "%s: replayed %d acknowledged orders that were not matched yet", self.symbol, len(pending)
            )
        return len(pending)

    # ----------------------------------------------------------------- the writer

    async def _run(self) -> None:
        queue = self.queue
        max_batch = self.rules.max_batch
        matched: Matched | None = None
        stopping = False
        while not (stopping and matched is None):
            commands: list[Command] = []
            if not stopping:
                if matched is None:  # nothing to persist: wait for work
                    first = await queue.get()
                    if first is None:
                        break
                    commands.append(first)
                elif queue.empty():
                    # The orders just acknowledged wake their clients; let them send their next
                    # orders so those share the transaction that persists the matched batch.
                    await asyncio.sleep(0)
                while len(commands) < max_batch and not queue.empty():
                    command = queue.get_nowait()
                    if command is None:
                        stopping = True
                        break
                    commands.append(command)
            try:
                matched = await self._cycle(commands, matched)
            except Exception:  # keep serving: the book was rebuilt from the database
                log.exception("%s: batch of %d commands failed", self.symbol, len(commands))
                matched = None

    async def _cycle(self, commands: list[Command], matched: Matched | None) -> Matched | None:
        """One transaction: persist the previous matched batch and accept this batch's orders.

        Then acknowledge, and match this batch in memory; its results ride on the next
        transaction (or a transaction of their own when no new orders come).
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
        now = self.clock.now()

        async def work(session: AsyncSession) -> list[Outcome]:
            if matched is not None:
                await matched.batch.persist(session, matched.engine_seq, self.ids)
            if not requests:
                return []
            return await accept_batch(session, self.limits, requests, self.rules, self.ids, now)

        try:
            outcomes = await self._transact(work)
        except Exception as error:
            fail_all(commands, error)
            if matched is not None:
                for cancel, _ in matched.answers:
                    fail(cancel.future, error)
                release(matched.flushes)
            self._stale = True
            await self.recover()
            self._stale = False
            raise
        if matched is not None:
            self._forget_finished(matched.batch)
            for cancel, canceled in matched.answers:
                answer(cancel, canceled, self.symbol)
            self.bus.publish_many(matched.batch.messages())
            release(matched.flushes)
        accepted: dict[int, LiveOrder] = {}
        for submit, outcome in zip(submits, outcomes, strict=True):
            if isinstance(outcome, LiveOrder):
                self.live[outcome.id] = outcome
                accepted[id(submit)] = outcome
                succeed(submit.future, outcome.view(self.symbol))
            elif isinstance(outcome, OrderView):
                succeed(submit.future, outcome)
            else:
                fail(submit.future, outcome)
        batch = Batch(self.symbol, self.live, now)
        answers: list[tuple[CancelCommand, LiveOrder | DomainError]] = []
        flushes: list[asyncio.Future[None]] = []
        for command in commands:
            if isinstance(command, SubmitCommand):
                live = accepted.get(id(command))
                if live is not None:
                    self._place(live, batch)
            elif isinstance(command, CancelCommand):
                answers.append((command, self._cancel(command, batch)))
            else:
                flushes.append(command.future)
        if batch.seq is None:  # nothing happened in the book
            for cancel, canceled in answers:
                answer(cancel, canceled, self.symbol)
            release(flushes)
            return None
        return Matched(batch, self.book.seq, answers, flushes)

    async def _transact(self, work: Callable[[AsyncSession], Awaitable[list[Outcome]]]) -> list[Outcome]:
        for attempt in range(3):
            try:
                return await self.db.run(work)
            except IntegrityError:
                # Another symbol's batch inserted the same (user, client order id) at the same
                # moment; the retry sees it and answers with the original.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

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
        result: LiveOrder | DomainError = Conflict(f"Order {command.order_id} is not open.")
        for event in self.book.take_events():
            batch.apply(event)
            if isinstance(event, OrderCanceled) and event.order_id == command.order_id:
                result = self.live[command.order_id]
            elif isinstance(event, CancelRejected):
                if event.code is RejectCode.NOT_ORDER_OWNER:
                    result = Conflict("That order belongs to another user.")
                else:
                    result = Conflict(f"Cannot cancel: {event.reason}.")
        return result

    async def _commit(self, batch: Batch) -> None:
        engine_seq = self.book.seq

        async def work(session: AsyncSession) -> None:
            await batch.persist(session, engine_seq, self.ids)

        await self.db.run(work)

    def _forget_finished(self, batch: Batch) -> None:
        for order in batch.dirty.values():
            if order.status not in LIVE_STATUSES:
                self.live.pop(order.id, None)
