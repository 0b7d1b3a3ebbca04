"""Retention: old cases, notes and stored messages go; `kyrios cleanup` and the hourly job do it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kyrios.core.clock import FrozenClock
from kyrios.features.modlog import flows
from kyrios.features.modlog.events import MemberEvent, MessageSeen, UserInfo
from kyrios.features.modlog.models import ModlogEntry, ModlogMessage, ModlogNote
from kyrios.features.modlog.retention import purge_all, run_retention_job
from kyrios.runtime import Runtime
from tests.helpers import count_rows, invoke


async def fill(rt: Runtime, clock: FrozenClock, guild_id: int) -> None:
    await invoke(rt, "modlog store", admin=True, guild_id=guild_id, state="on")
    async with rt.db.transaction() as session:
        await flows.member_joined(session, MemberEvent(guild_id, UserInfo(7, "a"), clock.now()))
        seen = MessageSeen(guild_id, 10, guild_id * 1000, 7, False, "hi", clock.now())
        await flows.message_seen(session, seen)
    async with rt.db.read() as session:
        from sqlalchemy import select

        case = (await session.scalars(select(ModlogEntry.id).where(ModlogEntry.guild_id == guild_id))).one()
    await invoke(rt, "modlog note", admin=True, guild_id=guild_id, case=case, text="watch this one")


async def test_purge_removes_what_is_older_than_each_guilds_retention(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await invoke(runtime, "settings set", admin=True, guild_id=2, retention_days=7)
    await fill(runtime, clock, 1)  # default: 30 days
    await fill(runtime, clock, 2)
    clock.advance(timedelta(days=8))
    results = await purge_all(runtime.db, now=clock.now())
    assert {(r.guild_id, r.entries, r.messages) for r in results} == {(1, 0, 0), (2, 1, 1)}
    assert await count_rows(runtime, ModlogEntry, guild_id=1) == 1
    assert await count_rows(runtime, ModlogEntry, guild_id=2) == 0
    assert await count_rows(runtime, ModlogMessage, guild_id=2) == 0
    assert await count_rows(runtime, ModlogNote) == 1
    clock.advance(timedelta(days=23))
    await purge_all(runtime.db, now=clock.now())
    assert await count_rows(runtime, ModlogEntry) == 0 and await count_rows(runtime, ModlogNote) == 0


async def test_the_scheduled_job_purges_on_the_injected_clock(runtime: Runtime, clock: FrozenClock) -> None:
    await fill(runtime, clock, 1)
    stop = asyncio.Event()
    job = asyncio.create_task(
        run_retention_job(runtime.db, clock, interval=timedelta(seconds=0.05), stop=stop)
    )
    await asyncio.sleep(0.15)
    assert await count_rows(runtime, ModlogEntry) == 1  # nothing is old yet
    clock.advance(timedelta(days=31))
    for _ in range(100):
        if await count_rows(runtime, ModlogEntry) == 0:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(job, timeout=5)
    assert await count_rows(runtime, ModlogEntry) == 0
    assert await count_rows(runtime, ModlogMessage) == 0


async def test_kyrios_cleanup_purges_and_reports(
    runtime: Runtime, clock: FrozenClock, database_url: str
) -> None:
    import os
    import subprocess
    import sys

    # The test clock stands in 2026-03; the CLI runs on the real clock, months later.
    await fill(runtime, clock, 1)
    env = {**os.environ, "KYRIOS_DATABASE_URL": database_url, "NO_COLOR": "1", "COLUMNS": "120"}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "kyrios.cli", "cleanup"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "removed 1 log entries and 1 stored messages in 1 guilds" in result.stdout
    assert await count_rows(runtime, ModlogEntry) == 0
