"""The net-worth recorder on the test database: a point per change only, and thinning by age."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.exchange import accounts
from kyrios.exchange.models import ExchangeNetWorth
from kyrios.exchange.recorder import NetWorthRecorder
from kyrios.runtime import Runtime


async def open_player(runtime: Runtime, clock: FrozenClock, name: str, discord_id: int) -> int:
    async with runtime.db.transaction() as session:
        user = await accounts.create_user(session, username=name, discord_id=discord_id, now=clock.now())
        return user.id


async def deposit(runtime: Runtime, clock: FrozenClock, user_id: int, cents: int) -> None:
    async with runtime.db.transaction() as session:
        await accounts.deposit(session, user_id, cents, now=clock.now())


async def points(runtime: Runtime, user_id: int) -> list[tuple[int, int, int]]:
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(
                ExchangeNetWorth.snapshot_time,
                ExchangeNetWorth.net_worth_cents,
                ExchangeNetWorth.net_deposits_cents,
            )
            .where(ExchangeNetWorth.user_id == user_id)
            .order_by(ExchangeNetWorth.snapshot_time)
        )
        return [(int(t), int(nw), int(nd)) for t, nw, nd in rows]


async def test_a_point_is_written_only_when_the_value_changed(runtime: Runtime, clock: FrozenClock) -> None:
    recorder = NetWorthRecorder(runtime.db, clock)
    alice = await open_player(runtime, clock, "alice", 42)
    bob = await open_player(runtime, clock, "bob", 43)  # never funded
    assert await recorder.record() == 0  # nobody funded: nothing to chart
    await deposit(runtime, clock, alice, 5_000)
    assert await recorder.record() == 1
    start = int(clock.now().timestamp())
    await deposit(runtime, clock, alice, 2_500)
    assert await recorder.record() == 0  # the same second as the last point: the next tick has it
    clock.advance(timedelta(minutes=1))
    assert await recorder.record() == 1
    clock.advance(timedelta(minutes=1))
    assert await recorder.record() == 0  # unchanged
    assert await points(runtime, alice) == [(start, 5_000, 5_000), (start + 60, 7_500, 7_500)]
    assert await points(runtime, bob) == []
    # a new recorder (a restarted owner) picks up from the stored points
    assert await NetWorthRecorder(runtime.db, clock).record() == 0


async def test_old_points_are_thinned_to_one_an_hour_then_one_a_day(
    runtime: Runtime, clock: FrozenClock
) -> None:
    recorder = NetWorthRecorder(runtime.db, clock)
    alice = await open_player(runtime, clock, "alice", 42)
    began = clock.now()
    recorded: dict[str, list[tuple[int, int, int]]] = {}
    # two hours of minute points 40 days before "now", two hours 3 days before, half an hour 12 h before
    for block, offset, minutes in (("old", 0, 120), ("recent", 37, 120), ("fresh", 39.5, 30)):
        clock.set(began + timedelta(days=offset))
        for _ in range(minutes):
            await deposit(runtime, clock, alice, 1)
            await recorder.record()
            clock.advance(timedelta(minutes=1))
        recorded[block] = (await points(runtime, alice))[-minutes:]
    clock.set(began + timedelta(days=40))
    deleted = await recorder.thin()

    kept = await points(runtime, alice)
    hours = recorded["recent"][59], recorded["recent"][119]  # each hour's last point
    assert kept == [recorded["old"][-1], *hours, *recorded["fresh"]]
    assert deleted == 270 - len(kept)
    assert await recorder.thin() == 0  # nothing new to thin
