"""Run Alembic migrations programmatically (used by `kyrios migrate`, `kyrios up` and tests)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from kyrios.core.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def newer_revisions(connection: Connection, config: Config) -> list[str]:
    """The database's revisions this code does not know: a newer release migrated it."""
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    current = MigrationContext.configure(connection).get_current_heads()
    return sorted(r for r in current if r not in known)


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema up to `revision` on an open database.

    A database a newer release migrated is left as it is (a rollback runs the previous release on
    the new schema, which migrations keep additive; see README, Operations): upgrading to "heads"
    then only logs a warning, where Alembic would fail on the revisions it cannot find.
    """

    def _upgrade(connection: Connection) -> None:
        config = alembic_config(db.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        newer = newer_revisions(connection, config) if revision == "heads" else []
        if newer:
            log.warning(
                "the database schema is newer than this release (revisions %s): running on it"
                " unmigrated, as after a rollback",
                ", ".join(newer),
            )
            return
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
