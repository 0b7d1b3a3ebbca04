"""Every test-side event reaches discord.py as the right object, with state and audit log kept consistent."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from PIL import Image

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import WAIT_SECONDS, AuditAction, DiscordEmulator, running_bot

INTENTS = discord.Intents(guilds=True, members=True, moderation=True, messages=True, message_content=True)
MOD = 43


@pytest.fixture
async def bot(discord_emulator: DiscordEmulator, runtime: Runtime) -> AsyncIterator[KyriosBot]:
    """The bot with the intents moderation logging needs, members chunked at startup."""
    discord_emulator.add_member(1, MOD, "mod")
    async with running_bot(
        discord_emulator, runtime, intents=INTENTS, chunk_guilds_at_startup=True
    ) as running:
        yield running


async def expect(bot: KyriosBot, event: str, trigger: Awaitable[Any]) -> Any:
    """Run `trigger` and return what discord.py dispatched as `event` (the listener is registered first)."""
    seen, _ = await asyncio.gather(bot.wait_for(event, timeout=WAIT_SECONDS), trigger)
    return seen


def png(colour: tuple[int, int, int]) -> bytes:
    """A small real PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_emulator_message_create_edit_delete(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    photo = discord_emulator.add_attachment(10, "cat.png", png((1, 2, 3)), "image/png")
    message = await expect(
        bot, "message", discord_emulator.send_message(10, 42, "hello", attachments=[photo])
    )
    assert message.content == "hello" and message.author.id == 42 and message.channel.id == 10
    assert await message.attachments[0].read() == png((1, 2, 3))
    edit = await expect(bot, "raw_message_edit", discord_emulator.edit_message(10, message.id, "hello!"))
    assert edit.message_id == message.id and edit.data["content"] == "hello!"
    deleted = await expect(
        bot, "raw_message_delete", discord_emulator.delete_message(10, message.id, deleted_by=MOD)
    )
    assert deleted.message_id == message.id and deleted.cached_message is not None
    entry = discord_emulator.guild(1).audit_log[-1]
    assert (entry.action_type, entry.user_id, entry.target_id) == (AuditAction.MESSAGE_DELETE, MOD, 42)
    assert entry.options == {"channel_id": "10", "count": "1"}
    second = await discord_emulator.send_message(10, 42, "again")
    await discord_emulator.delete_message(10, second.id, deleted_by=MOD)
    assert entry.options["count"] == "2" and discord_emulator.guild(1).audit_log[-1] is entry


async def test_emulator_message_content_needs_the_intent(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    no_content = discord.Intents(guilds=True, messages=True)
    async with running_bot(discord_emulator, runtime, intents=no_content) as plain:
        message = await expect(plain, "message", discord_emulator.send_message(10, 42, "secret"))
        assert message.content == ""
    async with running_bot(discord_emulator, runtime) as guilds_only:
        assert await discord_emulator.member_join(1, 77) == discord_emulator.member(1, 77)
        assert guilds_only.get_guild(1) is not None
    assert discord_emulator.gateway.dispatched("GUILD_MEMBER_ADD") == []  # no GUILD_MEMBERS intent


async def test_emulator_member_join_leave_kick_ban(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    member = await expect(bot, "member_join", discord_emulator.member_join(1, 77, "newbie"))
    assert member.name == "newbie" and member.guild.id == 1
    left = await expect(bot, "raw_member_remove", discord_emulator.member_leave(1, 77))
    assert left.user.id == 77
    entry = await expect(bot, "audit_log_entry_create", discord_emulator.kick_member(1, 42, moderator_id=MOD))
    assert entry.action is discord.AuditLogAction.kick and entry.user_id == MOD and entry.target.id == 42
    discord_emulator.add_member(1, 78)
    _, banned = await expect(
        bot, "member_ban", discord_emulator.ban_member(1, 78, moderator_id=MOD, reason="raid")
    )
    assert banned.id == 78 and 78 in discord_emulator.guild(1).bans
    _, unbanned = await expect(bot, "member_unban", discord_emulator.unban_member(1, 78, moderator_id=MOD))
    assert unbanned.id == 78
    actions = [e.action_type for e in discord_emulator.guild(1).audit_log]
    assert actions == [AuditAction.MEMBER_KICK, AuditAction.MEMBER_BAN_ADD, AuditAction.MEMBER_BAN_REMOVE]


async def test_emulator_member_roles_and_timeout(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    vip = await expect(bot, "guild_role_create", discord_emulator.create_role(1, "VIP", color=0xF1C40F))
    assert vip.name == "VIP"
    before, after = await expect(
        bot, "member_update", discord_emulator.update_member(1, 42, roles=[vip.id], moderator_id=MOD)
    )
    assert vip not in before.roles and vip in after.roles
    role_entry = discord_emulator.guild(1).audit_log[-1]
    assert role_entry.action_type == AuditAction.MEMBER_ROLE_UPDATE
    assert role_entry.changes == [{"key": "$add", "new_value": [{"id": str(vip.id), "name": "VIP"}]}]
    until = datetime.now(UTC) + timedelta(minutes=10)
    _, timed_out = await expect(
        bot, "member_update", discord_emulator.update_member(1, 42, timeout_until=until, moderator_id=MOD)
    )
    assert timed_out.is_timed_out()
    assert discord_emulator.guild(1).audit_log[-1].action_type == AuditAction.MEMBER_UPDATE
    _, renamed = await expect(bot, "guild_role_update", discord_emulator.update_role(1, vip.id, name="VIP+"))
    assert renamed.name == "VIP+"
    gone = await expect(bot, "guild_role_delete", discord_emulator.delete_role(1, vip.id))
    assert gone.id == vip.id and vip.id not in discord_emulator.member(1, 42).roles


async def test_emulator_channel_create_and_delete(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    created = await expect(
        bot, "guild_channel_create", discord_emulator.create_channel(1, "news", moderator_id=MOD)
    )
    assert created.name == "news"
    deleted = await expect(
        bot, "guild_channel_delete", discord_emulator.delete_channel(created.id, moderator_id=MOD)
    )
    assert deleted.id == created.id and bot.get_channel(created.id) is None
    actions = [e.action_type for e in discord_emulator.guild(1).audit_log]
    assert actions == [AuditAction.CHANNEL_CREATE, AuditAction.CHANNEL_DELETE]


async def test_emulator_avatar_change_arrives_and_the_image_is_fetched_from_the_cdn(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    red = png((200, 10, 10))
    before, after = await expect(bot, "user_update", discord_emulator.update_user(42, avatar_image=red))
    assert before.avatar is None and after.avatar is not None
    assert after.avatar.url.startswith(discord_emulator.base_url)
    assert await after.avatar.read() == red  # through the bot's own HTTP session
    with Image.open(io.BytesIO(await after.display_avatar.read())) as image:
        assert image.getpixel((0, 0)) == (200, 10, 10)


async def test_emulator_bot_user_update(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    # discord.py updates its own user from USER_UPDATE without dispatching an event.
    renamed = discord_emulator.update_user(discord_emulator.bot_user.id, username="Kyrios2")
    seen = bot.wait_for("socket_event_type", check=lambda kind: kind == "USER_UPDATE", timeout=WAIT_SECONDS)
    await asyncio.gather(seen, renamed)
    assert bot.user is not None and bot.user.name == "Kyrios2"


async def test_emulator_bot_actions_change_state_and_are_audited(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    guild = bot.get_guild(1)
    assert guild is not None
    staff = await discord_emulator.create_role(1, "Staff")
    overwrites: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False)
    }
    category = await guild.create_category("Tickets", overwrites=overwrites, reason="tickets set-up")
    ticket = await guild.create_text_channel("ticket-1", category=category, reason="opened")
    assert discord_emulator.channel(ticket.id).parent_id == category.id
    assert (
        discord_emulator.channel(category.id).overwrites[0].deny
        == discord.Permissions(view_channel=True).value
    )
    member = guild.get_member(42)
    assert member is not None
    await ticket.set_permissions(member, view_channel=True, send_messages=True)
    await member.add_roles(discord.Object(staff.id), reason="helper")
    assert staff.id in discord_emulator.member(1, 42).roles
    request = await discord_emulator.wait_for_request("PUT", f"/guilds/1/members/42/roles/{staff.id}")
    assert request.reason == "helper"
    await ticket.delete(reason="closed")
    entries = [(e.action_type, e.reason) for e in discord_emulator.guild(1).audit_log]
    assert (AuditAction.CHANNEL_CREATE, "opened") in entries
    assert (AuditAction.MEMBER_ROLE_UPDATE, "helper") in entries
    assert (AuditAction.CHANNEL_DELETE, "closed") in entries


async def test_emulator_direct_messages_and_closed_dms(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    user = await bot.fetch_user(42)
    await user.send("your ticket was closed")
    assert [m.content for m in discord_emulator.dm_messages(42)] == ["your ticket was closed"]
    discord_emulator.dms_closed.add(42)
    with pytest.raises(discord.Forbidden) as closed:
        await user.send("again")
    assert closed.value.code == 50007
    await discord_emulator.wait_until(
        lambda: len(discord_emulator.requests("POST", "/users/@me/channels")) >= 1
    )


async def test_emulator_bot_kicks_bans_and_purges(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    guild = bot.get_guild(1)
    assert guild is not None
    discord_emulator.add_member(1, 78, "raider")
    await guild.kick(discord.Object(42), reason="spam")
    await guild.ban(discord.Object(78), reason="raid", delete_message_seconds=0)
    assert (await guild.fetch_ban(discord.Object(78))).reason == "raid"
    await guild.unban(discord.Object(78))
    with pytest.raises(discord.NotFound):
        await guild.fetch_ban(discord.Object(78))
    posted = [await discord_emulator.send_message(10, MOD, f"spam {n}") for n in range(3)]
    channel = guild.get_channel(10)
    assert isinstance(channel, discord.TextChannel)
    await channel.delete_messages([discord.Object(m.id) for m in posted], reason="purge")
    assert discord_emulator.channel_messages(10) == []
    log = [(e.action_type, e.user_id, e.reason) for e in discord_emulator.guild(1).audit_log]
    me = discord_emulator.bot_user.id
    assert log == [
        (AuditAction.MEMBER_KICK, me, "spam"),
        (AuditAction.MEMBER_BAN_ADD, me, "raid"),
        (AuditAction.MEMBER_BAN_REMOVE, me, None),
        (AuditAction.MESSAGE_BULK_DELETE, me, "purge"),
    ]
    assert 42 not in discord_emulator.guild(1).members
