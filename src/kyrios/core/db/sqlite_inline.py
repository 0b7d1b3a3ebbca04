"""An aiosqlite-shaped adapter that runs SQLite calls inline on the event loop thread.

aiosqlite sends every call to a helper thread and back; a Kyrios command makes a dozen small
statements, and those thread hops cost far more than the statements themselves (a local
SQLite statement takes microseconds). Writes in one process are already serialised by
`Database`'s write lock, so running them inline loses no concurrency: readers in WAL mode
never wait, and only a writer in *another* process can make a statement wait (bounded by
`busy_timeout`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

BUSY_TIMEOUT_MS = 5000


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
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, uri=uri)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return InlineConnection(conn)

    return connect
