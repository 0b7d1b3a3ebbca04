"""What restore needs to know of a database: its schema heads, whether it holds data, how to empty
it, and scratch databases (created beside it on the same server) for `kyrios backup verify`."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from kyrios.core.db import normalise_url
from kyrios.ops.backup.archive import BackupError

ALEMBIC_TABLE = "alembic_version"


def _quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def _unreachable(url: URL, error: Exception) -> BackupError:
    shown = url.render_as_string(hide_password=True)
    return BackupError(f"cannot reach the database {shown}: {str(error).splitlines()[0]}")


async def schema_heads(url: URL) -> list[str]:
    """The Alembic revisions the database is at (empty for an unmigrated one)."""
    if url.get_backend_name() == "sqlite" and not await asyncio.to_thread(Path(url.database or "").is_file):
        raise BackupError(f"there is no SQLite database at {url.database}")

    def heads(sync: Connection) -> list[str]:
        if ALEMBIC_TABLE not in inspect(sync).get_table_names():
            return []
        rows = sync.execute(text(f"SELECT version_num FROM {ALEMBIC_TABLE}"))  # noqa: S608
        return sorted(str(row[0]) for row in rows)

    return await _inspected(url, heads)


async def tables_with_rows(url: URL) -> list[str]:
    """The tables holding at least one row (Alembic's bookkeeping aside)."""
    if url.get_backend_name() == "sqlite" and not await asyncio.to_thread(Path(url.database or "").exists):
        return []

    def filled(sync: Connection) -> list[str]:
        names = [n for n in inspect(sync).get_table_names() if n != ALEMBIC_TABLE]
        return [
            name
            for name in sorted(names)
            if sync.execute(text(f"SELECT 1 FROM {_quote(sync, name)} LIMIT 1")).first()  # noqa: S608
        ]

    return await _inspected(url, filled)


async def _inspected(url: URL, look: Callable[[Connection], list[str]]) -> list[str]:
    """`look` run on a connection of its own; an unreachable server is a `BackupError`."""
    try:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()
    except (DBAPIError, OSError) as error:
        raise _unreachable(url, error) from error


# What PostgreSQL keeps beside tables (keyed by dialect: the template test runs each on its own).
_SEQUENCES = {"postgresql": "SELECT sequence_name FROM information_schema.sequences"}
_ENUM_TYPES = {
    "postgresql": "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
    " WHERE n.nspname = current_schema() AND t.typtype = 'e'"
}


async def drop_all(url: URL) -> None:
    """Remove every table, and on PostgreSQL every sequence and type left in the schema too."""
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return

    def drop(sync: Connection) -> None:
        names = inspect(sync).get_table_names()
        if sync.dialect.name == "mysql":
            sync.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for name in names:
                sync.execute(text(f"DROP TABLE IF EXISTS {_quote(sync, name)}"))
            sync.execute(text("SET FOREIGN_KEY_CHECKS=1"))
            return
        for name in names:
            sync.execute(text(f"DROP TABLE IF EXISTS {_quote(sync, name)} CASCADE"))
        for (name,) in sync.execute(text(_SEQUENCES["postgresql"])):
            sync.execute(text(f"DROP SEQUENCE IF EXISTS {_quote(sync, name)} CASCADE"))
        for (name,) in sync.execute(text(_ENUM_TYPES["postgresql"])):
            sync.execute(text(f"DROP TYPE IF EXISTS {_quote(sync, name)} CASCADE"))

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(drop)
    finally:
        await engine.dispose()


def new_scratch_url(url: URL, scratch_dir: Path) -> URL:
    """A URL for a scratch database next to `url`: a file in `scratch_dir`, or a new database name."""
    if url.get_backend_name() == "sqlite":
        return url.set(database=str(scratch_dir / "scratch.db"))
    return url.set(database=f"{str(url.database)[:40]}_scratch_{secrets.token_hex(4)}")  # ≤ 64 characters


async def create_database(url: URL) -> None:
    """Create the (server) database `url` names, connecting through its server's default one."""
    await _on_server(url, "CREATE DATABASE {name}")


async def drop_database(url: URL) -> None:
    """Drop the (server) database `url` names; a SQLite file is left to its temporary directory."""
    await _on_server(url, "DROP DATABASE IF EXISTS {name}")


async def _on_server(url: URL, statement: str) -> None:
    """Run `statement` about `url`'s database (quoted into `{name}`) from the server's default one."""
    if url.get_backend_name() == "sqlite":
        return
    admin = url.set(database="postgres" if url.get_backend_name() == "postgresql" else "information_schema")
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote(str(url.database))
            await connection.execute(text(statement.format(name=quoted)))
    finally:
        await engine.dispose()


def parse(url: str) -> URL:
    """A database URL with its async driver."""
    return normalise_url(url)
