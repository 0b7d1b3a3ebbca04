"""Group commit on SQLite: shared transactions, one savepoint per command, answers only after COMMIT.

These run on a SQLite file of their own whatever the suite's database is: group commit is the
embedded database's write path (servers run transactions side by side instead).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Database, Sql
from kyrios.core.errors import InvalidInput
from kyrios.core.migrate import upgrade
from kyrios.features.guild_settings.models import GuildSettings
from kyrios.testing.database import wipe


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file shared by this module's tests."""
    path = tmp_path_factory.mktemp("group-commit") / "kyrios.db"

    async def migrate() -> None:
        db = Database(f"sqlite:///{path}")
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture
async def db(sqlite_path: Path) -> AsyncIterator[Database]:
    """A clean database on the module's SQLite file."""
    database = Database(f"sqlite:///{sqlite_path}")
    await wipe(database)
    try:
        yield database
    finally:
        await database.dispose()


def insert_guild(guild_id: int, *, fail: bool = False) -> Callable[[AsyncSession], Awaitable[int]]:
    """A unit of work that creates a guild settings row (and then fails, if asked)."""

    async def work(session: AsyncSession) -> int:
        sql = await Sql.of(session)
        await sql.execute(
            "INSERT INTO guild_settings (guild_id, disabled_features, config_version) VALUES (?, '', 0)",
            (guild_id,),
        )
        if fail:
            raise InvalidInput(f"guild {guild_id} refuses")
        return guild_id

    return work


def committed_guilds(path: Path) -> set[int]:
    """What another connection (another process, say) sees as committed."""
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT guild_id FROM guild_settings")}


async def test_concurrent_commands_share_transactions_and_each_is_answered_after_commit(
    db: Database, sqlite_path: Path
) -> None:
    assert db.group_commit is not None
    seen_after_answer: list[bool] = []

    async def command(guild_id: int) -> None:
        assert await db.run(insert_guild(guild_id)) == guild_id
        seen_after_answer.append(guild_id in committed_guilds(sqlite_path))

    await asyncio.gather(*(command(g) for g in range(1, 41)))
    assert all(seen_after_answer)  # nobody was told "done" before the row was durable
    assert committed_guilds(sqlite_path) == set(range(1, 41))
    assert db.group_commit.commands == 40
    assert db.group_commit.batches < 40  # they really shared transactions


async def test_a_refused_command_rolls_back_alone_and_gets_its_error(db: Database, sqlite_path: Path) -> None:
    results = await asyncio.gather(
        db.run(insert_guild(1)),
        db.run(insert_guild(2, fail=True)),
        db.run(insert_guild(3)),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], InvalidInput) and "guild 2 refuses" in results[1].message
    assert committed_guilds(sqlite_path) == {1, 3}
    assert db.group_commit is not None and db.group_commit.batches <= 2


async def test_a_database_error_reruns_the_batch_one_command_at_a_time(
    db: Database, sqlite_path: Path
) -> None:
    await db.run(insert_guild(7))
    results = await asyncio.gather(
        db.run(insert_guild(1)),
        db.run(insert_guild(7)),  # duplicate key: an IntegrityError, not a refusal
        db.run(insert_guild(3)),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], IntegrityError)
    assert committed_guilds(sqlite_path) == {1, 3, 7}  # each good command exactly once


async def test_a_batch_rolled_back_whole_drops_the_caches(db: Database) -> None:
    await db.run(insert_guild(7))
    db.cache.put("anything", 1, 0, "read inside the batch")  # e.g. rows an earlier command wrote
    results = await asyncio.gather(db.run(insert_guild(1)), db.run(insert_guild(7)), return_exceptions=True)
    assert isinstance(results[1], IntegrityError)
    assert db.cache.get("anything", 1, 0) is None


async def test_a_command_never_sees_the_orm_objects_of_the_one_before_it(db: Database) -> None:
    await db.run(insert_guild(5))

    async def load_then_change_underneath(session: AsyncSession) -> GuildSettings:
        row = (await session.execute(select(GuildSettings).where(GuildSettings.guild_id == 5))).scalar_one()
        sql = await Sql.of(session)
        await sql.execute("UPDATE guild_settings SET prefix = 'k!' WHERE guild_id = 5")
        return row  # still referenced (by its caller) while the next command runs

    async def read_prefix(session: AsyncSession) -> str | None:
        row = (await session.execute(select(GuildSettings).where(GuildSettings.guild_id == 5))).scalar_one()
        return row.prefix

    loaded, after = await asyncio.gather(db.run(load_then_change_underneath), db.run(read_prefix))
    assert loaded.prefix is None
    assert after == "k!"


async def test_closing_the_database_finishes_the_commands_already_submitted(
    db: Database, sqlite_path: Path
) -> None:
    commands = [asyncio.create_task(db.run(insert_guild(g))) for g in (11, 12, 13)]
    await asyncio.sleep(0)  # submitted, not yet run
    await db.dispose()
    assert committed_guilds(sqlite_path) == {11, 12, 13}  # before dispose returned
    assert [await c for c in commands] == [11, 12, 13]
