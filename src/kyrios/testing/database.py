"""Database set-up for tests and benchmarks: pick the server, migrate once, wipe between tests."""

from __future__ import annotations

import os

from sqlalchemy import delete, inspect, text
from sqlalchemy.engine import Connection

import kyrios.slices  # noqa: F401  (every slice's tables)
from kyrios.core.db import Database
from kyrios.core.models import Base
from kyrios.web.auth.tables import AUTH_METADATA

TEST_DATABASE_ENV = "KYRIOS_TEST_DATABASE_URL"


def test_database_url(default_sqlite_path: str) -> str:
    """The URL tests run against: `KYRIOS_TEST_DATABASE_URL` or a fresh SQLite file."""
    return os.environ.get(TEST_DATABASE_ENV) or f"sqlite+aiosqlite:///{default_sqlite_path}"


async def drop_everything(db: Database) -> None:
    """Remove every table (ours and Alembic's) so migrations start from nothing."""

    def _drop(connection: Connection) -> None:
        names = inspect(connection).get_table_names()
        if connection.dialect.name == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for name in names:
                connection.execute(text(f"DROP TABLE IF EXISTS `{name}`"))
            connection.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        elif connection.dialect.name == "postgresql":
            for name in names:
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        else:
            for name in names:
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}"'))

    async with db.engine.begin() as connection:
        await connection.run_sync(_drop)


async def wipe(db: Database) -> None:
    """Delete every row of every Kyrios table (children first: the web door's, then the slices')."""
    async with db.transaction() as session:
        for table in [*reversed(AUTH_METADATA.sorted_tables), *reversed(Base.metadata.sorted_tables)]:
            await session.execute(delete(table))
