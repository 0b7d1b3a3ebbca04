"""Every `DiscordPort` operation through both implementations, checked against the emulator's state.

`gateway` is the running `KyriosBot`'s port (discord.py's HTTP client); `rest` is the bot-token REST
port the HTTP-interactions-only deployment uses. Both must leave Discord in the same state and
fail with the same port errors.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from kyrios.core.discord_rest import RestDiscordPort
from kyrios.core.ports import (
    CANNOT_DM_USER,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_ROLE,
    ChannelType,
    DiscordError,
    DiscordForbidden,
    DiscordNotFound,
    DiscordPort,
    DiscordRateLimited,
    Overwrite,
    OverwriteType,
    Upload,
)
from kyrios.runtime import Runtime
from kyrios.testing.emulator import AuditAction, DiscordEmulator, running_bot
from kyrios.testing.emulator.models import snowflake
from kyrios.testing.emulator.server import channel_messages_path
from kyrios.testing.emulator.state import InteractionRecord

GUILD, GENERAL, TESTER = 1, 10, 42
VIEW_CHANNEL, SEND_MESSAGES, READ_HISTORY = 1 << 10, 1 << 11, 1 << 16
PATIENCE = 30.0  # seconds either port waits out a 429 by itself (discord.py's minimum)
TRANSCRIPT = b"<!doctype html><title>Ticket 7</title><p>tester: my order never came</p>"


@pytest.fixture(params=["gateway", "rest"])
async def port(
    request: pytest.FixtureRequest, discord_emulator: DiscordEmulator, runtime: Runtime
) -> AsyncIterator[DiscordPort]:
    """The port under test, talking to `discord_emulator`."""
    if request.param == "gateway":
        async with running_bot(discord_emulator, runtime, max_ratelimit_timeout=PATIENCE) as bot:
            assert runtime.discord is bot.port  # the bot lends its port to the runtime while it runs
            yield bot.port
        assert runtime.discord is None
        return
    rest = RestDiscordPort(
        discord_emulator.token, api_base=discord_emulator.api_base, max_retry_after=PATIENCE
    )
    try:
        yield rest
    finally:
        await rest.aclose()
    assert discord_emulator.traffic.unhandled == []


# messages -------------------------------------------------------------------------------------------


async def test_a_message_with_embeds_buttons_mentions_and_a_reply_reference(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    asked = emu.add_message(GENERAL, TESTER, "where is my order?")
    body = {
        "content": "<@42> we are on it",
        "embeds": [{"title": "Ticket #7", "description": "opened"}],
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 4, "label": "Close", "custom_id": "close:7"}]}
        ],
        "allowed_mentions": {"parse": []},
        "message_reference": {"message_id": str(asked.id), "fail_if_not_exists": False},
    }
    sent = await port.send_message(GENERAL, body)
    stored = emu.messages[sent.id]
    assert (sent.channel_id, sent.content) == (GENERAL, "<@42> we are on it")
    assert stored.content == "<@42> we are on it" and stored.embeds[0]["title"] == "Ticket #7"
    assert stored.components[0]["components"][0]["custom_id"] == "close:7"
    request = emu.requests("POST", channel_messages_path(GENERAL))[-1]
    assert request.json["message_reference"]["message_id"] == str(asked.id)
    assert request.json["allowed_mentions"] == {"parse": []}


async def test_edit_then_delete_a_message(port: DiscordPort, discord_emulator: DiscordEmulator) -> None:
    emu = discord_emulator
    sent = await port.send_message(GENERAL, {"content": "draft"})
    edited = await port.edit_message(GENERAL, sent.id, {"content": "final", "embeds": [{"title": "Case 3"}]})
    assert edited.id == sent.id and emu.messages[sent.id].content == "final"
    assert emu.messages[sent.id].embeds[0]["title"] == "Case 3"
    await port.delete_message(GENERAL, sent.id, reason="cleaning up")
    assert sent.id not in emu.messages


async def test_files_are_uploaded_with_the_message_and_served_by_the_cdn(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    files = [
        Upload("ticket-7.html", TRANSCRIPT, "text/html", description="Transcript of ticket 7"),
        Upload("notes.txt", "記録 ✓".encode()),
    ]
    sent = await port.send_message(GENERAL, {"content": "Transcript attached"}, files=files)
    assert [a.filename for a in sent.attachments] == ["ticket-7.html", "notes.txt"]
    assert emu.messages[sent.id].content == "Transcript attached"
    async with httpx.AsyncClient() as cdn:
        served = [(await cdn.get(a.url)).content for a in sent.attachments]
    assert served == [TRANSCRIPT, "記録 ✓".encode()]
    payload = emu.requests("POST", channel_messages_path(GENERAL))[-1].json
    assert payload["attachments"][0] == {
        "id": 0,
        "filename": "ticket-7.html",
        "description": "Transcript of ticket 7",
    }


async def test_a_dm_with_a_file_reaches_the_member(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    first, again = await port.open_dm(TESTER), await port.open_dm(TESTER)
    assert first == again  # Discord keeps one DM channel per user
    sent = await port.send_dm(
        TESTER, {"content": "Your ticket was closed."}, files=[Upload("t.html", TRANSCRIPT)]
    )
    [dm] = emu.dm_messages(TESTER)
    assert dm.id == sent.id and dm.channel_id == first and dm.content == "Your ticket was closed."
    assert dm.attachments[0]["filename"] == "t.html" and sent.attachments[0].size == len(TRANSCRIPT)


# members and roles ----------------------------------------------------------------------------------


async def test_a_role_is_given_and_taken_with_the_reason_in_the_audit_log(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    role = emu.add_role(GUILD, "Ticket opener")
    await port.add_role(GUILD, TESTER, role.id, reason="opened ticket 7")
    assert role.id in emu.member(GUILD, TESTER).roles
    member = await port.member(GUILD, TESTER)
    assert (member.user_id, member.username, member.roles) == (TESTER, "tester", (role.id,))
    await port.remove_role(GUILD, TESTER, role.id, reason="closed ticket 7")
    assert role.id not in emu.member(GUILD, TESTER).roles
    entries = await port.audit_log(GUILD, action_type=AuditAction.MEMBER_ROLE_UPDATE, user_id=emu.bot_user.id)
    assert [e.reason for e in entries] == ["closed ticket 7", "opened ticket 7"]  # newest first
    assert all(e.target_id == TESTER for e in entries)
    older = await port.audit_log(
        GUILD, action_type=AuditAction.MEMBER_ROLE_UPDATE, before=entries[0].id, limit=5
    )
    assert [e.id for e in older] == [entries[1].id]


# channels ---------------------------------------------------------------------------------------------


async def test_a_ticket_channel_is_created_moved_to_the_archive_and_deleted(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    staff = emu.add_role(GUILD, "Support")
    everyone_hidden = Overwrite(GUILD, OverwriteType.ROLE, deny=VIEW_CHANNEL)
    opener = Overwrite(TESTER, OverwriteType.MEMBER, allow=VIEW_CHANNEL | SEND_MESSAGES | READ_HISTORY)
    staff_sees = Overwrite(staff.id, OverwriteType.ROLE, allow=VIEW_CHANNEL | SEND_MESSAGES)
    bot_sees = Overwrite(emu.bot_user.id, OverwriteType.MEMBER, allow=VIEW_CHANNEL | SEND_MESSAGES)
    tickets = await port.create_channel(
        GUILD, "Tickets", kind=ChannelType.CATEGORY, overwrites=[everyone_hidden]
    )
    archive = await port.create_channel(GUILD, "Archive", kind=ChannelType.CATEGORY, reason="ticket archive")
    channel = await port.create_channel(
        GUILD,
        "ticket-7",
        parent_id=tickets.id,
        topic="Order never came",
        overwrites=[everyone_hidden, bot_sees, opener, staff_sees],
        reason="ticket 7 opened by tester",
    )
    state = emu.channel(channel.id)
    assert (state.name, state.parent_id, state.topic) == ("ticket-7", tickets.id, "Order never came")
    assert {(o.id, o.allow, o.deny) for o in state.overwrites} == {
        (GUILD, 0, VIEW_CHANNEL),
        (emu.bot_user.id, bot_sees.allow, 0),
        (TESTER, opener.allow, 0),
        (staff.id, staff_sees.allow, 0),
    }
    assert channel.overwrites == (everyone_hidden, bot_sees, opener, staff_sees) and channel.guild_id == GUILD

    opener_reads_only = Overwrite(
        TESTER, OverwriteType.MEMBER, allow=VIEW_CHANNEL | READ_HISTORY, deny=SEND_MESSAGES
    )
    moved = await port.edit_channel(
        channel.id,
        name="closed-7",
        parent_id=archive.id,
        position=0,
        overwrites=[everyone_hidden, bot_sees, opener_reads_only],
        reason="ticket 7 closed",
    )
    state = emu.channel(channel.id)
    assert (moved.parent_id, state.parent_id, state.name, state.position) == (
        archive.id,
        archive.id,
        "closed-7",
        0,
    )
    assert state.topic == "Order never came"  # untouched: not given
    assert {(o.id, o.allow, o.deny) for o in state.overwrites} == {
        (GUILD, 0, VIEW_CHANNEL),
        (emu.bot_user.id, bot_sees.allow, 0),
        (TESTER, opener_reads_only.allow, SEND_MESSAGES),
    }

    await port.set_overwrite(
        channel.id, Overwrite(staff.id, OverwriteType.ROLE, allow=VIEW_CHANNEL), reason="staff"
    )
    assert any(o.id == staff.id and o.allow == VIEW_CHANNEL for o in emu.channel(channel.id).overwrites)
    await port.delete_overwrite(channel.id, TESTER, reason="opener removed")
    assert TESTER not in {o.id for o in emu.channel(channel.id).overwrites}

    listed = {c.id: c for c in await port.guild_channels(GUILD)}
    assert listed[channel.id].parent_id == archive.id and listed[tickets.id].type == ChannelType.CATEGORY
    unfiled = await port.edit_channel(channel.id, parent_id=None)
    assert unfiled.parent_id is None and emu.channel(channel.id).parent_id is None

    await port.delete_channel(channel.id, reason="ticket 7 purged")
    assert channel.id not in emu.guild(GUILD).channels
    created = await port.audit_log(GUILD, action_type=AuditAction.CHANNEL_CREATE, limit=2)
    assert [(e.target_id, e.reason) for e in created] == [
        (channel.id, "ticket 7 opened by tester"),
        (archive.id, "ticket archive"),
    ]


# interactions ---------------------------------------------------------------------------------------


def pending_interaction(emu: DiscordEmulator) -> InteractionRecord:
    """An interaction Discord sent that nobody has answered yet (the bot never saw it)."""
    record = InteractionRecord(snowflake(), secrets.token_urlsafe(24), GUILD, GENERAL, None)
    emu.interactions[record.token] = record
    return record


async def test_a_deferred_interaction_is_answered_edited_and_followed_up(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    record = pending_interaction(emu)
    await port.interaction_callback(record.id, record.token, {"type": 5})
    assert record.callback == {"type": 5} and record.original_message_id is not None
    original = await port.edit_original(emu.application_id, record.token, {"content": "3 tickets open"})
    assert original.id == record.original_message_id
    assert emu.messages[original.id].content == "3 tickets open"
    assert emu.messages[original.id].flags == 0  # the loading state is over
    extra = await port.followup(emu.application_id, record.token, {"content": "and one more", "flags": 64})
    assert record.followups == [extra.id] and emu.messages[extra.id].content == "and one more"


async def test_a_deferred_original_can_be_deleted_for_a_private_follow_up(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    record = pending_interaction(emu)
    await port.interaction_callback(record.id, record.token, {"type": 5})
    thinking = record.original_message_id
    assert thinking in emu.messages
    await port.delete_original(emu.application_id, record.token)
    assert thinking not in emu.messages
    private = await port.followup(emu.application_id, record.token, {"content": "only you", "flags": 64})
    assert emu.messages[private.id].flags & 64
    with pytest.raises(DiscordNotFound):
        await port.delete_original(emu.application_id, record.token)


async def test_an_interaction_answered_twice_is_refused(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    record = pending_interaction(discord_emulator)
    await port.interaction_callback(record.id, record.token, {"type": 4, "data": {"content": "hi"}})
    with pytest.raises(DiscordError, match="already been acknowledged") as refused:
        await port.interaction_callback(record.id, record.token, {"type": 4, "data": {"content": "again"}})
    assert (refused.value.status, refused.value.code) == (400, 40060)


# errors ---------------------------------------------------------------------------------------------


async def test_a_deleted_channel_or_role_is_not_found(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    gone = emu.add_channel(GUILD, "old-log")
    await emu.delete_channel(gone.id)
    with pytest.raises(DiscordNotFound) as missing:
        await port.send_message(gone.id, {"content": "hello?"})
    assert (missing.value.status, missing.value.code) == (404, UNKNOWN_CHANNEL)
    with pytest.raises(DiscordNotFound) as role:
        await port.add_role(GUILD, TESTER, 123456)
    assert role.value.code == UNKNOWN_ROLE


async def test_missing_permissions_access_and_closed_dms_are_forbidden(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    muted, hidden = emu.add_channel(GUILD, "announcements"), emu.add_channel(GUILD, "staff-only")
    emu.revoke_permission(GUILD, "send_messages", channel_id=muted.id)
    emu.forbid_channel(hidden.id)
    emu.dms_closed.add(TESTER)
    with pytest.raises(DiscordForbidden) as no_send:
        await port.send_message(muted.id, {"content": "news"})
    with pytest.raises(DiscordForbidden) as no_access:
        await port.edit_channel(hidden.id, name="renamed")
    with pytest.raises(DiscordForbidden) as no_dm:
        await port.send_dm(TESTER, {"content": "your transcript"})
    assert [no_send.value.code, no_access.value.code, no_dm.value.code] == [
        MISSING_PERMISSIONS,
        MISSING_ACCESS,
        CANNOT_DM_USER,
    ]
    assert emu.channel_messages(muted.id) == [] and emu.channel(hidden.id).name == "staff-only"


async def test_429s_are_waited_out_and_a_long_one_is_raised(
    port: DiscordPort, discord_emulator: DiscordEmulator
) -> None:
    emu = discord_emulator
    path = channel_messages_path(GENERAL)
    emu.arm_rate_limit("POST", path, count=2, retry_after=0.2)
    sent = await port.send_message(GENERAL, {"content": "after the wait"})
    assert [r.status for r in emu.requests("POST", path)] == [429, 429, 200]
    assert [m.id for m in emu.channel_messages(GENERAL)] == [sent.id]
    emu.arm_rate_limit("PATCH", f"/channels/{GENERAL}", retry_after=PATIENCE + 30)
    with pytest.raises(DiscordRateLimited) as limited:
        await port.edit_channel(GENERAL, name="renamed")
    assert limited.value.retry_after == PATIENCE + 30 and emu.channel(GENERAL).name == "general"
