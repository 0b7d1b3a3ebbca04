"""A problem is told to a guild's admins once, and again only as a reminder a week later."""

from __future__ import annotations

from datetime import timedelta

from kyrios.core.clock import FrozenClock
from kyrios.features.guild_settings import notices
from kyrios.features.guild_settings.models import AdminNotice
from kyrios.runtime import Runtime
from tests.helpers import count_rows


async def due(rt: Runtime, guild_id: int, problem: str, clock: FrozenClock) -> bool:
    now = clock.now()
    return await rt.db.run(lambda session: notices.due(session, guild_id, problem, now=now))


async def test_told_once_then_reminded_after_a_week(runtime: Runtime, clock: FrozenClock) -> None:
    assert await due(runtime, 1, "modlog-missing_access-10", clock)
    assert not await due(runtime, 1, "modlog-missing_access-10", clock)
    assert await due(runtime, 2, "modlog-missing_access-10", clock)  # another guild
    assert await due(runtime, 1, "auto-role-gone", clock)  # another problem
    clock.advance(notices.REMIND_AFTER - timedelta(minutes=1))
    assert not await due(runtime, 1, "modlog-missing_access-10", clock)
    clock.advance(timedelta(minutes=1))
    assert await due(runtime, 1, "modlog-missing_access-10", clock)
    assert not await due(runtime, 1, "modlog-missing_access-10", clock)
    assert await count_rows(runtime, AdminNotice) == 3


async def test_a_long_problem_key_is_cut_to_fit(runtime: Runtime, clock: FrozenClock) -> None:
    long_key = "x" * 300
    assert await due(runtime, 1, long_key, clock)
    assert not await due(runtime, 1, long_key, clock)
