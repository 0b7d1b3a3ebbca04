"""Run Alembic migrations programmatically (used by `kyrios migrate`, `kyrios up` and tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from kyrios.core.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema up to `revision` on an open database."""

    def _upgrade(connection: Connection) -> None:
        config = alembic_config(db.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to `revision` (`gacha@base`, `modlog@-1`, …) on an open database."""

    def _downgrade(connection: Connection) -> None:
        config = alembic_config(db.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with db.engine.begin() as connection:
        await connection.run_sync(_downgrade)


def upgrade_sync(url: str, revision: str = "heads") -> None:
    """Blocking wrapper for the CLI."""

    async def _main() -> None:
        db = Database(url)
        try:
            await upgrade(db, revision)
        finally:
            await db.dispose()

    asyncio.run(_main())
