"""A ticket's life through the gateway door and the Discord emulator: a panel button opens it in a
private channel, staff claim it, the conversation is recorded, closing DMs the opener the transcript
and archives the channel, and reopening brings it back. Then Discord's channel limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kyrios.features.tickets import service
from kyrios.features.tickets.keeper import BOT, MEMBER, VIEW
from kyrios.features.tickets.models import Ticket, TicketStatus
from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.testing.emulator.models import ChannelType
from tests.e2e.gateway_helpers import eventually
from tests.helpers import count_rows

ADMIN = 1 << 3
STAFF = 50


@pytest.fixture
async def ticket_bot(discord_emulator: DiscordEmulator, runtime: Runtime) -> AsyncIterator[KyriosBot]:
    """The bot with the tickets slice's intents (guild messages and their content, for transcripts)."""
    async with running_bot(discord_emulator, runtime, intents=intents_for(["tickets"])) as bot:
        yield bot


async def setup_guild(emu: DiscordEmulator, runtime: Runtime) -> tuple[int, int, int]:
    """Ticket and archive categories, a staff role held by member 50; the rules point at them."""
    category = emu.add_category(1, "Tickets")
    archive = emu.add_category(1, "Archive")
    role = await emu.create_role(1, "Support")  # announced, so the bot knows it
    emu.add_member(1, STAFF, "helper", roles=[role.id])

    async def work(session: Any) -> None:
        await service.configure(
            session,
            1,
            now=runtime.clock.now(),
            category_id=category.id,
            archive_category_id=archive.id,
            staff_role_ids=str(role.id),
        )

    await runtime.db.run(work)
    return category.id, archive.id, role.id


async def the_ticket(runtime: Runtime) -> Ticket | None:
    async with runtime.db.read() as session:
        return await session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))


async def status_is(runtime: Runtime, status: TicketStatus) -> bool:
    ticket = await the_ticket(runtime)
    return ticket is not None and ticket.status is status


async def press(emu: DiscordEmulator, custom_id: str, message_id: int, user_id: int) -> dict[str, Any]:
    sent = await emu.press_button(custom_id, message_id=message_id, user_id=user_id)
    answer: dict[str, Any] = await emu.wait_for_callback(sent["id"])
    return answer


async def test_a_ticket_from_the_panel_to_the_archive_and_back(
    ticket_bot: KyriosBot, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    category, archive, role = await setup_guild(emu, runtime)
    sent = await emu.run_command("ticket panel", permissions=ADMIN)
    posted = await emu.wait_for_callback(sent["id"])
    buttons = posted["data"]["components"][0]["components"]
    assert buttons[0]["custom_id"] == "ticket-open:technical" and len(buttons) == 4
    panel = emu.interaction(sent["id"]).original_message_id
    assert panel is not None

    asked = await press(emu, "ticket-open:technical", panel, 42)
    assert asked["type"] == 9 and asked["data"]["custom_id"] == "ticket-form:technical", asked
    fields = [row["components"][0]["custom_id"] for row in asked["data"]["components"]]
    assert fields == ["title", "description"]
    sent = await emu.submit_modal(
        "ticket-form:technical", {"title": "App crashes", "description": "Since 2.0"}, user_id=42
    )
    opened = await emu.wait_for_callback(sent["id"])
    assert opened["data"]["flags"] == 64 and "Ticket #" in opened["data"]["content"]
    create = await emu.wait_for_request("POST", "/guilds/1/channels")
    channel = emu.channel(int(create.response_body["id"]))
    assert channel.parent_id == category and channel.name.startswith("ticket-")
    rules = {o.id: (o.type, o.allow, o.deny) for o in channel.overwrites}
    assert rules[1] == (0, 0, VIEW)  # @everyone sees nothing
    assert rules[role] == (0, MEMBER, 0) and rules[42] == (1, MEMBER, 0)
    assert rules[emu.bot_user.id] == (1, BOT, 0) and len(rules) == 4
    await eventually(lambda: bool(emu.channel_messages(channel.id)))
    [intro] = emu.channel_messages(channel.id)
    assert "<@42>" in intro.content and intro.embeds[0]["title"].endswith(": App crashes")
    assert intro.embeds[0]["description"] == "Since 2.0"
    claim, close = intro.components[0]["components"]
    ticket = await the_ticket(runtime)
    assert ticket is not None and ticket.channel_id == channel.id and ticket.status is TicketStatus.OPEN

    shot = emu.add_attachment(channel.id, "screen.png", b"png-bytes", "image/png")
    await emu.send_message(channel.id, 42, "It crashes <b>at start</b>", attachments=[shot])
    await emu.send_message(channel.id, STAFF, "Which version?")
    refused = await press(emu, claim["custom_id"], intro.id, 42)
    assert refused["data"]["flags"] == 64 and "staff" in refused["data"]["content"]
    claimed = await press(emu, claim["custom_id"], intro.id, STAFF)
    assert "<@50> now handles" in claimed["data"]["content"]
    assert await status_is(runtime, TicketStatus.IN_PROGRESS)
    await eventually(lambda: the_first_answer_is_stamped(runtime))
    await eventually(lambda: recorded(runtime, ticket.id, "It crashes <b>at start</b>"))

    ask = await press(emu, close["custom_id"], intro.id, STAFF)
    assert ask["data"]["flags"] == 64
    confirm = ask["data"]["components"][0]["components"][0]["custom_id"]
    closing = await emu.press_button(confirm, user_id=STAFF)
    done = await emu.wait_for_callback(closing["id"])
    assert done["type"] == 7 and "closed" in done["data"]["content"]
    await eventually(lambda: bool(emu.dm_messages(42)))
    [dm] = emu.dm_messages(42)
    assert "transcript" in dm.content and dm.attachments[0]["filename"] == f"ticket-{ticket.id}.html"
    async with httpx.AsyncClient() as cdn:
        page = (await cdn.get(dm.attachments[0]["url"])).text
    assert "It crashes &lt;b&gt;at start&lt;/b&gt;" in page and "Which version?" in page
    assert shot["url"] in page and "screen.png" in page and "Ticket claimed" in page
    await eventually(lambda: status_is(runtime, TicketStatus.ARCHIVED))
    assert channel.parent_id == archive
    assert {o.id: o.deny for o in channel.overwrites}[42] == VIEW  # the opener no longer sees it

    again = await emu.run_command("ticket reopen", {"ticket": ticket.id}, user_id=STAFF)
    assert "open again" in (await emu.wait_for_callback(again["id"]))["data"]["content"]
    await eventually(lambda: channel.parent_id == category)
    assert {o.id: o.allow for o in channel.overwrites}[42] == MEMBER
    await eventually(lambda: any("open again" in m.content for m in emu.channel_messages(channel.id)))
    assert await status_is(runtime, TicketStatus.OPEN)


async def recorded(runtime: Runtime, ticket_id: int, content: str) -> bool:
    """Whether the gateway's message has reached the ticket's transcript (listeners run concurrently)."""
    async with runtime.db.read() as session:
        return any(row.content == content for row in await service.transcript(session, ticket_id))


async def the_first_answer_is_stamped(runtime: Runtime) -> bool:
    ticket = await the_ticket(runtime)
    return ticket is not None and ticket.first_response_at is not None


async def test_a_full_category_overflows_and_a_full_guild_refuses(
    ticket_bot: KyriosBot, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    category, _, _ = await setup_guild(emu, runtime)
    for n in range(50):
        emu.add_channel(1, f"old-{n}", parent_id=category)
    sent = await emu.run_command("ticket open", {"category": "general", "title": "Help"})
    await emu.wait_for_callback(sent["id"])
    made = await emu.wait_for_request("POST", "/guilds/1/channels")
    overflow = emu.channel(int(made.response_body["id"]))
    assert overflow.type == ChannelType.CATEGORY and overflow.name == "Tickets 2"
    await eventually(lambda: the_channel_is_under(runtime, emu, overflow.id))

    guild = emu.guild(1)
    while len(guild.channels) < 500:
        emu.add_channel(1, f"filler-{len(guild.channels)}")
    sent = await emu.run_command("ticket open", {"category": "other", "title": "More"}, user_id=43)
    await emu.wait_for_callback(sent["id"])
    await eventually(lambda: bool(emu.dm_messages(43)))
    assert "500 channels" in emu.dm_messages(43)[0].content
    assert await count_rows(runtime, Ticket) == 1 and len(guild.channels) == 500


async def the_channel_is_under(runtime: Runtime, emu: DiscordEmulator, parent: int) -> bool:
    ticket = await the_ticket(runtime)
    return (
        ticket is not None
        and ticket.channel_id is not None
        and emu.channel(ticket.channel_id).parent_id == parent
    )


async def test_the_sweeper_pings_staff_warns_the_opener_and_auto_closes(
    ticket_bot: KyriosBot, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    _, archive, role = await setup_guild(emu, runtime)

    async def auto_close(session: Any) -> None:
        await service.configure(session, 1, now=runtime.clock.now(), auto_close_hours=1)

    await runtime.db.run(auto_close)
    sent = await emu.run_command("ticket open", {"category": "technical", "title": "Stuck"})
    await emu.wait_for_callback(sent["id"])
    await eventually(lambda: has_channel(runtime))
    ticket = await the_ticket(runtime)
    assert ticket is not None and ticket.channel_id is not None
    channel_id = ticket.channel_id
    await eventually(lambda: bool(emu.channel_messages(channel_id)))  # the intro
    now = runtime.clock.now()

    async def overdue(session: Any) -> None:  # the deadline passed; staff answered the opener 50 min ago
        row = await session.get(Ticket, ticket.id)
        row.response_due_at = now - timedelta(minutes=1)
        row.last_opener_at = now - timedelta(hours=3)
        row.last_staff_at = now - timedelta(minutes=50)

    await runtime.db.run(overdue)
    sweeper = ticket_bot.get_cog("tickets").sweeper  # type: ignore[union-attr]
    await sweeper.sweep()
    posted = [m for m in emu.channel_messages(channel_id) if m.author_id == emu.bot_user.id][1:]
    reminder, warning = posted
    assert f"<@&{role}>" in reminder.content and "response deadline" in reminder.content
    ping = emu.traffic.matching("POST", f"/channels/{channel_id}/messages")[1].json
    assert ping["allowed_mentions"]["roles"] == [str(role)]
    assert "<@42>" in warning.content and "closes" in warning.content

    async def idle(session: Any) -> None:  # the warning went out 20 minutes ago, staff spoke 2 h ago
        row = await session.get(Ticket, ticket.id)
        row.warned_at = now - timedelta(minutes=20)
        row.last_staff_at = now - timedelta(hours=2)

    await runtime.db.run(idle)
    await sweeper.sweep()
    await eventually(lambda: status_is(runtime, TicketStatus.ARCHIVED))
    assert emu.channel(channel_id).parent_id == archive
    [dm] = emu.dm_messages(42)
    assert dm.attachments[0]["filename"] == f"ticket-{ticket.id}.html"
    await sweeper.sweep()  # nothing more is due: no second reminder or warning
    assert len([m for m in emu.channel_messages(channel_id) if m.author_id == emu.bot_user.id]) == 3


async def has_channel(runtime: Runtime) -> bool:
    ticket = await the_ticket(runtime)
    return ticket is not None and ticket.channel_id is not None


async def test_staff_add_remove_and_rename_change_the_channel(
    ticket_bot: KyriosBot, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    await setup_guild(emu, runtime)
    emu.add_member(1, 43, "witness")
    sent = await emu.run_command("ticket open", {"category": "moderation", "title": "Report"})
    await emu.wait_for_callback(sent["id"])
    await eventually(lambda: has_channel(runtime))
    ticket = await the_ticket(runtime)
    assert ticket is not None and ticket.channel_id is not None
    channel = emu.channel(ticket.channel_id)

    async def staff(path: str, options: dict[str, Any]) -> str:
        sent = await emu.run_command(
            path, options, user_id=STAFF, channel_id=channel.id, option_types={"member": 6}
        )
        content: str = (await emu.wait_for_callback(sent["id"]))["data"]["content"]
        return content

    assert "can now see" in await staff("ticket add", {"member": "43"})
    await emu.wait_for_request("PUT", f"/channels/{channel.id}/permissions/43")
    assert {o.id: o.allow for o in channel.overwrites}[43] == MEMBER
    assert "called case-7" in await staff("ticket rename", {"name": "Case 7"})
    await eventually(lambda: channel.name == "case-7")
    assert "no longer sees" in await staff("ticket remove", {"member": "43"})
    await emu.wait_for_request("DELETE", f"/channels/{channel.id}/permissions/43")
    assert 43 not in {o.id for o in channel.overwrites}
    refused = await staff("ticket remove", {"member": "42"})
    assert "opener stays" in refused and 42 in {o.id for o in channel.overwrites}


async def test_a_transcript_the_opener_cannot_receive_stays_in_the_archived_channel(
    ticket_bot: KyriosBot, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    await setup_guild(emu, runtime)
    emu.dms_closed.add(42)
    sent = await emu.run_command("ticket open", {"category": "other", "title": "Private"})
    await emu.wait_for_callback(sent["id"])
    await eventually(lambda: has_channel(runtime))
    ticket = await the_ticket(runtime)
    assert ticket is not None and ticket.channel_id is not None
    ask = await emu.run_command("ticket close", {"reason": "done"}, channel_id=ticket.channel_id)
    confirm = (await emu.wait_for_callback(ask["id"]))["data"]["components"][0]["components"][0]
    closing = await emu.press_button(confirm["custom_id"])
    await emu.wait_for_callback(closing["id"])
    await eventually(lambda: status_is(runtime, TicketStatus.ARCHIVED))
    kept = emu.channel_messages(ticket.channel_id)[-1]
    assert "DMs are closed" in kept.content and kept.attachments[0]["filename"] == f"ticket-{ticket.id}.html"
    assert emu.dm_messages(42) == []


async def test_a_deleted_ticket_reopened_in_a_full_guild_is_closed_again_not_lost(
    ticket_bot: KyriosBot, discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    await setup_guild(emu, runtime)

    async def deleting(session: Any) -> None:
        await service.configure(session, 1, now=runtime.clock.now(), delete_on_close=True)

    await runtime.db.run(deleting)
    sent = await emu.run_command("ticket open", {"category": "general", "title": "Gone soon"})
    await emu.wait_for_callback(sent["id"])
    await eventually(lambda: has_channel(runtime))
    ticket = await the_ticket(runtime)
    assert ticket is not None and ticket.channel_id is not None
    ask = await emu.run_command("ticket close", {}, channel_id=ticket.channel_id)
    confirm = (await emu.wait_for_callback(ask["id"]))["data"]["components"][0]["components"][0]
    await emu.wait_for_callback((await emu.press_button(confirm["custom_id"]))["id"])
    await emu.wait_for_request("DELETE", f"/channels/{ticket.channel_id}")
    await eventually(lambda: status_is(runtime, TicketStatus.ARCHIVED))
    guild = emu.guild(1)
    while len(guild.channels) < 500:
        emu.add_channel(1, f"filler-{len(guild.channels)}")
    again = await emu.run_command("ticket reopen", {"ticket": ticket.id})
    assert "open again" in (await emu.wait_for_callback(again["id"]))["data"]["content"]
    await eventually(lambda: len(emu.dm_messages(42)) == 2)  # the transcript, then the refusal
    assert "500 channels" in emu.dm_messages(42)[-1].content
    closed = await the_ticket(runtime)
    assert closed is not None and closed.id == ticket.id and closed.close_reason.startswith("Reopen refused")
