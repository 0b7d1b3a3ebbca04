"""An aiosqlite-shaped adapter that runs SQLite calls inline on the event loop thread.

aiosqlite sends every call to a helper thread and back; a Kyrios command makes a dozen small
statements, and those thread hops cost far more than the statements themselves (a local
SQLite statement takes microseconds). Writes in one process are already serialised by
`Database`'s write lock, so running them inline loses no concurrency: readers in WAL mode
never wait for a writer, and only a writer in *another* process can make us wait.

That wait must not freeze the event loop (the gateway's heartbeat runs on it): SQLite's own
busy handler may block for at most `BUSY_TIMEOUT_MS`; when a BEGIN still finds the lock taken,
it is retried from a coroutine that sleeps between tries, until `BUSY_DEADLINE_SECONDS`. Only
BEGIN (and opening a connection) is retried: nothing has happened yet, so a retry is always
safe. Once a write transaction has begun it holds the lock, and a read transaction takes its
snapshot at BEGIN too, so later statements do not meet another process's lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self, TypeVar

T = TypeVar("T")

BUSY_TIMEOUT_MS = 20
"""The longest one SQLite call blocks the event loop waiting for another process's lock."""
BUSY_DEADLINE_SECONDS = 5.0
"""How long a BEGIN waits in all for another process's lock before it fails."""
FIRST_PAUSE_SECONDS = 0.001
LONGEST_PAUSE_SECONDS = 0.016


def is_busy(exc: BaseException) -> bool:
    """True for SQLITE_BUSY: another connection holds the lock the call needed."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


async def when_free(conn: sqlite3.Connection, call: Callable[[], T]) -> T:
    """`call()` retried while it meets another process's lock, the event loop running in between.

    Each try fails at once (busy_timeout 0) rather than blocking the loop; the pause between
    tries doubles up to `LONGEST_PAUSE_SECONDS`. The last SQLITE_BUSY is raised at the deadline.
    """
    deadline = time.monotonic() + BUSY_DEADLINE_SECONDS
    pause = FIRST_PAUSE_SECONDS
    conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            await asyncio.sleep(pause)
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or time.monotonic() + pause > deadline:
                    raise
            pause = min(2 * pause, LONGEST_PAUSE_SECONDS)
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


class InlineCursor:
    """The async cursor interface SQLAlchemy's aiosqlite adapter expects, executed synchronously."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        """Column descriptions of the last query."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """Row id of the last insert."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """Rows per fetchmany."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Self:
        """Run one statement."""
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]]) -> Self:
        """Run one statement for many parameter sets."""
        self._cursor.executemany(sql, seq_of_parameters)
        return self

    async def fetchone(self) -> Any:
        """Next row."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Next rows."""
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        """All remaining rows."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Close the cursor."""
        self._cursor.close()


class InlineConnection:
    """The async connection interface SQLAlchemy's aiosqlite adapter expects."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The `sqlite3` connection itself, for driver-level statements (`kyrios.core.db.sql`)."""
        return self._conn

    def try_begin(self, statement: str) -> bool:
        """Begin a transaction (`BEGIN` to read, `BEGIN IMMEDIATE` to write) if no other process
        keeps it waiting longer than `BUSY_TIMEOUT_MS`; False (and no transaction) otherwise."""
        try:
            self._begin(statement)
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                return False
            raise
        return True

    async def begin_when_free(self, statement: str) -> None:
        """Begin a transaction, waiting for another process's lock without blocking the loop."""
        await when_free(self._conn, lambda: self._begin(statement))

    def _begin(self, statement: str) -> None:
        conn = self._conn
        conn.execute(statement)
        if statement == "BEGIN":
            # A deferred BEGIN takes no snapshot; reading the schema cookie takes it now, so
            # this is where the transaction can meet a lock, not some later statement.
            try:
                conn.execute("PRAGMA schema_version").fetchone()
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @property
    def isolation_level(self) -> str | None:
        """Always None: Kyrios emits BEGIN itself."""
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        """A new cursor."""
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        """Run one statement on a new cursor."""
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        """Commit."""
        self._conn.commit()

    async def rollback(self) -> None:
        """Roll back."""
        self._conn.rollback()

    async def create_function(self, name: str, num_params: int, func: Callable[..., Any], **kw: Any) -> None:
        """Register a SQL function (SQLAlchemy registers REGEXP)."""
        self._conn.create_function(name, num_params, func, **kw)

    async def close(self) -> None:
        """Close (idempotent)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """Terminate: the same as close for an inline connection."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_connector(path: str, *, uri: bool = False) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` opening `path` with Kyrios's pragmas."""

    async def connect() -> InlineConnection:
        timeout = BUSY_TIMEOUT_MS / 1000
        conn = sqlite3.connect(path, timeout, isolation_level=None, check_same_thread=False, uri=uri)
        try:
            try:  # switching a file to WAL needs a lock another process may hold
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                await when_free(conn, lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()
            raise
        return InlineConnection(conn)

    return connect
