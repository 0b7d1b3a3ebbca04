"""Tickets through the slash registry: opening, its refusals, staff handling, close, reopen, lists, stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.features.tickets import service
from kyrios.features.tickets.events import CHANNEL_WORK
from kyrios.features.tickets.models import Ticket, TicketMessage, TicketPriority, TicketStatus
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.reply import Reply
from tests.features.test_locale import ask
from tests.helpers import announced, count_rows, invoke, press, text_of

STAFF_ROLE = 7000
CATEGORY = 555


async def configure(rt: Runtime, clock: FrozenClock, **changes: Any) -> None:
    async def work(session: Any) -> None:
        await service.configure(session, 1, now=clock.now(), **changes)

    await rt.db.run(work)


async def staff(rt: Runtime, command: str, *, user_id: int = 50, **options: Any) -> Reply:
    """A command by a member holding the staff role."""
    inv = Invocation(
        actor=Actor(id=user_id, name=f"user{user_id}"),
        guild_id=1,
        channel_id=10,
        command=command,
        options=options,
        source=Source.CONSOLE,
        role_ids=(STAFF_ROLE,),
    )
    return await rt.registry.dispatch(inv)


async def staff_press(rt: Runtime, custom_id: str, *, user_id: int = 50) -> Reply:
    """A button pressed by a member holding the staff role."""
    inv = Invocation(
        actor=Actor(id=user_id, name=f"user{user_id}"),
        guild_id=1,
        custom_id=custom_id,
        role_ids=(STAFF_ROLE,),
    )
    return await rt.registry.dispatch(inv)


async def tickets(rt: Runtime) -> list[Ticket]:
    async with rt.db.read() as session:
        return list(await session.scalars(select(Ticket).order_by(Ticket.id)))


async def lines(rt: Runtime, ticket_id: int) -> list[TicketMessage]:
    async with rt.db.read() as session:
        return await service.transcript(session, ticket_id)


async def ready(rt: Runtime, clock: FrozenClock) -> None:
    await configure(rt, clock, category_id=CATEGORY, staff_role_ids=str(STAFF_ROLE))


async def test_open_publishes_channel_work_and_writes_the_first_transcript_line(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await ready(runtime, clock)
    with runtime.bus.subscribe(CHANNEL_WORK) as work:
        reply = await invoke(
            runtime, "ticket open", category="technical", title="Login fails", description="Since today"
        )
        assert not reply.is_error and reply.ephemeral, reply.content
        _, message = await work.get()
    [ticket] = await tickets(runtime)
    assert message == {"work": "open", "guild_id": 1, "ticket_id": ticket.id, "user_id": 0, "name": ""}
    assert ticket.status is TicketStatus.OPEN and ticket.opener_id == 42 and ticket.channel_id is None
    assert ticket.priority == TicketPriority.MEDIUM and ticket.response_due_at == clock.now() + timedelta(
        hours=24
    )
    [line] = await lines(runtime, ticket.id)
    assert line.is_system and "Login fails" in line.content
    assert f"#{ticket.id}" in text_of(reply)


async def test_opening_refusals_change_nothing(runtime: Runtime, clock: FrozenClock) -> None:
    refused = await invoke(runtime, "ticket open", category="general", title="Hi")
    assert refused.is_error and "ticket category" in (refused.content or "")
    await ready(runtime, clock)
    blank = await invoke(runtime, "ticket open", category="general", title="   ")
    assert blank.is_error and "title" in (blank.content or "")
    assert not (await invoke(runtime, "ticket open", category="general", title="First")).is_error
    again = await invoke(runtime, "ticket open", category="general", title="Second")
    assert again.is_error and "close one first" in (again.content or "")
    assert not (await invoke(runtime, "ticket open", category="other", title="Other")).is_error
    assert not (await staff(runtime, "ticket blacklist", member="<@44>", reason="spam")).is_error
    barred = await press(runtime, "ticket-open:technical", user_id=44)
    assert barred.is_error and "may not open tickets" in (barred.content or "")
    assert len(await tickets(runtime)) == 2
    await configure(runtime, clock, max_open_per_category=2)
    assert not (await invoke(runtime, "ticket open", category="general", title="Second")).is_error
    assert not (await staff(runtime, "ticket blacklist", member="<@44>", remove=True)).is_error
    assert not (await press(runtime, "ticket-open:technical", user_id=44)).is_error
    assert await count_rows(runtime, Ticket) == 4


async def test_staff_claim_assign_unclaim_priority_and_members_cannot(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await ready(runtime, clock)
    await invoke(runtime, "ticket open", category="technical", title="Broken")
    [ticket] = await tickets(runtime)
    member = await press(runtime, f"ticket-claim:{ticket.id}", user_id=42)
    assert member.is_error and "staff" in (member.content or "")
    claimed = await staff_press(runtime, f"ticket-claim:{ticket.id}")
    assert not claimed.is_error and "<@50>" in text_of(claimed)
    [ticket] = await tickets(runtime)
    assert ticket.status is TicketStatus.IN_PROGRESS and ticket.claimed_by == 50
    taken = await staff(runtime, "ticket claim", user_id=51, ticket=ticket.id)
    assert taken.is_error and "already handles" in (taken.content or "")
    foreign = await staff(runtime, "ticket unclaim", user_id=51, ticket=ticket.id)
    assert foreign.is_error
    assert not (await staff(runtime, "ticket assign", staff="<@51>", ticket=ticket.id)).is_error
    assert (await tickets(runtime))[0].claimed_by == 51
    assert not (await staff(runtime, "ticket unclaim", user_id=51, ticket=ticket.id)).is_error
    [ticket] = await tickets(runtime)
    assert ticket.status is TicketStatus.OPEN and ticket.claimed_by is None
    urgent = await staff_press(runtime, f"ticket-priority:urgent:{ticket.id}")
    assert not urgent.is_error, urgent.content
    [ticket] = await tickets(runtime)
    assert ticket.priority == TicketPriority.URGENT
    assert ticket.response_due_at == ticket.created_at + timedelta(hours=1)
    system = [line.content for line in await lines(runtime, ticket.id)]
    assert system[1:] == [
        "Ticket claimed: handled by 50",
        "Ticket assigned by 50: handled by 51",
        "Ticket unclaimed",
        "Priority set to urgent",
    ]


async def test_close_needs_confirmation_then_reopen(runtime: Runtime, clock: FrozenClock) -> None:
    await ready(runtime, clock)
    await invoke(runtime, "ticket open", category="moderation", title="Report")
    [ticket] = await tickets(runtime)
    outsider = await press(runtime, f"ticket-close:{ticket.id}", user_id=44)
    assert outsider.is_error
    ask = await staff(runtime, "ticket close", reason="Solved", ticket=ticket.id)
    assert ask.ephemeral and ask.buttons[0][0].custom_id == f"ticket-close-yes:{ticket.id}"
    assert (await tickets(runtime))[0].status is TicketStatus.OPEN
    clock.advance(timedelta(hours=2))
    with runtime.bus.subscribe(CHANNEL_WORK) as work:
        done = await staff_press(runtime, f"ticket-close-yes:{ticket.id}")
        assert not done.is_error and done.update, done.content
        _, message = await work.get()
    assert message["work"] == "close"
    [ticket] = await tickets(runtime)
    assert ticket.status is TicketStatus.CLOSED and ticket.close_reason == "Solved" and ticket.closed_by == 50
    twice = await staff_press(runtime, f"ticket-close-yes:{ticket.id}")
    assert twice.is_error and "reopen" in (twice.content or "")

    async def archive(session: Any) -> None:
        await service.archived(session, ticket.id, 777, clock.now())

    await runtime.db.run(archive)
    assert (await tickets(runtime))[0].status is TicketStatus.ARCHIVED
    reopened = await invoke(runtime, "ticket reopen", ticket=ticket.id)
    assert not reopened.is_error, reopened.content
    [ticket] = await tickets(runtime)
    assert ticket.status is TicketStatus.OPEN and ticket.closed_at is None and ticket.channel_id == 777
    still = await invoke(runtime, "ticket reopen", ticket=ticket.id)
    assert still.is_error and "still open" in (still.content or "")


async def test_close_request_only_the_opener_accepts(runtime: Runtime, clock: FrozenClock) -> None:
    await ready(runtime, clock)
    await invoke(runtime, "ticket open", category="general", title="Question")
    [ticket] = await tickets(runtime)
    asked = await staff(runtime, "ticket request-close", ticket=ticket.id)
    assert asked.ping == (42,)
    custom_id = asked.buttons[0][0].custom_id
    assert custom_id is not None
    assert (await staff_press(runtime, custom_id)).is_error
    assert not (await press(runtime, custom_id, user_id=42)).is_error
    assert (await tickets(runtime))[0].status is TicketStatus.CLOSED


async def test_transcript_first_answer_lists_and_stats(runtime: Runtime, clock: FrozenClock) -> None:
    await ready(runtime, clock)
    start = clock.now()
    for n, category in enumerate(("technical", "general", "other")):
        await invoke(runtime, "ticket open", user_id=60 + n, category=category, title=f"T{n}")
    first, second, third = await tickets(runtime)

    async def place(session: Any) -> None:
        for t, channel in ((first, 801), (second, 802), (third, 803)):
            await service.set_channel(session, t.id, channel)

    await runtime.db.run(place)

    async def say(channel: int, author: int, minutes: int, *, bot: bool = False) -> None:
        seen = service.Seen(
            channel,
            9000 + minutes,
            author,
            f"user{author}",
            f"said at {minutes}",
            (("a.png", "http://x/a.png"),),
            bot,
            start + timedelta(minutes=minutes),
        )

        async def work(session: Any) -> None:
            await service.record(session, seen)

        await runtime.db.run(work)

    await say(801, 60, 1)  # the opener: not an answer
    await say(801, 900, 2, bot=True)  # a bot: not an answer either
    await say(801, 50, 10)
    await say(802, 50, 30)
    await say(999, 50, 5)  # no ticket's channel: not recorded
    rows = await lines(runtime, first.id)
    assert [r.author_id for r in rows[1:]] == [60, 900, 50] and rows[2].is_system
    assert rows[1].attachments == "a.png\thttp://x/a.png"
    [first, second, third] = await tickets(runtime)
    assert first.first_response_at == start + timedelta(
        minutes=10
    ) and first.last_opener_at == start + timedelta(minutes=1)
    assert third.first_response_at is None
    await staff(runtime, "ticket priority", level="high", ticket=third.id)
    clock.advance(timedelta(hours=1))
    await staff(runtime, "ticket close", ticket=first.id)
    await staff_press(runtime, f"ticket-close-yes:{first.id}")

    async with runtime.db.read() as session:
        figures = await service.stats(session, 1)
        by_priority = await service.listing(session, 1, service.Scope.PRIORITY, 0)
        mine = await service.listing(session, 1, service.Scope.MINE, 61)
    assert figures.by_status[TicketStatus.OPEN] == 2 and figures.by_status[TicketStatus.CLOSED] == 1
    assert figures.by_priority[TicketPriority.HIGH] == 1 and figures.by_priority[TicketPriority.MEDIUM] == 2
    assert figures.median_first_response == timedelta(minutes=20)
    assert figures.median_close == timedelta(hours=1)
    assert [t.id for t in by_priority] == [third.id, second.id]
    assert [t.id for t in mine] == [second.id]
    shown = await staff(runtime, "ticket stats")
    assert "20 min" in text_of(shown) and "1 h 0 min" in text_of(shown)
    listed = await staff(runtime, "ticket list", scope="priority")
    assert text_of(listed).index("T2") < text_of(listed).index("T1")
    assert (await invoke(runtime, "ticket list", scope="open")).is_error


async def test_config_needs_an_admin_and_checks_bounds(runtime: Runtime) -> None:
    assert (await staff(runtime, "ticket config", limit=2)).is_error
    done = await invoke(
        runtime, "ticket config", admin=True, staff_role=f"<@&{STAFF_ROLE}>", limit=3, on_close="delete"
    )
    assert not done.is_error and f"<@&{STAFF_ROLE}>" in text_of(done) and "deleted" in text_of(done)
    async with runtime.db.read() as session:
        rules = await service.settings(session, 1)
    assert (
        rules.max_open_per_category == 3
        and rules.delete_on_close
        and service.staff_roles(rules) == [STAFF_ROLE]
    )
    bad = await invoke(runtime, "ticket config", admin=True, auto_close_hours=100_000)
    assert bad.is_error


async def sweep(rt: Runtime, clock: FrozenClock) -> service.Due:
    async def work(session: Any) -> service.Due:
        return await service.sweep(session, clock.now())

    return await rt.db.run(work)


async def say(rt: Runtime, channel: int, author: int, clock: FrozenClock) -> None:
    seen = service.Seen(channel, 1, author, "", "hi", (), False, clock.now())

    async def work(session: Any) -> None:
        await service.record(session, seen)

    await rt.db.run(work)


async def test_the_sweep_reminds_once_warns_then_auto_closes(runtime: Runtime, clock: FrozenClock) -> None:
    await ready(runtime, clock)
    await configure(runtime, clock, auto_close_hours=8)
    start = clock.now()
    await invoke(runtime, "ticket open", category="technical", title="Quiet")
    await invoke(runtime, "ticket open", category="general", title="Chatty")
    quiet, chatty = await tickets(runtime)
    await staff(runtime, "ticket priority", level="high", ticket=quiet.id)

    async def place(session: Any) -> None:
        await service.set_channel(session, quiet.id, 879)
        await service.set_channel(session, chatty.id, 880)

    await runtime.db.run(place)
    clock.set(start + timedelta(hours=1))
    await say(runtime, 880, STAFF_ROLE, clock)  # staff answer: chatty now waits on its opener
    clock.set(start + timedelta(hours=3, minutes=59))
    assert await sweep(runtime, clock) == service.Due([], [], [])
    clock.set(start + timedelta(hours=4))
    due = await sweep(runtime, clock)
    assert [t.id for t in due.reminders] == [quiet.id] and not due.warnings and not due.closed
    clock.set(start + timedelta(hours=5, minutes=59))
    assert await sweep(runtime, clock) == service.Due([], [], [])
    clock.set(start + timedelta(hours=6))  # nobody answered: staff are pinged again every 2 h
    assert [t.id for t in (await sweep(runtime, clock)).reminders] == [quiet.id]
    await say(runtime, 879, STAFF_ROLE, clock)  # now someone did: no more reminders
    await say(runtime, 879, 42, clock)  # and the opener answered back: nothing waits on them
    clock.set(start + timedelta(hours=7))  # three quarters of 8 h after staff's message in chatty
    due = await sweep(runtime, clock)
    assert not due.reminders and [t.id for t in due.warnings] == [chatty.id]
    clock.set(start + timedelta(hours=8, minutes=30))
    assert await sweep(runtime, clock) == service.Due([], [], [])  # warned: the close waits for 9 h
    await say(runtime, 880, 42, clock)  # the opener answers: warning withdrawn, nothing waits on them
    clock.set(start + timedelta(hours=10))
    assert await sweep(runtime, clock) == service.Due([], [], [])
    await say(runtime, 880, STAFF_ROLE, clock)
    clock.set(start + timedelta(hours=17))  # late (due at 16 h): the close still waits 2 h after it
    assert [t.id for t in (await sweep(runtime, clock)).warnings] == [chatty.id]
    clock.set(start + timedelta(hours=18, minutes=59))
    assert await sweep(runtime, clock) == service.Due([], [], [])
    clock.set(start + timedelta(hours=19))
    closed = (await sweep(runtime, clock)).closed
    assert [t.id for t in closed] == [chatty.id]
    _, chatty = await tickets(runtime)
    assert chatty.status is TicketStatus.CLOSED and chatty.close_reason.startswith("Auto-closed")
    assert await sweep(runtime, clock) == service.Due([], [], [])


async def test_simultaneous_opens_pass_the_limit_once(runtime: Runtime, clock: FrozenClock) -> None:
    await ready(runtime, clock)
    replies = await asyncio.gather(
        *(invoke(runtime, "ticket open", category="technical", title=f"Try {n}") for n in range(6))
    )
    assert sum(not r.is_error for r in replies) == 1, [r.content for r in replies]
    assert await count_rows(runtime, Ticket) == 1


async def test_the_sweep_finds_a_ticket_whose_channel_never_came(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await ready(runtime, clock)
    await invoke(runtime, "ticket open", category="other", title="Lost")
    clock.advance(timedelta(minutes=1, seconds=59))
    assert (await sweep(runtime, clock)).orphans == []
    clock.advance(timedelta(seconds=1))
    [ticket] = await tickets(runtime)
    assert [t.id for t in (await sweep(runtime, clock)).orphans] == [ticket.id]

    async def place(session: Any) -> None:
        await service.set_channel(session, ticket.id, 881)

    await runtime.db.run(place)
    assert (await sweep(runtime, clock)).orphans == []


async def test_japanese_readers_get_japanese_replies_refusals_and_forms(
    runtime: Runtime, clock: FrozenClock
) -> None:
    refused = await ask(runtime, "ticket open", user_locale="ja", category="general", title="質問")
    assert refused.is_error and "チケットカテゴリ" in (refused.content or "")
    await ready(runtime, clock)
    opened = await ask(runtime, "ticket open", user_locale="ja", category="general", title="質問")
    [ticket] = await tickets(runtime)
    assert f"チケット #{ticket.id}（一般）を作成しました" in (opened.content or "")
    form = await ask(runtime, "ticket open", user_locale="ja", source=Source.HTTP, category="technical")
    assert form.modal is not None and form.modal.title == "新しいチケット（技術的な問題）"
    assert [i.label for i in form.modal.inputs] == ["タイトル", "何が起きましたか？"]
    console = await ask(runtime, "ticket open", category="technical")
    assert console.is_error and "title" in (console.content or "")
    panel = await ask(runtime, "ticket panel", user_locale="ja", admin=True)
    assert [b.label for b in panel.buttons[0]] == ["技術的な問題", "モデレーション", "一般", "その他"]


async def test_opening_and_handling_tickets_unlock_their_achievements_once(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await ready(runtime, clock)
    for number in range(10):
        opened = await invoke(runtime, "ticket open", category="general", title=f"Question {number}")
        assert not opened.is_error, opened.content
        ticket = (await tickets(runtime))[-1]
        if number < 9:
            closed = await staff_press(runtime, f"ticket-close-yes:{ticket.id}")
        else:  # the last one the opener closes on staff's request: its claimer handled it
            await staff(runtime, "ticket claim", ticket=ticket.id)
            asked = await staff(runtime, "ticket request-close", ticket=ticket.id, user_id=51)
            custom_id = asked.buttons[0][0].custom_id
            assert custom_id is not None
            closed = await press(runtime, custom_id)
        assert not closed.is_error, closed.content
    assert await announced(runtime, user_id=42) == ["ticket_first"]  # the first open only
    assert await announced(runtime, user_id=50) == ["ticket_helper"]  # ten handled, once
    assert await announced(runtime, user_id=51) == []  # asked once, handled none
