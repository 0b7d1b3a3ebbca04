"""Moderation log through its service and commands: store, record, route, attribute, search, cases."""

from __future__ import annotations

from datetime import datetime, timedelta

from kyrios.core.clock import FrozenClock
from kyrios.features.modlog import flows
from kyrios.features.modlog.events import (
    DISCORD_EPOCH_MS,
    AuditAction,
    AuditEntry,
    ChannelChanged,
    MemberEvent,
    MemberUpdated,
    MessageDeleted,
    MessageSeen,
    UserInfo,
)
from kyrios.features.modlog.models import LogType, ModlogEntry, ModlogMessage
from kyrios.features.modlog.service import Delivery
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Permission
from tests.helpers import count_rows, invoke, press, text_of

GUILD, CHANNEL, LOG_CHANNEL, AUTHOR, MOD = 1, 10, 500, 77, 88
ALICE = UserInfo(AUTHOR, "alice")


def embed_text(delivery: Delivery | None) -> str:
    assert delivery is not None
    embed = delivery.embed
    parts = [embed.title or "", embed.description or "", embed.footer or ""]
    return "\n".join(parts + [f"{f.name}: {f.value}" for f in embed.fields])


def snowflake(at: datetime) -> int:
    return (int(at.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22


def audit(
    action: AuditAction,
    target: int,
    clock: FrozenClock,
    *,
    channel_id: int | None = None,
    count: int | None = None,
    reason: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        id=snowflake(clock.now()),
        action=action,
        moderator_id=MOD,
        target_id=target,
        channel_id=channel_id,
        count=count,
        reason=reason,
    )


async def opt_in(rt: Runtime) -> None:
    assert not (await invoke(rt, "settings set", admin=True, log_channel=str(LOG_CHANNEL))).is_error
    assert not (await invoke(rt, "modlog store", admin=True, state="on")).is_error


async def say(
    rt: Runtime, clock: FrozenClock, message_id: int, content: str, *, attachments: tuple[str, ...] = ()
) -> None:
    seen = MessageSeen(GUILD, CHANNEL, message_id, AUTHOR, False, content, clock.now(), attachments)
    async with rt.db.transaction() as session:
        await flows.message_seen(session, seen)


async def test_a_deleted_message_is_logged_with_its_content_and_likely_deleter(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await opt_in(runtime)
    await say(runtime, clock, 1001, "hello <@everyone>", attachments=("https://cdn.example/a.png",))
    clock.advance(timedelta(minutes=3))
    deleter = audit(AuditAction.MESSAGE_DELETE, AUTHOR, clock, channel_id=CHANNEL, count=1)
    async with runtime.db.transaction() as session:
        post = await flows.message_deleted(
            session, MessageDeleted(GUILD, CHANNEL, 1001, clock.now()), deleter
        )
    text = embed_text(post)
    assert post is not None and post.channel_id == LOG_CHANNEL
    assert "Message deleted" in text and "hello <@everyone>" in text
    assert f"likely by <@{MOD}>" in text
    assert "https://cdn.example/a.png" in text
    assert f"<@{AUTHOR}>" in text and f"<#{CHANNEL}>" in text
    assert await count_rows(runtime, ModlogMessage) == 0  # the content now lives in the case only


async def test_without_the_store_nothing_is_kept_or_logged(runtime: Runtime, clock: FrozenClock) -> None:
    await invoke(runtime, "settings set", admin=True, log_channel=str(LOG_CHANNEL))
    await say(runtime, clock, 1001, "secret")
    assert await count_rows(runtime, ModlogMessage) == 0
    async with runtime.db.transaction() as session:
        assert await flows.message_deleted(session, MessageDeleted(GUILD, CHANNEL, 1001, clock.now())) is None


async def test_an_edit_shows_before_and_after_and_ignored_channels_are_skipped(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await opt_in(runtime)
    await say(runtime, clock, 1001, "I like cats")
    edit = MessageSeen(GUILD, CHANNEL, 1001, AUTHOR, False, "I like dogs", clock.now())
    async with runtime.db.transaction() as session:
        post = await flows.message_edited(session, edit)
        unchanged = await flows.message_edited(session, edit)
    text = embed_text(post)
    assert "Before: >>> I like cats" in text and "After: >>> I like dogs" in text
    assert unchanged is None  # an unfurl or pin does not change the text
    reply = await invoke(runtime, "modlog ignore", admin=True, channel=str(CHANNEL))
    assert "no longer stored or logged" in (reply.content or "")
    await say(runtime, clock, 1002, "in an ignored channel")
    assert await count_rows(runtime, ModlogMessage, message_id=1002) == 0


async def test_bots_messages_are_ignored_by_default_but_can_be_included(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await opt_in(runtime)
    bot_edit = MessageSeen(GUILD, CHANNEL, 1003, 5, True, "beep", clock.now())
    async with runtime.db.transaction() as session:
        assert await flows.message_edited(session, bot_edit) is None
    await invoke(runtime, "modlog config", admin=True, event="message_edit", state="on", bots=True)
    async with runtime.db.transaction() as session:
        edited_again = MessageSeen(GUILD, CHANNEL, 1003, 5, True, "boop", clock.now())
        assert await flows.message_edited(session, edited_again) is not None


async def test_kick_is_told_from_leave_by_the_audit_log(runtime: Runtime, clock: FrozenClock) -> None:
    await opt_in(runtime)
    kick = audit(AuditAction.MEMBER_KICK, AUTHOR, clock, reason="spam")
    async with runtime.db.transaction() as session:
        kicked = await flows.member_removed(session, MemberEvent(GUILD, ALICE, clock.now()), [kick])
        left = await flows.member_removed(
            session, MemberEvent(GUILD, UserInfo(78, "bob"), clock.now()), [kick]
        )
    assert "Member kicked" in embed_text(kicked) and f"<@{MOD}>" in embed_text(kicked)
    assert "likely" not in embed_text(kicked) and "Reason: spam" in embed_text(kicked)
    assert "Member left" in embed_text(left) and "By:" not in embed_text(left)
    clock.advance(timedelta(minutes=10))  # an old kick entry says nothing about a leave now
    async with runtime.db.transaction() as session:
        later = await flows.member_removed(session, MemberEvent(GUILD, ALICE, clock.now()), [kick])
    assert "Member left" in embed_text(later)


async def test_ban_has_its_moderator_and_the_member_remove_it_causes_is_not_a_leave(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await opt_in(runtime)
    ban = audit(AuditAction.MEMBER_BAN_ADD, AUTHOR, clock, reason="raid")
    event = MemberEvent(GUILD, ALICE, clock.now())
    async with runtime.db.transaction() as session:
        assert await flows.member_removed(session, event, [ban]) is None
        banned = await flows.member_banned(session, event, [ban])
        unbanned = await flows.member_banned(session, event, [], banned=False)
    assert "Member banned" in embed_text(banned) and f"By:** <@{MOD}>" in embed_text(banned)
    assert "Member unbanned" in embed_text(unbanned)


async def test_roles_timeouts_and_channels_are_logged_with_moderators(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await opt_in(runtime)
    roles = audit(AuditAction.MEMBER_ROLE_UPDATE, AUTHOR, clock)
    timeout = audit(AuditAction.MEMBER_UPDATE, AUTHOR, clock)
    until = clock.now() + timedelta(hours=1)
    update = MemberUpdated(
        GUILD, ALICE, clock.now(), roles_added=(5,), roles_removed=(6,), timeout_after=until
    )
    created = audit(AuditAction.CHANNEL_CREATE, 700, clock)
    async with runtime.db.transaction() as session:
        posts = await flows.member_updated(session, update, [roles, timeout])
        channel = await flows.channel_changed(
            session, ChannelChanged(GUILD, 700, "general-2", True, clock.now()), [created]
        )
    texts = [embed_text(p) for p in posts]
    assert "Role added" in texts[0] and "<@&5>" in texts[0] and f"<@{MOD}>" in texts[0]
    assert "Role removed" in texts[1] and "<@&6>" in texts[1]
    assert "timed out" in texts[2] and f"<t:{int(until.timestamp())}:f>" in texts[2]
    assert "Channel created" in embed_text(channel) and "#general-2" in embed_text(channel)


async def test_events_route_to_their_own_channel_or_can_be_switched_off(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await opt_in(runtime)
    reply = await invoke(runtime, "modlog config", admin=True, event="member_join", state="on", channel="600")
    assert "posted to <#600>" in (reply.content or "")
    async with runtime.db.transaction() as session:
        join = await flows.member_joined(session, MemberEvent(GUILD, ALICE, clock.now()))
    assert join is not None and join.channel_id == 600
    back = await invoke(
        runtime, "modlog config", admin=True, event="member_join", state="on", shared_channel=True
    )
    assert f"posted to <#{LOG_CHANNEL}>" in (back.content or "")
    await invoke(runtime, "modlog config", admin=True, event="member_join", state="off")
    async with runtime.db.transaction() as session:
        assert await flows.member_joined(session, MemberEvent(GUILD, ALICE, clock.now())) is None
    assert await count_rows(runtime, ModlogEntry, log_type=LogType.MEMBER_JOIN) == 1
    status = text_of(await invoke(runtime, "modlog status", admin=True))
    assert "⛔ `member_join`" in status and f"✅ `member_leave` → <#{LOG_CHANNEL}>" in status
    await invoke(runtime, "settings feature", admin=True, name="modlog", state="off")
    async with runtime.db.transaction() as session:
        assert await flows.member_removed(session, MemberEvent(GUILD, ALICE, clock.now())) is None
    blocked = await invoke(runtime, "modlog search", admin=True)
    assert blocked.is_error and "modlog feature is disabled" in (blocked.content or "")


async def record_joins(rt: Runtime, clock: FrozenClock, count: int, user: UserInfo = ALICE) -> None:
    for _ in range(count):
        async with rt.db.transaction() as session:
            await flows.member_joined(session, MemberEvent(GUILD, user, clock.now()))
        clock.advance(timedelta(hours=1))


async def test_search_filters_by_user_type_and_time_and_pages_with_buttons(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await record_joins(runtime, clock, 12)
    await record_joins(runtime, clock, 3, UserInfo(99, "carol"))
    mod = int(Permission.VIEW_AUDIT_LOG)
    first = await invoke(runtime, "modlog search", admin=True, user=str(AUTHOR), type="member_join")
    assert "12 entries" in text_of(first) and "<@99>" not in text_of(first)
    next_id = first.buttons[0][2].custom_id
    assert next_id is not None and len(next_id) <= 100
    second = await press(runtime, next_id)
    assert second.update and "Page 2/2" in text_of(second) and "<@99>" not in text_of(second)
    recent = await invoke(runtime, "modlog search", admin=True, days=1)
    assert "15 entries" in text_of(recent)
    inv = Invocation(actor=Actor(42, "m"), guild_id=GUILD, command="modlog search", permissions=mod)
    assert not (await runtime.registry.dispatch(inv)).is_error
    member = await invoke(runtime, "modlog search")
    assert member.is_error and "for moderators" in (member.content or "")
    old = await invoke(runtime, "modlog search", admin=True, until="2026-02-01")
    assert "No matching entries" in text_of(old)
    bad = await invoke(runtime, "modlog search", admin=True, since="yesterday")
    assert bad.is_error and "must be a date like" in (bad.content or "")
    stranger = await press(runtime, next_id, user_id=43)
    assert stranger.is_error


async def test_reasons_are_replaced_but_kept_as_notes_and_notes_add_up(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await record_joins(runtime, clock, 1)
    async with runtime.db.read() as session:
        from sqlalchemy import select

        case = int((await session.scalars(select(ModlogEntry.id))).one())
    await invoke(runtime, "modlog reason", admin=True, case=case, text="alt account")
    await invoke(runtime, "modlog reason", admin=True, case=case, text="raid account")
    await invoke(runtime, "modlog note", admin=True, case=case, text="joined with 20 others")
    shown = text_of(await invoke(runtime, "modlog case", admin=True, number=case))
    assert "Reason: raid account" in shown
    assert "Previous reason: alt account" in shown and "joined with 20 others" in shown
    other_guild = await invoke(runtime, "modlog case", admin=True, guild_id=2, number=case)
    assert other_guild.is_error and f"no case #{case}" in (other_guild.content or "")
    empty = await invoke(runtime, "modlog note", admin=True, case=case, text="   ")
    assert empty.is_error
