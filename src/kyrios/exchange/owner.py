"""The exchange lease: exactly one process per database runs the exchange (its sequencers and ids).

The owner holds the one `exchange_owner` row: a random token, its program, host and pid, when it
took the lease, its last heartbeat, and when the lease expires. It renews the lease in the
background; another process may take the row over only once it has expired. Every time is the
database's clock, so hosts with skewed clocks agree.

Invariants:
- at most one unexpired holder; a process takes the lease by inserting the row, or by updating
  it where it expired (or is already its own), in one transaction;
- the fence is real, not only a flag: every transaction that writes exchange state under the
  lease first reads the row with a shared lock and refuses unless this process still holds it.
  A takeover updates the row and so waits for such transactions; no batch of the old owner can
  commit after another process took over. (On PostgreSQL the read takes FOR KEY SHARE and the
  token is a unique key: a takeover, which changes the token, conflicts with it; a renewal does
  not, so renewals never queue behind batches.)
- an owner that fails to renew for as long as the lease lasts, or finds another holder, has lost
  the lease for good: it refuses every further write (`ExchangeUnavailable`) and tells whoever
  asked (`on_lost`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.db import Database, Sql
from kyrios.core.errors import Unavailable
from kyrios.core.i18n import N_, LazyText, lazy
from kyrios.core.models import Base, UTCDateTime

log = logging.getLogger(__name__)

LEASE_NAME = "exchange"
DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_RENEW_SECONDS = 3.0

_NOW = {
    "sqlite": "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "mysql": "SELECT UTC_TIMESTAMP(6)",
    "postgresql": "SELECT CAST(clock_timestamp() AT TIME ZONE 'UTC' AS timestamp)",
}
_FENCE = "SELECT holder FROM exchange_owner WHERE name = ?"
_SHARED_FENCE = {
    "sqlite": _FENCE,  # the writer lock already serialises every writer
    "mysql": f"{_FENCE} LOCK IN SHARE MODE",
    "postgresql": f"{_FENCE} FOR KEY SHARE",
}
_COLUMNS = ("name", "holder", "program", "host", "pid", "acquired_at", "heartbeat_at", "expires_at")
_TAKE_OVER = (
    "UPDATE exchange_owner SET holder = ?, program = ?, host = ?, pid = ?, acquired_at = ?,"
    " heartbeat_at = ?, expires_at = ? WHERE name = ? AND (expires_at < ? OR holder = ?)"
)
_RENEW = "UPDATE exchange_owner SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND holder = ?"
_RELEASE = "DELETE FROM exchange_owner WHERE name = ? AND holder = ?"
_HOLDER = "SELECT holder, program, host, pid, acquired_at, expires_at FROM exchange_owner WHERE name = ?"

TAKEN_OVER = "another process took the exchange over"
LOST_TO_ANOTHER = N_(
    "This process no longer runs the exchange (another process took the exchange over), so nothing "
    "was changed. Try again: the process that runs it now answers."
)
LOST_UNRENEWED = N_(
    "This process no longer runs the exchange (its lease could not be renewed for {seconds} s), so "
    "nothing was changed. Try again: the process that runs it now answers."
)


class ExchangeOwner(Base):
    """Who runs the exchange of this database: one row per lease (`name`), see the module docstring."""

    __tablename__ = "exchange_owner"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), unique=True)
    """A random token per process: the lease's identity (unique, see the fence)."""
    program: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExchangeUnavailable(Unavailable):
    """This process cannot change the exchange: another process runs it, or none does."""


@dataclass(frozen=True, slots=True)
class Holder:
    """The process that holds (or last held) the lease."""

    token: str
    program: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        """`kyrios up` (pid 4242 on host alpha, since 2026-03-01 12:00:00 UTC), for the log."""
        since = f"{self.acquired_at:%Y-%m-%d %H:%M:%S}"
        return f"`{self.program}` (pid {self.pid} on host {self.host}, since {since} UTC)"

    def values(self) -> dict[str, object]:
        """What a message naming the holder fills in: `program`, `pid`, `host`, `since` (a time)."""
        return {"program": self.program, "pid": str(self.pid), "host": self.host, "since": self.acquired_at}


class LeaseHeld(ExchangeUnavailable):
    """Another process holds an unexpired lease."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(
            N_(
                "The exchange is already run by `{program}` (pid {pid} on host {host}, since {since:f}); "
                "its lease runs until {until:T} and is renewed while it runs."
            ),
            **holder.values(),
            until=holder.expires_at,
        )
        self.holder = holder


async def database_now(session: AsyncSession) -> datetime:
    """The database server's clock (UTC), the one clock every would-be owner compares against."""
    sql = await Sql.of(session)
    value = await sql.scalar(_NOW[sql.dialect])
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def current_holder(session: AsyncSession) -> tuple[Holder | None, datetime]:
    """The lease's holder (None if nobody ever held it or it was released) and the database's time."""
    sql = await Sql.of(session)
    now = await database_now(session)
    row = await sql.one(_HOLDER, (LEASE_NAME,))
    if row is None:
        return None, now
    token, program, host, pid, acquired_at, expires_at = row
    return Holder(str(token), str(program), str(host), int(pid), _aware(acquired_at), _aware(expires_at)), now


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ExchangeLease:
    """This process's claim on the exchange: take it (or wait for it), keep it, fence writes with it."""

    def __init__(
        self,
        db: Database,
        *,
        program: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        renew_seconds: float = DEFAULT_RENEW_SECONDS,
    ) -> None:
        if not 0 < renew_seconds < lease_seconds:
            raise ValueError("renew the lease more often than it lasts")
        self.db = db
        self.program = program
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.token = secrets.token_hex(16)
        self.held = False
        self.lost_reason: str | None = None
        self._lost_refusal: LazyText | None = None
        self.on_lost: list[Callable[[str], None]] = []
        self._valid_until = 0.0  # monotonic: how long the last renewal keeps the lease for sure
        self._renewer: asyncio.Task[None] | None = None

    @property
    def lost(self) -> bool:
        """True once the lease was lost: this process must never write exchange state again."""
        return self.lost_reason is not None

    async def try_acquire(self) -> Holder | None:
        """Take the lease if nobody holds an unexpired one; None on success, else the holder."""
        if self.lost:
            raise self.refusal()
        started = time.monotonic()
        async with self.db.transaction() as session:
            sql = await Sql.of(session)
            now = await database_now(session)
            until = now + timedelta(seconds=self.lease_seconds)
            me = (self.token, self.program, socket.gethostname(), os.getpid(), sql.stamp(now))
            stamps = (sql.stamp(now), sql.stamp(until))
            taken = await sql.execute(
                sql.insert_ignore("exchange_owner", _COLUMNS), (LEASE_NAME, *me, *stamps)
            )
            if taken != 1:
                taken = await sql.execute(_TAKE_OVER, (*me, *stamps, LEASE_NAME, sql.stamp(now), self.token))
            if taken != 1:
                holder, _ = await current_holder(session)
                assert holder is not None
                return holder
        self.held = True
        self._valid_until = started + self.lease_seconds
        return None

    async def acquire(self) -> None:
        """Take the lease and keep renewing it; `LeaseHeld` names the holder if another process has it."""
        holder = await self.try_acquire()
        if holder is not None:
            raise LeaseHeld(holder)
        self._start_renewing()

    async def wait(self) -> None:
        """Take the lease as soon as it is free or expired (a standby), saying meanwhile who holds it."""
        seen: str | None = None
        while True:
            holder = await self.try_acquire()
            if holder is None:
                break
            if holder.token != seen:
                seen = holder.token
                log.warning(
                    "exchange: run by %s; waiting as a standby to take over once its lease "
                    "(until %s UTC, renewed while it runs) expires",
                    holder.describe(),
                    f"{holder.expires_at:%H:%M:%S}",
                )
            await asyncio.sleep(self.renew_seconds)
        log.info("exchange: lease taken (pid %d)", os.getpid())
        self._start_renewing()

    async def release(self) -> None:
        """Stop renewing and give the lease up (a standby takes over at once)."""
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
            self._renewer = None
        if not self.held:
            return
        self.held = False
        if self.lost:
            return
        async with self.db.transaction() as session:
            await (await Sql.of(session)).execute(_RELEASE, (LEASE_NAME, self.token))

    async def fence(self, session: AsyncSession) -> None:
        """Refuse (`ExchangeUnavailable`) unless this process still holds the lease; call it first in
        every transaction that writes exchange state: it share-locks the lease row until the commit."""
        if not self.held or self.lost:
            raise self.refusal()
        sql = await Sql.of(session)
        holder = await sql.scalar(_SHARED_FENCE[sql.dialect], (LEASE_NAME,))
        if holder != self.token:
            self.lose(TAKEN_OVER, lazy(LOST_TO_ANOTHER))
            raise self.refusal()

    def lose(self, reason: str, refusal: LazyText) -> None:
        """Give up for good: refuse every further write (saying `refusal`) and tell the `on_lost`
        listeners `reason` (English, for the log)."""
        if self.lost:
            return
        self.lost_reason = reason
        self._lost_refusal = refusal
        log.error("exchange: this process lost its lease (%s) and stops taking orders", reason)
        for listener in self.on_lost:
            listener(reason)

    def refusal(self) -> ExchangeUnavailable:
        """The error for a write this process may not make (it lost the lease, or never held it)."""
        if self._lost_refusal is not None:
            return ExchangeUnavailable(self._lost_refusal.msgid, **self._lost_refusal.params)
        return ExchangeUnavailable("This process does not run the exchange, so nothing was changed.")

    def _start_renewing(self) -> None:
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_forever(), name="exchange-lease")

    async def _renew_forever(self) -> None:
        while not self.lost:
            await asyncio.sleep(self.renew_seconds)
            started = time.monotonic()
            try:
                still_mine = await self._renew()
            except Exception as error:  # the database is unreachable: keep trying while the lease lasts
                if time.monotonic() >= self._valid_until:
                    self.lose(
                        f"it could not be renewed for {self.lease_seconds:g} s: {error}",
                        lazy(LOST_UNRENEWED, seconds=self.lease_seconds),
                    )
                else:
                    log.warning("exchange: renewing the lease failed (%s); trying again", error)
                continue
            if still_mine:
                self._valid_until = started + self.lease_seconds
            else:
                self.lose(TAKEN_OVER, lazy(LOST_TO_ANOTHER))

    async def _renew(self) -> bool:
        async with self.db.transaction() as session:
            sql = await Sql.of(session)
            now = await database_now(session)
            until = now + timedelta(seconds=self.lease_seconds)
            changed = await sql.execute(_RENEW, (sql.stamp(now), sql.stamp(until), LEASE_NAME, self.token))
        return changed == 1
