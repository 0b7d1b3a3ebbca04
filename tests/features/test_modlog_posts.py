"""A case's log message is known, and rendered again (every case on it, in order) when one changes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from kyrios.core.bus_redis import RedisBus
from kyrios.core.clock import FrozenClock
from kyrios.features.modlog import flows, posts
from kyrios.features.modlog.events import MemberEvent, UserInfo
from kyrios.features.modlog.models import ModlogEntry, ModlogPost
from kyrios.features.modlog.retention import purge_all
from kyrios.runtime import Runtime
from kyrios.testing.emulator import WAIT_SECONDS
from tests.helpers import count_rows, invoke

LOG_CHANNEL, MESSAGE = 500, 9001


async def two_cases_in_one_message(rt: Runtime, clock: FrozenClock) -> tuple[int, int]:
    async with rt.db.transaction() as session:
        for user in (UserInfo(7, "alice"), UserInfo(8, "bob")):
            await flows.member_joined(session, MemberEvent(1, user, clock.now()))
    async with rt.db.read() as session:
        first, second = (await session.scalars(select(ModlogEntry.id).order_by(ModlogEntry.id))).all()
    async with rt.db.transaction() as session:
        await posts.remember(session, LOG_CHANNEL, MESSAGE, [first, second, 424242])  # the last: purged
    return first, second


async def test_a_changed_case_renders_its_whole_message_in_order(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first, second = await two_cases_in_one_message(runtime, clock)
    await invoke(runtime, "modlog reason", admin=True, case=second, text="alt account")
    await invoke(runtime, "modlog note", admin=True, case=second, text="same IP as #1")
    async with runtime.db.read() as session:
        posted = await posts.message_of(session, 1, second)
        elsewhere = await posts.message_of(session, 2, second)  # another guild's view of the case
    assert posted is not None and (posted.channel_id, posted.message_id) == (LOG_CHANNEL, MESSAGE)
    assert [e["footer"]["text"] for e in posted.embeds] == [f"Case #{first}", f"Case #{second}"]
    fields = {f["name"]: f["value"] for f in posted.embeds[1]["fields"]}
    assert fields["Reason"] == "alt account" and fields["Note"].startswith("same IP as #1")
    assert "fields" not in posted.embeds[0] or not posted.embeds[0]["fields"]
    assert elsewhere is None
    assert await count_rows(runtime, ModlogPost) == 2


async def test_notes_on_other_cases_give_way_to_the_6000_character_limit(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first, second = await two_cases_in_one_message(runtime, clock)
    for _ in range(5):
        await invoke(runtime, "modlog note", admin=True, case=first, text="x" * 1000)
    for _ in range(2):
        await invoke(runtime, "modlog note", admin=True, case=second, text="y" * 1000)
    async with runtime.db.read() as session:
        posted = await posts.message_of(session, 1, second)
    assert posted is not None
    assert "fields" not in posted.embeds[0] or all(f["name"] != "Note" for f in posted.embeds[0]["fields"])
    assert [f["name"] for f in posted.embeds[1]["fields"]] == ["Note", "Note"]


async def test_a_case_never_posted_has_no_message(runtime: Runtime, clock: FrozenClock) -> None:
    async with runtime.db.transaction() as session:
        await flows.member_joined(session, MemberEvent(1, UserInfo(7, "alice"), clock.now()))
    async with runtime.db.read() as session:
        case = int((await session.scalars(select(ModlogEntry.id))).one())
        assert await posts.message_of(session, 1, case) is None


async def test_reason_and_note_announce_the_change_after_commit_only(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first, _ = await two_cases_in_one_message(runtime, clock)
    with runtime.bus.subscribe(posts.CASE_CHANGED) as changes:
        await invoke(runtime, "modlog reason", admin=True, case=first, text="spam")
        refused = await invoke(runtime, "modlog note", admin=True, case=first, text="   ")
        missing = await invoke(runtime, "modlog note", admin=True, case=99999, text="who?")
        await invoke(runtime, "modlog note", admin=True, case=first, text="again")
        assert refused.is_error and missing.is_error
        assert changes.queue.qsize() == 2
        seen = [(await changes.get())[1] for _ in range(2)]
    assert seen == [{"guild_id": 1, "entry_id": first}] * 2


async def test_purged_cases_take_their_posts_with_them(runtime: Runtime, clock: FrozenClock) -> None:
    await two_cases_in_one_message(runtime, clock)
    clock.advance(timedelta(days=31))
    await purge_all(runtime.db, now=clock.now())
    assert await count_rows(runtime, ModlogPost) == 0


async def test_a_case_change_reaches_another_process_through_redis(
    runtime: Runtime, clock: FrozenClock, redis_url: str
) -> None:
    first, _ = await two_cases_in_one_message(runtime, clock)
    prefix = f"kyrios-test-{uuid.uuid4().hex}:"
    http_worker, bot_process = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    await http_worker.start()
    await bot_process.start()
    runtime.registry.bus = http_worker
    try:
        with bot_process.subscribe(posts.CASE_CHANGED) as changes:
            await invoke(runtime, "modlog reason", admin=True, case=first, text="spam")
            async with asyncio.timeout(WAIT_SECONDS):
                _, change = await changes.get()
        assert change == {"guild_id": 1, "entry_id": first}
    finally:
        await http_worker.aclose()
        await bot_process.aclose()


async def test_a_bus_that_fails_after_the_commit_does_not_turn_the_reply_into_an_error(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first, _ = await two_cases_in_one_message(runtime, clock)
    runtime.registry.bus = RedisBus("redis://127.0.0.1:1/0")  # never started: publishing raises
    reply = await invoke(runtime, "modlog reason", admin=True, case=first, text="spam")
    assert not reply.is_error and "reason: spam" in (reply.content or "")
    async with runtime.db.read() as session:
        entry = await session.get(ModlogEntry, first)
    assert entry is not None and entry.reason == "spam"
