"""`kyrios backup` / `restore` / `backup verify` on the test database (SQLite, MariaDB or PostgreSQL):
a populated database comes back table for table, a damaged or wrong-key backup changes nothing,
retention keeps exactly the right files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy.engine import URL

from kyrios.core.clock import FrozenClock
from kyrios.ops.backup import BackupError, create_backup, databases, restore, verify_newest
from kyrios.ops.backup.retention import backup_name, to_delete
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from tests.ops.backup_helpers import FILLED_TABLES, populate, snapshot

KEY = "correct horse battery staple"


@pytest.fixture
def backup_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings with a backup directory and an encryption key."""
    return settings.model_copy(update={"backup_dir": tmp_path / "backups", "backup_key": SecretStr(KEY)})


@pytest.fixture
async def scratch(database_url: str, tmp_path: Path) -> AsyncIterator[URL]:
    """An empty database beside the test database (a new one on the same server), dropped after."""
    (tmp_path / "scratch").mkdir()
    url = databases.new_scratch_url(databases.parse(database_url), tmp_path / "scratch")
    await databases.create_database(url)
    try:
        yield url
    finally:
        await databases.drop_database(url)


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


async def test_a_populated_database_comes_back_table_for_table(
    runtime: Runtime, clock: FrozenClock, backup_settings: Settings, scratch: URL
) -> None:
    await populate(runtime, clock)
    source = databases.parse(backup_settings.database_url)
    before = await snapshot(source)
    assert all(before[table] for table in FILLED_TABLES), {t: len(before[t]) for t in FILLED_TABLES}

    made = await create_backup(backup_settings, now=clock.now())
    assert made.manifest.encryption is not None and made.manifest.kind == source.get_backend_name()
    assert "0014_economy_earn" in made.manifest.schema_heads
    assert gauge("kyrios_backup_size_bytes") == made.path.stat().st_size
    assert gauge("kyrios_backup_last_success_timestamp_seconds")

    await restore(backup_settings, made.path, into=scratch)
    assert await snapshot(scratch) == before
    await restore(backup_settings, made.path, into=scratch, force=True)  # --force: over data, all replaced
    assert await snapshot(scratch) == before

    verified = await verify_newest(backup_settings)
    assert verified.ok and verified.path == made.path, verified.problems
    assert gauge("kyrios_backup_verify_ok") == 1.0


async def test_verify_fails_and_says_why_when_the_restored_books_do_not_balance(
    runtime: Runtime, clock: FrozenClock, backup_settings: Settings
) -> None:
    await populate(runtime, clock)
    async with runtime.db.transaction() as session:  # points without their ledger row
        from sqlalchemy import text

        await session.execute(text("UPDATE economy_account SET points = points + 1 WHERE user_id = 42"))
    await create_backup(backup_settings, now=clock.now())
    verified = await verify_newest(backup_settings)
    assert not verified.ok
    assert any("user 42" in problem and "ledger" in problem for problem in verified.problems)
    assert gauge("kyrios_backup_verify_ok") == 0.0


async def test_a_damaged_or_wrong_key_backup_is_refused_and_changes_nothing(
    runtime: Runtime, clock: FrozenClock, backup_settings: Settings, scratch: URL
) -> None:
    await populate(runtime, clock)
    made = await create_backup(backup_settings, now=clock.now())
    empty = await snapshot(scratch)

    wrong = backup_settings.model_copy(update={"backup_key": SecretStr("not the key")})
    with pytest.raises(BackupError, match=r"the key does not open .*nothing was restored"):
        await restore(wrong, made.path, into=scratch)
    keyless = backup_settings.model_copy(update={"backup_key": None})
    with pytest.raises(BackupError, match="is encrypted: set KYRIOS_BACKUP_KEY"):
        await restore(keyless, made.path, into=scratch)

    damaged = made.path.with_name("damaged.backup")
    data = bytearray(made.path.read_bytes())
    data[-100] ^= 0x01
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="is damaged: its checksum does not match"):
        await restore(backup_settings, damaged, into=scratch)
    with pytest.raises(BackupError, match="is not a Kyrios backup"):
        await restore(backup_settings, Path(__file__), into=scratch)
    assert await snapshot(scratch) == empty

    # The live database holds data: restoring over it needs --force.
    live = databases.parse(backup_settings.database_url)
    before = await snapshot(live)
    with pytest.raises(BackupError, match=r"already holds data .*pass --force"):
        await restore(backup_settings, made.path)
    assert await snapshot(live) == before


def test_retention_keeps_the_newest_of_each_recent_day_and_week() -> None:
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)  # a Thursday
    names = [backup_name(start + timedelta(days=d)) for d in range(120)]
    names += [backup_name(start + timedelta(days=119, hours=12))]  # a second backup on the last day
    names += ["status.json", "notes.txt"]
    removed = to_delete(names, daily=7, weekly=13)
    kept = sorted(set(names) - set(removed) - {"status.json", "notes.txt"})
    last_day = start + timedelta(days=119)
    daily = [backup_name(last_day - timedelta(days=d)) for d in range(1, 7)]
    daily.append(backup_name(last_day + timedelta(hours=12)))  # the newer of the last day's two
    # The newest backup of each of the last 13 ISO weeks: every Sunday, and the last day itself.
    sundays = [d for d in range(120) if (start + timedelta(days=d)).isoweekday() == 7]
    weekly = [backup_name(start + timedelta(days=d)) for d in sundays[-12:]]
    assert kept == sorted(set(daily) | set(weekly))
    assert backup_name(last_day) in removed and "status.json" not in removed


async def test_retention_prunes_the_backup_directory_when_a_backup_is_made(
    runtime: Runtime, backup_settings: Settings
) -> None:
    directory = backup_settings.backup_dir
    directory.mkdir()
    now = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
    for days in range(1, 30):
        (directory / backup_name(now - timedelta(days=days))).write_bytes(b"old")
    tight = backup_settings.model_copy(update={"backup_keep_daily": 3, "backup_keep_weekly": 2})
    made = await create_backup(tight, now=now)
    left = sorted(p.name for p in directory.iterdir() if p.name.endswith(".backup"))
    # Days: the 20th (new), 19th, 18th. Weeks: 2026-W12 (the 20th), 2026-W11 (its Sunday, the 15th).
    expected = [backup_name(now - timedelta(days=d)) for d in (5, 2, 1)] + [made.path.name]
    assert left == sorted(expected)
    assert len(made.removed) == 29 - 3


async def test_a_database_that_is_not_there_is_a_clear_error(
    backup_settings: Settings, tmp_path: Path
) -> None:
    url = databases.parse(backup_settings.database_url)
    if url.get_backend_name() == "sqlite":
        missing = url.set(database=str(tmp_path / "nowhere.db"))
        expected = "there is no SQLite database at"
    else:
        missing = url.set(database="kyrios_no_such_database")
        expected = "cannot reach the database"
    elsewhere = backup_settings.model_copy(
        update={"database_url": missing.render_as_string(hide_password=False)}
    )
    with pytest.raises(BackupError, match=expected):
        await create_backup(elsewhere, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert not (tmp_path / "nowhere.db").exists()
    assert not list(backup_settings.backup_dir.glob("*.backup"))
