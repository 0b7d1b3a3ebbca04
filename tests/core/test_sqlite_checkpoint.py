"""The write-ahead log is checkpointed by a helper thread, not by some unlucky commit."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from kyrios.core.db import Database, Sql
from kyrios.core.migrate import upgrade
from kyrios.testing.emulator.traffic import WAIT_SECONDS


def rows_in_the_database_file(path: Path) -> int:
    """Rows of guild_settings in the main file itself, ignoring the WAL (what a checkpoint moved)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM guild_settings").fetchone()[0])
        except sqlite3.DatabaseError:  # no table there yet, or a torn read while a checkpoint writes
            return -1


async def test_commits_reach_the_database_file_without_a_commit_checkpointing(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}")
    try:
        await upgrade(db)
        for guild_id in range(1, 21):  # a few dozen WAL pages: far below SQLite's own threshold
            async with db.transaction() as session:
                sql = await Sql.of(session)
                await sql.execute(
                    "INSERT INTO guild_settings (guild_id, disabled_features, config_version)"
                    " VALUES (?, '', 0)",
                    (guild_id,),
                )
        checkpointer = db.checkpointer
        assert checkpointer is not None
        seen = -1
        deadline = time.monotonic() + WAIT_SECONDS  # a busy host may not schedule the thread for a while
        while time.monotonic() < deadline:  # it counts a checkpoint only after it has written the file
            seen = rows_in_the_database_file(path)
            if seen == 20 and checkpointer.checkpoints > 0:
                break
            await asyncio.sleep(0.02)
        assert seen == 20
        assert checkpointer.checkpoints > 0
    finally:
        await db.dispose()
    assert not any(t.name == "kyrios-wal-checkpoint" and t.is_alive() for t in threading.enumerate())
