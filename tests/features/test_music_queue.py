"""The music queue over the database: positions, loop modes, moves, votes, limits, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, InvalidInput, NotFound
from kyrios.core.rng import RandomSource
from kyrios.features.music import service
from kyrios.features.music.models import LoopMode, MusicTrack
from kyrios.features.music.service import TrackInfo
from kyrios.runtime import Runtime

T = TypeVar("T")
GUILD = 1


def info(title: str, seconds: int | None = 60) -> TrackInfo:
    return TrackInfo(title=title, webpage_url=f"https://example.test/{title}", duration_seconds=seconds)


async def run(rt: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return await rt.db.run(work)


async def queue_of(rt: Runtime, guild_id: int = GUILD) -> list[tuple[int, str]]:
    async with rt.db.read() as session:
        return [(t.position, t.title) for t in await service.tracks(session, guild_id)]


async def titles(rt: Runtime) -> list[str]:
    return [title for _, title in await queue_of(rt)]


async def fill(rt: Runtime, *names: str, requester: int = 42) -> None:
    now = rt.clock.now()
    await run(rt, lambda s: service.add(s, GUILD, [info(n) for n in names], requester_id=requester, now=now))


async def advance(rt: Runtime, *, skip: bool = False) -> str | None:
    now = rt.clock.now()
    track = await run(rt, lambda s: service.advance(s, GUILD, now, skip=skip))
    return None if track is None else track.title


async def begin(rt: Runtime) -> str | None:
    now = rt.clock.now()
    track = await run(rt, lambda s: service.begin(s, GUILD, now))
    return None if track is None else track.title


async def set_loop(rt: Runtime, mode: LoopMode) -> None:
    now = rt.clock.now()
    await run(rt, lambda s: service.set_loop(s, GUILD, mode, now))


async def test_without_loop_each_track_plays_once_and_leaves(runtime: Runtime) -> None:
    await fill(runtime, "a", "b", "c")
    assert await begin(runtime) == "a"
    assert await advance(runtime) == "b"
    assert await queue_of(runtime) == [(0, "b"), (1, "c")]
    assert await advance(runtime) == "c"
    assert await advance(runtime) is None
    assert await queue_of(runtime) == []
    async with runtime.db.read() as session:
        assert await service.current(session, GUILD) is None


async def test_loop_track_repeats_and_skip_moves_on(runtime: Runtime) -> None:
    await fill(runtime, "a", "b")
    await begin(runtime)
    await set_loop(runtime, LoopMode.TRACK)
    assert [await advance(runtime) for _ in range(3)] == ["a", "a", "a"]
    assert await advance(runtime, skip=True) == "b"
    assert await advance(runtime) == "b"  # the last track loops too, at the queue's end
    assert await titles(runtime) == ["b"]


async def test_loop_queue_wraps_at_the_end_and_leaving_it_drops_the_history(runtime: Runtime) -> None:
    await fill(runtime, "a", "b", "c")
    await begin(runtime)
    await set_loop(runtime, LoopMode.QUEUE)
    played = [await advance(runtime) for _ in range(5)]
    assert played == ["b", "c", "a", "b", "c"]
    assert await titles(runtime) == ["a", "b", "c"]
    await set_loop(runtime, LoopMode.NONE)  # "c" plays: "a" and "b" were history
    assert await queue_of(runtime) == [(0, "c")]
    assert await advance(runtime) is None


async def test_remove_move_shuffle_keep_positions_dense(runtime: Runtime) -> None:
    await fill(runtime, *"abcdef")
    await begin(runtime)
    now = runtime.clock.now()
    removed = await run(runtime, lambda s: service.remove(s, GUILD, 3, now))
    assert removed.title == "c"
    assert await queue_of(runtime) == list(enumerate("abdef"))
    await run(runtime, lambda s: service.move(s, GUILD, 5, 2, now))
    assert await titles(runtime) == list("afbde")
    await run(runtime, lambda s: service.move(s, GUILD, 2, 5, now))
    assert await titles(runtime) == list("abdef")
    with pytest.raises(Conflict):  # the playing track is skipped, not removed
        await run(runtime, lambda s: service.remove(s, GUILD, 1, now))
    for bad in (0, 6):
        with pytest.raises(NotFound):
            await run(runtime, lambda s, n=bad: service.remove(s, GUILD, n, now))  # type: ignore[misc]
    with pytest.raises(NotFound):
        await run(runtime, lambda s: service.move(s, GUILD, 1, 7, now))
    assert await titles(runtime) == list("abdef")  # refusals changed nothing
    orders = set()
    for _ in range(6):
        shuffled = await run(runtime, lambda s: service.shuffle(s, GUILD, RandomSource(), now))
        assert shuffled == 4
        order = await queue_of(runtime)
        assert [p for p, _ in order] == [0, 1, 2, 3, 4] and order[0] == (0, "a")
        assert sorted(t for _, t in order) == list("abdef")
        orders.add(tuple(t for _, t in order))
    assert len(orders) > 1  # shuffling changes the order (six identical shuffles of 4! are unlikely)
    assert await advance(runtime) is not None
    assert [p for p, _ in await queue_of(runtime)] == [0, 1, 2, 3]


async def test_clear_empties_and_shuffle_needs_two_waiting(runtime: Runtime) -> None:
    await fill(runtime, "a", "b")
    await begin(runtime)
    now = runtime.clock.now()
    with pytest.raises(Conflict):
        await run(runtime, lambda s: service.shuffle(s, GUILD, RandomSource(), now))
    assert await run(runtime, lambda s: service.clear(s, GUILD, now)) == 2
    assert await queue_of(runtime) == []
    assert await begin(runtime) is None


async def test_limits_queue_length_and_track_length(runtime: Runtime) -> None:
    now = runtime.clock.now()
    await run(
        runtime,
        lambda s: service.configure(s, GUILD, now=now, max_queue_length=3, max_track_seconds=600),
    )
    with pytest.raises(InvalidInput):
        await run(runtime, lambda s: service.add(s, GUILD, [info("long", 601)], requester_id=1, now=now))
    playlist = [info("p1"), info("long", 9000), info("p2"), info("p3"), info("p4")]
    added = await run(runtime, lambda s: service.add(s, GUILD, playlist, requester_id=1, now=now))
    assert [t.title for t in added.tracks] == ["p1", "p2", "p3"]
    assert (added.too_long, added.no_room) == (1, 1)
    with pytest.raises(Conflict):
        await run(runtime, lambda s: service.add(s, GUILD, [info("more")], requester_id=1, now=now))
    assert await titles(runtime) == ["p1", "p2", "p3"]
    for bad in ({"max_queue_length": 0}, {"idle_timeout_seconds": 1}, {"max_track_seconds": -1}):
        with pytest.raises(InvalidInput):
            await run(runtime, lambda s, c=bad: service.configure(s, GUILD, now=now, **c))  # type: ignore[misc]


async def test_concurrent_plays_keep_positions_dense_and_unique(runtime: Runtime) -> None:
    now = runtime.clock.now()

    async def play(n: int) -> None:
        infos = [info(f"t{n}-{i}") for i in range(2)]
        await run(runtime, lambda s: service.add(s, GUILD, infos, requester_id=n, now=now))

    await asyncio.gather(*(play(n) for n in range(12)))
    order = await queue_of(runtime)
    assert [p for p, _ in order] == list(range(24))
    for n in range(12):  # each /play's tracks stay together, in their order
        first = [t for _, t in order].index(f"t{n}-0")
        assert order[first + 1][1] == f"t{n}-1"


async def test_skip_votes_need_a_majority_of_listeners_once_each(runtime: Runtime) -> None:
    await fill(runtime, "a", "b")
    await begin(runtime)
    now = runtime.clock.now()

    async def vote(user: int, listeners: int = 4) -> service.Vote:
        return await run(runtime, lambda s: service.vote_skip(s, GUILD, user, listeners=listeners, now=now))

    assert await vote(1) == service.Vote(1, 3, False)
    assert await vote(1) == service.Vote(1, 3, False)  # twice counts once
    assert await vote(2) == service.Vote(2, 3, False)
    assert await vote(3) == service.Vote(3, 3, True)
    assert await advance(runtime, skip=True) == "b"
    assert await vote(1, listeners=1) == service.Vote(1, 1, True)  # votes were per track


async def test_pause_resume_and_elapsed_time(runtime: Runtime, clock: FrozenClock) -> None:
    await fill(runtime, "a")
    await begin(runtime)
    await run(
        runtime, lambda s: service.connect(s, GUILD, voice_channel_id=5, text_channel_id=6, now=clock.now())
    )
    await run(runtime, lambda s: service.playing_from(s, GUILD, 0, clock.now()))
    clock.advance(timedelta(seconds=10))
    await run(runtime, lambda s: service.set_paused(s, GUILD, True, clock.now()))
    clock.advance(timedelta(seconds=30))
    with pytest.raises(Conflict):
        await run(runtime, lambda s: service.set_paused(s, GUILD, True, clock.now()))
    row = await run(runtime, lambda s: service.set_paused(s, GUILD, False, clock.now()))
    clock.advance(timedelta(seconds=5))
    assert service.elapsed_seconds(row, clock.now()) == pytest.approx(15)
    with pytest.raises(InvalidInput):
        await run(runtime, lambda s: service.seek(s, GUILD, 60, clock.now()))
    assert service.clock_text(3725) == "1:02:05" and service.clock_text(65) == "1:05"


async def test_the_queue_survives_a_restart_and_is_offered_for_resume(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await fill(runtime, "a", "b", "c")
    await begin(runtime)
    now = clock.now()
    await run(runtime, lambda s: service.connect(s, GUILD, voice_channel_id=5, text_channel_id=6, now=now))
    await advance(runtime)  # "b" plays
    await run(runtime, lambda s: service.playing_from(s, GUILD, 0, now))
    clock.advance(timedelta(seconds=42))
    await runtime.db.dispose()

    fresh = Database(runtime.settings.database_url)  # a new process on the same database
    try:
        assert await fresh.run(lambda s: service.forget_connections(s, [GUILD + 1], clock.now())) == []
        waiting = await fresh.run(lambda s: service.forget_connections(s, [GUILD], clock.now()))
        assert [(w.guild_id, w.connected, w.voice_channel_id, w.text_channel_id) for w in waiting] == [
            (GUILD, False, 5, 6)
        ]
        assert waiting[0].elapsed_ms == 42_000
        async with fresh.read() as session:
            playing = await service.current(session, GUILD)
            assert playing is not None and playing.title == "b"
            queued = await session.scalars(select(MusicTrack.title).order_by(MusicTrack.position))
            assert list(queued) == ["b", "c"]
        resumed = await fresh.run(lambda s: service.begin(s, GUILD, clock.now()))
        assert resumed is not None and resumed.title == "b"
    finally:
        await fresh.dispose()
