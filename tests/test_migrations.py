"""Migrations build exactly the schema the models declare, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from kyrios.core.models import Base
from kyrios.runtime import Runtime
from kyrios.web.auth.tables import AUTH_METADATA


async def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        both = [Base.metadata, AUTH_METADATA]  # the slices' tables and the web door's own
        return list(compare_metadata(context, both))  # type: ignore[arg-type]

    async with runtime.db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
