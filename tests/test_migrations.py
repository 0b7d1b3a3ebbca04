"""Migrations build exactly the schema the models declare, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from kyrios.core.models import Base
from kyrios.runtime import Runtime


async def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with runtime.db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
