"""Driver-level `executemany` for the sequencer's per-row statements (the group commit's hot path).

SQLAlchemy compiles and type-processes every parameter set of an executemany; for the few
fixed statements a batch repeats hundreds of times that costs more than SQLite itself. These
statements are written once with `?` placeholders, translated to the driver's paramstyle, and
sent with plain tuples. Timestamps are converted once per batch by `stamp`, in the format the
`UTCDateTime` column reads back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_PLACEHOLDER = re.compile(r"\?")


class Bulk:
    """Raw statements for one database dialect."""

    def __init__(self, dialect: str, paramstyle: str) -> None:
        self.dialect = dialect
        self.paramstyle = paramstyle
        self._cache: dict[str, str] = {}

    @classmethod
    def of(cls, session: AsyncSession) -> Bulk:
        """The statements for the session's database."""
        bind = session.get_bind()
        return cls(bind.dialect.name, bind.dialect.paramstyle)

    def sql(self, template: str) -> str:
        """`template` with its `?` placeholders in the driver's style."""
        cached = self._cache.get(template)
        if cached is not None:
            return cached
        if self.paramstyle == "qmark":
            sql = template
        elif self.paramstyle == "format":
            sql = template.replace("?", "%s")
        elif self.paramstyle == "numeric_dollar":
            counter = iter(range(1, 1000))
            sql = _PLACEHOLDER.sub(lambda _: f"${next(counter)}", template)
        else:
            raise ValueError(f"unsupported paramstyle {self.paramstyle}")
        self._cache[template] = sql
        return sql

    def stamp(self, when: datetime) -> Any:
        """A timezone-aware UTC datetime as the driver stores it in a `UTCDateTime` column."""
        naive = when.astimezone(UTC).replace(tzinfo=None)
        if self.dialect == "sqlite":
            return naive.strftime("%Y-%m-%d %H:%M:%S.%f")
        return naive

    async def many(self, session: AsyncSession, template: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Run `template` once per row; returns the rows changed (-1 when the driver cannot tell)."""
        if not rows:
            return 0
        connection = await session.connection()
        result = await connection.exec_driver_sql(self.sql(template), list(rows))
        return int(result.rowcount)

    async def fetch(
        self, session: AsyncSession, template: str, params: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """Run one query; `{in}` in the template becomes as many placeholders as `params` has after
        the fixed ones, and `{lock}` a row lock where the database has one (SQLite's writer lock
        already serialises writers)."""
        connection = await session.connection()
        result = await connection.exec_driver_sql(self.sql(self.expand(template, len(params))), tuple(params))
        return [tuple(row) for row in result.all()]

    def expand(self, template: str, count: int) -> str:
        """Fill `{in}` with the placeholders beyond the template's own, `{lock}` with a row lock.

        SQLite has no row locks; its single writer lock already serialises the writers.
        """
        fixed = template.count("?")
        lock = "" if self.dialect == "sqlite" else " FOR UPDATE"
        return template.replace("{in}", ", ".join("?" * (count - fixed))).replace("{lock}", lock)
