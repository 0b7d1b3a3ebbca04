"""Driver-level statements inside a session's transaction, for the hot paths of busy commands.

The ORM costs far more per statement than a database does for a small indexed statement
(SQLite answers in microseconds). `Sql` runs hand-written statements on the session's own
connection, so they share its transaction: on SQLite straight on the `sqlite3` connection
(Kyrios's inline adapter), elsewhere through `exec_driver_sql`. Templates use `?` placeholders,
translated once per template to the driver's paramstyle; `{lock}` becomes a row lock where the
database has one (SQLite's writer lock already serialises writers) and `{share}` a shared one.
Either makes a read see the latest committed row rather than the transaction's snapshot
(MariaDB's REPEATABLE READ), as a read explaining a refused conditional update must. Mixing
with the ORM is safe as long as a transaction does not keep ORM *entities* of the rows written
here (column reads are fine); `Database` clears the identity map between the commands of one
group commit.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from kyrios.core.db.sqlite_inline import InlineConnection

_PLACEHOLDER = re.compile(r"\?")
_SESSION_KEY = "kyrios_sql"
_TEMPLATES: dict[str, dict[str, str]] = {"sqlite": {}, "mysql": {}, "postgresql": {}}
# MySQL 8 also spells it FOR SHARE, MariaDB only this way.
_SHARE_LOCKS = {"sqlite": "", "mysql": " LOCK IN SHARE MODE", "postgresql": " FOR SHARE"}

Row = tuple[Any, ...]


def translate(template: str, dialect: str) -> str:
    """`template` with `?` in the driver's paramstyle and `{lock}` / `{share}` filled for `dialect`."""
    sql = template.replace("{lock}", "" if dialect == "sqlite" else " FOR UPDATE")
    sql = sql.replace("{share}", _SHARE_LOCKS[dialect])
    if dialect == "mysql":
        sql = sql.replace("?", "%s")
    elif dialect == "postgresql":
        counter = iter(range(1, 10_000))
        sql = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)
    return sql


class Sql:
    """Hand-written statements on one session's connection and transaction."""

    __slots__ = ("_conn", "_sqlite", "_stamped", "_templates", "dialect")

    def __init__(self, dialect: str, conn: AsyncConnection, sqlite: sqlite3.Connection | None) -> None:
        self.dialect = dialect
        self._conn = conn
        self._sqlite = sqlite
        self._stamped: tuple[datetime | None, Any] = (None, None)
        self._templates = _TEMPLATES.setdefault(dialect, {})

    def _sql(self, template: str) -> str:
        sql = self._templates.get(template)
        if sql is None:
            sql = self._templates[template] = translate(template, self.dialect)
        return sql

    @property
    def has_returning(self) -> bool:
        """True when `UPDATE … RETURNING` works (SQLite 3.35+, PostgreSQL; not MariaDB)."""
        return self.dialect in ("sqlite", "postgresql")

    @classmethod
    async def of(cls, session: AsyncSession) -> Sql:
        """The statements runner for the session's current transaction (made once per session)."""
        sql: Sql | None = session.info.get(_SESSION_KEY)
        if sql is not None:
            return sql
        conn = await session.connection()
        dialect = conn.dialect.name
        sqlite = None
        if dialect == "sqlite":
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            if isinstance(driver, InlineConnection):
                sqlite = driver.sqlite
        sql = cls(dialect, conn, sqlite)
        session.info[_SESSION_KEY] = sql
        return sql

    @staticmethod
    def forget(session: AsyncSession) -> None:
        """Drop the cached runner (its connection ends with the session's transaction)."""
        session.info.pop(_SESSION_KEY, None)

    def insert_ignore(self, table: str, columns: Sequence[str]) -> str:
        """An INSERT template that does nothing when a unique key already exists."""
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        if self.dialect == "mysql":
            return f"INSERT IGNORE INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our identifiers
        return f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608

    def stamp(self, when: datetime) -> Any:
        """An aware datetime as a `UTCDateTime` column stores it."""
        if when is self._stamped[0]:
            return self._stamped[1]
        naive = when.astimezone(UTC).replace(tzinfo=None)
        value = naive.isoformat(" ", "microseconds") if self.dialect == "sqlite" else naive
        self._stamped = (when, value)
        return value

    def day(self, value: date) -> Any:
        """A date as a `Date` column stores it."""
        return value.isoformat() if self.dialect == "sqlite" else value

    async def execute(self, template: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the rows it changed."""
        sql = self._sql(template)
        if self._sqlite is not None:
            try:
                return self._sqlite.execute(sql, params).rowcount
            except sqlite3.Error as exc:
                raise _wrapped(sql, params, exc) from exc
        result = await self._conn.exec_driver_sql(sql, tuple(params))
        return int(result.rowcount)

    async def many(self, template: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run one statement per parameter set; the rows changed in all (-1 when the driver cannot tell)."""
        if not rows:
            return 0
        sql = self._sql(template)
        if self._sqlite is not None:
            try:
                return self._sqlite.executemany(sql, rows).rowcount
            except sqlite3.Error as exc:
                raise _wrapped(sql, rows, exc) from exc
        result = await self._conn.exec_driver_sql(sql, [tuple(row) for row in rows])
        return int(result.rowcount)

    async def one(self, template: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        sql = self._sql(template)
        if self._sqlite is not None:
            try:
                row: Row | None = self._sqlite.execute(sql, params).fetchone()
            except sqlite3.Error as exc:
                raise _wrapped(sql, params, exc) from exc
            return row
        result = await self._conn.exec_driver_sql(sql, tuple(params))
        first = result.first()
        return tuple(first) if first is not None else None

    async def all(self, template: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""
        sql = self._sql(template)
        if self._sqlite is not None:
            try:
                return self._sqlite.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _wrapped(sql, params, exc) from exc
        result = await self._conn.exec_driver_sql(sql, tuple(params))
        return [tuple(row) for row in result.all()]

    async def scalar(self, template: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.one(template, params)
        return row[0] if row is not None else None


def _wrapped(sql: str, params: Any, exc: sqlite3.Error) -> DBAPIError:
    """The SQLAlchemy exception (IntegrityError, OperationalError, …) for a sqlite3 error."""
    wrapped = DBAPIError.instance(sql, params, exc, sqlite3.Error)
    assert isinstance(wrapped, DBAPIError)
    return wrapped
