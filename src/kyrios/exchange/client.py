"""`ExchangeClient`: how everything but the exchange's owner talks to the exchange.

One process per database owns the exchange (`owner.ExchangeLease`). Inside it, `InProcessClient`
calls the running `Exchange` directly; admin writes run in transactions fenced by the lease.
Elsewhere, `exchange.streams.StreamClient` sends the commands to the owner over Redis; without
Redis (or with `KYRIOS_EXCHANGE_OVER_REDIS=0`), `DetachedClient` answers reads from the database
and refuses every write, saying why and what to do: it never writes behind the owner's back.

Invariants:
- reads come from the database (or the owner's live book for `depth`) and change nothing;
- a write happens only in the process that holds the lease, inside a transaction that checked
  the lease first; anywhere else it is refused with `ExchangeUnavailable` and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import InMemoryBus
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, NotFound, Unavailable
from kyrios.core.i18n import N_
from kyrios.exchange import accounts, assets, candles, history, net_worth, standings
from kyrios.exchange.engine import Depth, OrderType, Side
from kyrios.exchange.history import ExecutionView, LedgerEntryView, Page
from kyrios.exchange.models import (
    LIVE_STATUSES,
    AssetStatus,
    ExchangeAsset,
    ExchangeOrder,
    OrderStatus,
    Role,
)
from kyrios.exchange.net_worth import Change, Period, Point
from kyrios.exchange.owner import ExchangeLease, ExchangeUnavailable, current_holder
from kyrios.exchange.parties import TradeParty, trade_parties
from kyrios.exchange.rules import ExchangeRules, change_rules, stored_rules
from kyrios.exchange.schemas import (
    AssetListing,
    AssetView,
    BookLevel,
    OrderRequest,
    OrderView,
    PortfolioView,
    UserView,
)
from kyrios.exchange.service import Exchange
from kyrios.exchange.standings import Quote

T = TypeVar("T")
CANDLES_WHILE_TRADING = N_(
    "The exchange is trading in this process, so the candles were not rebuilt: stop it, then run "
    "`kyrios exchange rebuild-candles`."
)


class ExchangeClient(Protocol):
    """Every operation on the exchange that a door (REST, `/stock`, the CLI) needs."""

    async def submit_order(self, user_id: int, request: OrderRequest) -> OrderView:
        """Place an order; returns once it is durable (acknowledged)."""
        ...

    async def cancel_order(
        self, user_id: int, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView:
        """Cancel one of the user's open orders, named by id or by client order id."""
        ...

    async def cancel_all(self, user_id: int, symbol: str) -> list[OrderView]:
        """Cancel every open order of the user in `symbol`; returns the ones canceled."""
        ...

    async def orders(
        self, user_id: int, *, symbol: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[OrderView]:
        """The user's orders, newest first."""
        ...

    async def portfolio(self, user_id: int) -> PortfolioView:
        """Cash, reserved cash and positions with P&L."""
        ...

    async def depth(self, symbol: str, levels: int = 10) -> Depth:
        """The aggregated book of `symbol`, best levels first."""
        ...

    async def book(self, symbol: str, levels: int = 10) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) of resting limit orders with their counts, as recorded in the database."""
        ...

    async def assets(self) -> list[AssetView]:
        """Every listed symbol."""
        ...

    async def create_asset(self, listing: AssetListing) -> AssetView:
        """List a symbol; the market account holds its whole supply."""
        ...

    async def set_status(self, symbol: str, status: AssetStatus) -> None:
        """Halt or resume a symbol."""
        ...

    async def users(self) -> list[UserView]:
        """Every account with its cash."""
        ...

    async def find_user(self, name_or_id: str) -> UserView:
        """The account named by username or id; `NotFound` otherwise."""
        ...

    async def create_user(self, username: str, *, role: Role, discord_id: int | None = None) -> UserView:
        """Open an account."""
        ...

    async def deposit(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Give a user game cash; returns the free cash after."""
        ...

    async def withdraw(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Take free game cash from a user; returns the free cash after."""
        ...

    async def rules(self) -> ExchangeRules:
        """The admin's risk and pacing rules."""
        ...

    async def rebuild_candles(self, symbol: str | None = None) -> int:
        """Recompute the candles of `symbol` (None: all) from the executions; returns the bars written."""
        ...

    async def trader(self, discord_id: int, name: str) -> UserView:
        """The exchange account of a Discord user, opened (as a PLAYER named `name`) at first use."""
        ...

    async def quote(self, symbol: str) -> Quote:
        """The symbol's last price and its change over the last 24 hours."""
        ...

    async def leaderboard(self, limit: int = 10, period: Period = Period.ALL) -> list[Change]:
        """The top players: by net worth at the last prices, or by trading change over `period`."""
        ...

    async def net_worth_history(self, user_id: int, period: Period) -> tuple[Change, list[Point]]:
        """The player's change over `period` and the points of its net-worth chart."""
        ...

    async def trade_parties(self, symbol: str, seq: int) -> list[TradeParty]:
        """The Discord users on either side of one trade (bots and the issuer left out)."""
        ...

    async def deposit_within(
        self,
        session: AsyncSession,
        discord_id: int,
        name: str,
        amount_cents: int,
        *,
        now: datetime,
        detail: str,
    ) -> int:
        """Give a Discord user's account (opened at first use) game cash inside the caller's
        transaction, fenced by the lease; returns the free cash after. See `InProcessClient`."""
        ...

    async def withdraw_within(
        self, session: AsyncSession, discord_id: int, amount_cents: int, *, now: datetime, detail: str
    ) -> int:
        """Take free game cash from a Discord user's account inside the caller's transaction,
        fenced by the lease; returns the free cash after."""
        ...

    async def change_rules(self, **changes: Any) -> ExchangeRules:
        """Change some of the admin's rules; returns the rules now in force."""
        ...

    async def order_page(
        self,
        user_id: int,
        *,
        symbol: str | None = None,
        status: OrderStatus | None = None,
        open_only: bool = False,
        client_order_id: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> Page[OrderView]:
        """A page of the user's orders, newest first (`history.order_page`)."""
        ...

    async def own_order(self, user_id: int, order_id: int) -> OrderView | None:
        """The user's order `order_id`; None when there is none or it is another user's."""
        ...

    async def live_order_count(self, user_id: int, symbol: str) -> int:
        """How many of the user's orders in `symbol` are live."""
        ...

    async def has_client_order(self, user_id: int, client_order_id: str) -> bool:
        """True when the user already has an order with this client order id."""
        ...

    async def execution_page(
        self, user_id: int, *, symbol: str | None = None, before: int | None = None, limit: int = 100
    ) -> Page[ExecutionView]:
        """A page of the user's trades, newest first."""
        ...

    async def ledger_page(
        self, user_id: int, *, before: int | None = None, limit: int = 100
    ) -> Page[LedgerEntryView]:
        """A page of the user's cash ledger, newest first."""
        ...


class DatabaseReads:
    """The read operations, answered from the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def _read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self.db.read() as session:
            return await work(session)

    async def orders(
        self, user_id: int, *, symbol: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[OrderView]:
        """The user's orders, newest first."""
        query = select(ExchangeOrder).where(ExchangeOrder.user_id == user_id)
        if symbol is not None:
            query = query.where(ExchangeOrder.symbol == symbol)
        if open_only:
            query = query.where(ExchangeOrder.status.in_(LIVE_STATUSES))
        async with self.db.read() as session:
            rows = await session.scalars(query.order_by(ExchangeOrder.id.desc()).limit(limit))
            return [OrderView.of(row) for row in rows]

    async def portfolio(self, user_id: int) -> PortfolioView:
        """Cash, reserved cash and positions with P&L."""
        return await self._read(lambda session: accounts.portfolio(session, user_id))

    async def book(self, symbol: str, levels: int = 10) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) of resting limit orders with their counts, as recorded in the database."""
        async with self.db.read() as session:
            if await session.get(ExchangeAsset, symbol) is None:
                raise NotFound("There is no symbol {symbol}.", symbol=symbol)
            return await _recorded_book(session, symbol, levels)

    async def depth(self, symbol: str, levels: int = 10) -> Depth:
        """The aggregated book of `symbol` as recorded in the database, with the `seq` it is at.

        The levels and `engine_seq` are written by the same batch, but a read-committed database
        (PostgreSQL) gives each statement its own snapshot: the seq is read before and after the
        levels, and the read repeats until no batch committed in between.
        """
        async with self.db.read() as session:
            if await session.get(ExchangeAsset, symbol) is None:
                raise NotFound("There is no symbol {symbol}.", symbol=symbol)
            for _ in range(DEPTH_READ_ATTEMPTS):
                before = await _engine_seq(session, symbol)
                bids, asks = await _recorded_book(session, symbol, levels)
                if await _engine_seq(session, symbol) == before:
                    break
            else:
                raise Unavailable("The order book is changing too fast to read; try again.")
        return Depth(
            before,
            [(level.price_cents, level.quantity) for level in bids],
            [(level.price_cents, level.quantity) for level in asks],
        )

    async def assets(self) -> list[AssetView]:
        """Every listed symbol."""
        return await self._read(assets.list_assets)

    async def users(self) -> list[UserView]:
        """Every account with its cash."""
        return await self._read(accounts.list_users)

    async def find_user(self, name_or_id: str) -> UserView:
        """The account named by username or id; `NotFound` otherwise."""

        async def work(session: AsyncSession) -> UserView:
            user = await accounts.resolve_user(session, name_or_id)
            return (await accounts.list_users(session, user.id))[0]

        return await self._read(work)

    async def rules(self) -> ExchangeRules:
        """The admin's risk and pacing rules."""
        return await self._read(stored_rules)

    async def order_page(
        self,
        user_id: int,
        *,
        symbol: str | None = None,
        status: OrderStatus | None = None,
        open_only: bool = False,
        client_order_id: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> Page[OrderView]:
        """A page of the user's orders, newest first (`history.order_page`)."""
        return await self._read(
            lambda session: history.order_page(
                session,
                user_id,
                symbol=symbol,
                status=status,
                open_only=open_only,
                client_order_id=client_order_id,
                before=before,
                limit=limit,
            )
        )

    async def own_order(self, user_id: int, order_id: int) -> OrderView | None:
        """The user's order `order_id`; None when there is none or it is another user's."""
        return await self._read(lambda session: history.own_order(session, user_id, order_id))

    async def live_order_count(self, user_id: int, symbol: str) -> int:
        """How many of the user's orders in `symbol` are live."""
        return await self._read(lambda session: history.live_order_count(session, user_id, symbol))

    async def has_client_order(self, user_id: int, client_order_id: str) -> bool:
        """True when the user already has an order with this client order id."""
        return await self._read(lambda session: history.has_client_order(session, user_id, client_order_id))

    async def execution_page(
        self, user_id: int, *, symbol: str | None = None, before: int | None = None, limit: int = 100
    ) -> Page[ExecutionView]:
        """A page of the user's trades, newest first."""
        return await self._read(
            lambda session: history.execution_page(
                session, user_id, symbol=symbol, before=before, limit=limit
            )
        )

    async def ledger_page(
        self, user_id: int, *, before: int | None = None, limit: int = 100
    ) -> Page[LedgerEntryView]:
        """A page of the user's cash ledger, newest first."""
        return await self._read(
            lambda session: history.ledger_page(session, user_id, before=before, limit=limit)
        )

    async def quote(self, symbol: str) -> Quote:
        """The symbol's last price and its change over the last 24 hours."""
        now = self.clock.now()
        return await self._read(lambda session: standings.quote(session, symbol, now))

    async def leaderboard(self, limit: int = 10, period: Period = Period.ALL) -> list[Change]:
        """The top players: by net worth at the last prices, or by trading change over `period`."""
        now = self.clock.now()
        return await self._read(lambda session: net_worth.leaderboard(session, period, now, limit))

    async def net_worth_history(self, user_id: int, period: Period) -> tuple[Change, list[Point]]:
        """The player's change over `period` and the points of its net-worth chart."""
        now = self.clock.now()
        return await self._read(lambda session: net_worth.history(session, user_id, period, now))

    async def trade_parties(self, symbol: str, seq: int) -> list[TradeParty]:
        """The Discord users on either side of one trade (bots and the issuer left out)."""
        return await self._read(lambda session: trade_parties(session, symbol, seq))

    async def _existing_trader(self, discord_id: int, name: str) -> tuple[UserView | None, str]:
        """The Discord user's account if it exists, else None and a free username for it
        (their name, with their id appended when another account has it)."""
        async with self.db.read() as session:
            user = await accounts.find_user(session, discord_id=discord_id)
            if user is not None:
                return (await accounts.list_users(session, user.id))[0], user.username
            taken = await accounts.find_user(session, username=name[:64]) is not None
        return None, (f"{name[:40]}-{discord_id}" if taken else name[:64])

    async def trader(self, discord_id: int, name: str) -> UserView:
        """The Discord user's account; reads cannot open one (see the writers' `trader`)."""
        found, _ = await self._existing_trader(discord_id, name)
        if found is None:
            raise NotFound("You have no exchange account yet.")
        return found


class InProcessClient(DatabaseReads):
    """The client in the process that owns the exchange: calls the running `Exchange` directly."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange.db, exchange.clock)
        self.exchange = exchange

    async def _write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction that first checks this process still holds the lease."""
        lease = self.exchange.lease
        async with self.db.transaction() as session:
            if lease is not None:
                await lease.fence(session)
            return await work(session)

    async def submit_order(self, user_id: int, request: OrderRequest) -> OrderView:
        """Place an order; returns once it is durable (acknowledged)."""
        return await self.exchange.submit_order(user_id, request)

    async def cancel_order(
        self, user_id: int, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView:
        """Cancel one of the user's open orders, named by id or by client order id."""
        return await self.exchange.cancel_order(user_id, order_id=order_id, client_order_id=client_order_id)

    async def cancel_all(self, user_id: int, symbol: str) -> list[OrderView]:
        """Cancel every open order of the user in `symbol`; returns the ones canceled."""
        canceled = []
        for order in await self.orders(user_id, symbol=symbol, open_only=True, limit=10_000):
            try:
                canceled.append(await self.exchange.cancel_order(user_id, order_id=order.id))
            except Conflict:
                continue  # it filled meanwhile
        return canceled

    async def depth(self, symbol: str, levels: int = 10) -> Depth:
        """The aggregated book of `symbol`, from the live book."""
        return await self.exchange.depth(symbol, levels)

    async def portfolio(self, user_id: int) -> PortfolioView:
        """Cash, reserved cash and positions with P&L, graded by the rules this exchange runs."""
        rules = self.exchange.rules
        return await self._read(lambda session: accounts.portfolio(session, user_id, rules))

    async def create_asset(self, listing: AssetListing) -> AssetView:
        """List a symbol; the market account holds its whole supply."""

        async def work(session: AsyncSession) -> AssetView:
            asset = await assets.create_asset(
                session,
                symbol=listing.symbol,
                name=listing.name,
                asset_type=listing.type,
                tick_size_cents=listing.tick_size_cents,
                supply=listing.supply,
                price_cents=listing.price_cents,
                sector=listing.sector,
                max_quantity=listing.max_quantity,
                max_notional_cents=listing.max_notional_cents,
                now=self.clock.now(),
            )
            return AssetView.model_validate(asset, from_attributes=True)

        return await self._write(work)

    async def set_status(self, symbol: str, status: AssetStatus) -> None:
        """Halt or resume a symbol (the sequencer reads it at its next batch)."""
        await self._write(lambda session: assets.set_status(session, symbol, status))

    async def create_user(self, username: str, *, role: Role, discord_id: int | None = None) -> UserView:
        """Open an account."""

        async def work(session: AsyncSession) -> UserView:
            user = await accounts.create_user(
                session, username=username, role=role, discord_id=discord_id, now=self.clock.now()
            )
            return (await accounts.list_users(session, user.id))[0]

        return await self._write(work)

    async def deposit(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Give a user game cash; returns the free cash after."""
        now = self.clock.now()
        return await self._write(
            lambda session: accounts.deposit(session, user_id, amount_cents, now=now, detail=detail)
        )

    async def withdraw(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Take free game cash from a user; returns the free cash after."""
        now = self.clock.now()
        return await self._write(
            lambda session: accounts.withdraw(session, user_id, amount_cents, now=now, detail=detail)
        )

    async def change_rules(self, **changes: Any) -> ExchangeRules:
        """Change some of the admin's rules; the sequencers apply them from their next batch."""
        return await self._write(lambda session: change_rules(session, self.clock.now(), **changes))

    async def rebuild_candles(self, symbol: str | None = None) -> int:
        """Recompute candles from the executions; refused while any book trades here (its batches
        would write bars the rebuild has not seen)."""
        if self.exchange.sequencers:
            raise Conflict(CANDLES_WHILE_TRADING)
        if symbol is not None:
            async with self.db.read() as session:
                if await session.get(ExchangeAsset, symbol) is None:
                    raise NotFound("There is no symbol {symbol}.", symbol=symbol)
        return await self._write(lambda session: candles.rebuild(session, symbol))

    async def trader(self, discord_id: int, name: str) -> UserView:
        """The Discord user's account, opened as a PLAYER at first use (a concurrent first use of
        the same user loses the unique key's race and reads the winner's account)."""
        found, username = await self._existing_trader(discord_id, name)
        if found is not None:
            return found
        try:
            return await self.create_user(username, role=Role.PLAYER, discord_id=discord_id)
        except Conflict:
            found, _ = await self._existing_trader(discord_id, name)
            if found is None:
                raise
            return found

    async def _fence(self, session: AsyncSession) -> None:
        lease = self.exchange.lease
        if lease is not None:
            await lease.fence(session)

    async def deposit_within(
        self,
        session: AsyncSession,
        discord_id: int,
        name: str,
        amount_cents: int,
        *,
        now: datetime,
        detail: str,
    ) -> int:
        """Give a Discord user's account (opened at first use) game cash in the caller's transaction.

        The one exchange write that joins another unit of work (a command moving points and cash
        together): it first share-locks the lease row like every exchange write, so it commits
        only while this process runs the exchange, and touches one cash row, which the
        sequencers' journal re-reads under its locks (as for an admin deposit).
        """
        await self._fence(session)
        user = await accounts.find_user(session, discord_id=discord_id)
        if user is None:
            taken = await accounts.find_user(session, username=name[:64]) is not None
            username = f"{name[:40]}-{discord_id}" if taken else name[:64]
            user = await accounts.create_user(
                session, username=username, role=Role.PLAYER, discord_id=discord_id, now=now
            )
        return await accounts.deposit(session, user.id, amount_cents, now=now, detail=detail)

    async def withdraw_within(
        self, session: AsyncSession, discord_id: int, amount_cents: int, *, now: datetime, detail: str
    ) -> int:
        """Take free game cash from a Discord user's account in the caller's transaction (fenced
        like `deposit_within`); refused if they have no account or not that much free cash."""
        await self._fence(session)
        user = await accounts.find_user(session, discord_id=discord_id)
        if user is None:
            raise NotFound("You have no exchange account yet.")
        return await accounts.withdraw(session, user.id, amount_cents, now=now, detail=detail)


class DetachedClient(DatabaseReads):
    """The client of a process with no route to the exchange's owner: reads only."""

    async def refusal(self) -> ExchangeUnavailable:
        """Why a write cannot be made here, and what to do (names the owner when there is one)."""
        async with self.db.read() as session:
            holder, now = await current_holder(session)
        if holder is None or holder.expires_at < now:
            return ExchangeUnavailable(
                "No process runs the exchange, so nothing was changed: start `kyrios up` "
                "(it runs the exchange), then try again."
            )
        return ExchangeUnavailable(
            "The exchange is run by `{program}` (pid {pid} on host {host}, since {since:f}) and this "
            "process has no route to it, so nothing was changed. Stop that process and try again, or "
            "give both processes the same Redis (`KYRIOS_REDIS_URL`) so that this one reaches it.",
            **holder.values(),
        )

    async def submit_order(self, user_id: int, request: OrderRequest) -> OrderView:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def cancel_order(
        self, user_id: int, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def cancel_all(self, user_id: int, symbol: str) -> list[OrderView]:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def create_asset(self, listing: AssetListing) -> AssetView:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def set_status(self, symbol: str, status: AssetStatus) -> None:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def create_user(self, username: str, *, role: Role, discord_id: int | None = None) -> UserView:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def deposit(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def withdraw(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def change_rules(self, **changes: Any) -> ExchangeRules:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def rebuild_candles(self, symbol: str | None = None) -> int:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def deposit_within(
        self,
        session: AsyncSession,
        discord_id: int,
        name: str,
        amount_cents: int,
        *,
        now: datetime,
        detail: str,
    ) -> int:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def withdraw_within(
        self, session: AsyncSession, discord_id: int, amount_cents: int, *, now: datetime, detail: str
    ) -> int:
        """Refused: see `refusal`."""
        raise await self.refusal()

    async def trader(self, discord_id: int, name: str) -> UserView:
        """The Discord user's account; opening one is refused here (see `refusal`)."""
        found, _ = await self._existing_trader(discord_id, name)
        if found is None:
            raise await self.refusal()
        return found


@asynccontextmanager
async def briefly_owned(db: Database, clock: Clock, *, program: str) -> AsyncIterator[ExchangeClient]:
    """A client for one admin command: the exchange in this process, under a lease taken for the
    command and released after it, when nobody runs the exchange; else a `DetachedClient`, whose
    writes are refused (it never writes behind the owner)."""
    lease = ExchangeLease(db, program=program)
    if await lease.try_acquire() is not None:
        yield DetachedClient(db, clock)
        return
    exchange = Exchange(db, InMemoryBus(), clock, lease=lease)  # its books open only if used
    try:
        yield InProcessClient(exchange)
    finally:
        try:
            await exchange.aclose()
        finally:
            await lease.release()


DEPTH_READ_ATTEMPTS = 5


async def _engine_seq(session: AsyncSession, symbol: str) -> int:
    seq = await session.scalar(select(ExchangeAsset.engine_seq).where(ExchangeAsset.symbol == symbol))
    return int(seq or 0)


async def _recorded_book(
    session: AsyncSession, symbol: str, levels: int
) -> tuple[list[BookLevel], list[BookLevel]]:
    """(bids, asks): the resting limit orders' levels, best first, with their counts."""
    sides: list[list[BookLevel]] = []
    for side, best_first in (
        (Side.BUY, ExchangeOrder.price_cents.desc()),
        (Side.SELL, ExchangeOrder.price_cents.asc()),
    ):
        rows = await session.execute(
            select(ExchangeOrder.price_cents, func.sum(ExchangeOrder.remaining_quantity), func.count())
            .where(
                ExchangeOrder.symbol == symbol,
                ExchangeOrder.side == side,
                ExchangeOrder.type == OrderType.LIMIT,
                ExchangeOrder.status.in_(LIVE_STATUSES),
                ExchangeOrder.priority.is_not(None),
            )
            .group_by(ExchangeOrder.price_cents)
            .order_by(best_first)
            .limit(levels)
        )
        sides.append([BookLevel(price_cents=int(p or 0), quantity=int(q), orders=int(n)) for p, q, n in rows])
    return sides[0], sides[1]
