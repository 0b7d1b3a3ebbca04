"""Engine, sessions and the one `transaction()` every multi-table change goes through.

SQLite has one writer at a time; instead of letting concurrent transactions fight over the
file lock (busy waits, "database is locked"), writes inside one process queue on an asyncio
lock and each runs as `BEGIN IMMEDIATE`. MariaDB/PostgreSQL run transactions concurrently and
a deadlock or serialization failure retries the whole unit of work.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Table, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import Insert

from kyrios.core.db.cache import SESSION_KEY as CACHE_KEY
from kyrios.core.db.cache import VersionedCache
from kyrios.core.db.checkpoint import WalCheckpointer
from kyrios.core.db.group_commit import GroupCommitter
from kyrios.core.db.sql import Sql
from kyrios.core.db.sqlite_inline import InlineConnection, inline_connector

if TYPE_CHECKING:
    from kyrios.ops.metrics import DatabaseMetrics

T = TypeVar("T")

RETRYABLE_MYSQL_CODES = {1213, 1205}  # deadlock, lock wait timeout
RETRYABLE_PG_STATES = {"40001", "40P01"}  # serialization failure, deadlock
MAX_ATTEMPTS = 12
SQLITE_POOL_SIZE = 64
"""Connections a SQLite `Database` keeps open (and as many more it opens for a burst)."""


def normalise_url(url: str) -> URL:
    """Pick the async driver for a plain URL (`sqlite:///`, `mysql://`, `postgresql://`)."""
    parsed = make_url(url)
    drivers = {"sqlite": "aiosqlite", "mysql": "asyncmy", "mariadb": "asyncmy", "postgresql": "asyncpg"}
    backend = parsed.get_backend_name()
    if backend == "mariadb":
        parsed = parsed.set(drivername="mysql+asyncmy")
    elif "+" not in parsed.drivername:
        driver = drivers.get(backend)
        if driver:
            parsed = parsed.set(drivername=f"{backend}+{driver}")
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def is_retryable(exc: BaseException) -> bool:
    """True for deadlocks and serialization failures that a retry resolves."""
    return retry_reason(exc) is not None


def retry_reason(exc: BaseException) -> str | None:
    """Why a retry resolves `exc` (`deadlock`, `lock_timeout`, `serialization`, `busy`), or None."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in RETRYABLE_MYSQL_CODES:
        return "deadlock" if args[0] == 1213 else "lock_timeout"
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    if sqlstate in RETRYABLE_PG_STATES:
        return "deadlock" if sqlstate == "40P01" else "serialization"
    return "busy" if "database is locked" in str(orig) else None


class Database:
    """One database: its engine, its session factory and its write discipline."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.dialect = self.url.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = self.url.database or ":memory:"
            if database == ":memory:":
                raise ValueError("use a SQLite file: an in-memory database is not shared between connections")
            kwargs["async_creator"] = inline_connector(database, uri=database.startswith("file:"))
            # Every concurrent request holds a read connection for a moment; beyond the pool's
            # size each one would be opened (pragmas, schema parse) and closed again, request
            # after request. Idle SQLite connections cost a file handle, so keep plenty.
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)
            self.checkpointer: WalCheckpointer | None = WalCheckpointer(
                database, uri=database.startswith("file:")
            )
        else:
            self.checkpointer = None
            kwargs.update(
                pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True, pool_recycle=1800
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self.cache = VersionedCache()
        info = {CACHE_KEY: self.cache}
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._reader = async_sessionmaker(
            self.engine.execution_options(kyrios_readonly=True), expire_on_commit=False, info=info
        )
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        self.group_commit: GroupCommitter | None = None
        if self.checkpointer is not None:
            self.checkpointer.start()
        if self.dialect == "sqlite":
            self._install_sqlite_begin()
            self.group_commit = GroupCommitter(
                self._batch_transaction, self._run_alone, on_abort=self.cache.clear
            )
        self._batch_session: AsyncSession | None = None
        self.metrics: DatabaseMetrics | None = None

    def instrument(self, metrics: DatabaseMetrics) -> None:
        """Time statements, write-lock waits, retries and group-commit batches into `metrics`."""
        self.metrics = metrics
        if self.group_commit is not None:
            self.group_commit.on_batch = metrics.batch_size.observe
        observe = metrics.statement_seconds.observe
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "before_cursor_execute")
        def _started(conn: Connection, *_: Any) -> None:
            conn.info["kyrios_started"] = time.perf_counter()

        @event.listens_for(sync_engine, "after_cursor_execute")
        def _finished(conn: Connection, *_: Any) -> None:
            started = conn.info.pop("kyrios_started", None)
            if started is not None:
                observe(time.perf_counter() - started)

    @asynccontextmanager
    async def _writer(self) -> AsyncIterator[None]:
        """Hold this process's SQLite writer lock (timing the wait when instrumented)."""
        assert self._write_lock is not None
        if self.metrics is None:
            async with self._write_lock:
                yield
            return
        started = time.perf_counter()
        async with self._write_lock:
            self.metrics.lock_wait_seconds.observe(time.perf_counter() - started)
            yield

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default."""
        return self.dialect == "sqlite"

    def _install_sqlite_begin(self) -> None:
        # The connection itself (sqlite_inline) sets WAL, foreign keys and busy_timeout, and
        # leaves BEGIN to us, so that SAVEPOINTs work and writers take the lock up front.
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            readonly = conn.get_execution_options().get("kyrios_readonly", False)
            statement = "BEGIN" if readonly else "BEGIN IMMEDIATE"
            pooled = conn.connection
            driver = pooled.driver_connection
            if not isinstance(driver, InlineConnection):
                conn.exec_driver_sql(statement)
            elif not driver.try_begin(statement):  # straight to sqlite3: no statement machinery
                # Another process holds the lock: wait for it from a coroutine, so the event
                # loop runs meanwhile (this synchronous hook runs inside SQLAlchemy's greenlet).
                adapted = pooled.dbapi_connection
                assert isinstance(adapted, AdaptedConnection)
                adapted.run_async(lambda inline: inline.begin_when_free(statement))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        if self._write_lock is None:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        async with self._writer(), self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _batch_transaction(self) -> AsyncIterator[AsyncSession]:
        """`transaction()` for group commit: one session object reused batch after batch."""
        assert self._write_lock is not None
        if self._batch_session is None:
            self._batch_session = self.sessionmaker()
        session = self._batch_session
        try:
            async with self._writer(), session.begin():
                yield session
        finally:
            Sql.forget(session)  # its connection went back to the pool with the commit

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only; never takes the write lock."""
        async with self._reader() as session:
            yield session

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` as one all-or-nothing unit, retrying it whole after a deadlock.

        On SQLite, units that queue for the writer share a transaction (group commit, one
        savepoint each); `work` returns only after its changes are committed either way.
        """
        if self.group_commit is not None:
            result: T = await self.group_commit.submit(work)
            return result
        return await self._run_alone(work)

    async def _run_alone(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction of its own, retrying it whole after a deadlock."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.transaction() as session:
                    return await work(session)
            except DBAPIError as exc:
                reason = retry_reason(exc)
                if attempt == MAX_ATTEMPTS or reason is None:
                    raise
                if self.metrics is not None:
                    self.metrics.retried(reason)
                # Jittered back-off so the transactions that collided do not collide again.
                await asyncio.sleep(random.uniform(0, 0.01 * attempt))
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        """Close every pooled connection (after the commands already submitted are done)."""
        if self.group_commit is not None:
            await self.group_commit.aclose()
        if self._batch_session is not None:
            await self._batch_session.close()
            self._batch_session = None
        if self.checkpointer is not None:
            self.checkpointer.stop()
        await self.engine.dispose()


def insert_ignore(session: AsyncSession, table: type[Any] | Table, values: Mapping[str, Any]) -> Insert:
    """An INSERT that silently does nothing when a unique key already exists."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(**values).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(**values).on_conflict_do_nothing()
    from sqlalchemy import insert

    return insert(table).values(**values).prefix_with("IGNORE")
