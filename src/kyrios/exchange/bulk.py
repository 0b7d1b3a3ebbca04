"""Driver-level statements for the sequencer's group commit (its hot path).

SQLAlchemy compiles and type-processes every parameter set of an executemany, and even a
pre-written statement costs tens of microseconds per call on its way through the engine; a
batch runs a dozen fixed statements, some hundreds of rows each. These go through
`kyrios.core.db.Sql` on the transaction's own connection (straight on `sqlite3` for SQLite):
`?` placeholders, translated once per template, and plain tuples. Timestamps are converted once
per batch by `stamp`, in the format the `UTCDateTime` column reads back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql

Row = tuple[Any, ...]


class Bulk:
    """Hand-written statements in one session's transaction."""

    __slots__ = ("_sql",)

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    @classmethod
    async def of(cls, session: AsyncSession) -> Bulk:
        """The statements for the session's transaction."""
        return cls(await Sql.of(session))

    @property
    def dialect(self) -> str:
        """ "sqlite", "mysql" or "postgresql", for a statement each writes its own way."""
        return self._sql.dialect

    def stamp(self, when: datetime) -> Any:
        """A timezone-aware datetime as the driver stores it in a `UTCDateTime` column."""
        return self._sql.stamp(when)

    async def many(self, template: str, rows: Sequence[Row]) -> int:
        """Run `template` once per row; the rows changed (-1 when the driver cannot tell)."""
        return await self._sql.many(template, rows)

    async def fetch(self, template: str, params: Sequence[Any]) -> list[Row]:
        """Run one query; `{in}` in the template becomes as many placeholders as `params` has
        after the fixed ones, and `{lock}` a row lock where the database has one (SQLite's
        writer lock already serialises the writers)."""
        return await self._sql.all(expand(template, len(params)), params)


def expand(template: str, count: int) -> str:
    """`template` with `{in}` filled with the placeholders beyond the template's own."""
    fixed = template.count("?")
    return template.replace("{in}", ", ".join("?" * (count - fixed)))
