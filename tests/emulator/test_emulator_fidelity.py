"""The emulator's JSON matches discord.py's TypedDicts, and discord.py parses it into real objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import httpx
import pytest

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import AuditAction, DiscordEmulator, Overwrite, running_bot
from kyrios.testing.emulator.fidelity import gateway_errors, load_discord_types, shape_errors

load_discord_types()
from discord.types import (  # noqa: E402  (after the import-cycle fix above)
    appinfo,
    audit_log,
    channel,
    gateway,
    guild,
    interactions,
    member,
    message,
    role,
    user,
)

INTENTS = discord.Intents(guilds=True, members=True, moderation=True, messages=True, message_content=True)


@pytest.fixture
async def furnished() -> AsyncIterator[DiscordEmulator]:
    """The standard guild plus a category with overwrites, a nicked member, a message, audit entries."""
    async with DiscordEmulator() as emu:
        emu.add_standard_guild()
        mods = emu.add_role(
            1, "Mods", permissions=discord.Permissions(kick_members=True).value, color=0x3498DB
        )
        hidden = [
            Overwrite(1, 0, deny=1024),
            Overwrite(mods.id, 0, allow=1024),
            Overwrite(emu.bot_role(1).id, 0, allow=1024),
        ]
        emu.add_category(1, "Tickets", channel_id=30, overwrites=hidden)
        emu.add_channel(1, "ticket-1", channel_id=31, parent_id=30, topic="help")
        emu.add_member(1, 43, "mod", roles=[mods.id], nick="Moddy")
        emu.member(1, 43).communication_disabled_until = datetime.now(UTC) + timedelta(minutes=5)
        emu.add_message(10, 42, "hello", embeds=[{"type": "rich", "title": "t", "fields": []}])
        await emu.add_audit_entry(1, AuditAction.MEMBER_KICK, 43, 42, reason="spam", dispatch=False)
        options = {"channel_id": "10", "count": "2"}
        await emu.add_audit_entry(1, AuditAction.MESSAGE_DELETE, 43, 42, options=options, dispatch=False)
        yield emu


async def get(emu: DiscordEmulator, path: str) -> Any:
    """GET an API path with the bot's token, asserting Discord's exact JSON content type."""
    headers = {"Authorization": f"Bot {emu.token}"}
    async with httpx.AsyncClient() as client:
        response = await client.get(emu.api_base + path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-RateLimit-Bucket"]
    return response.json()


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/users/@me", user.User),
        ("/users/42", user.User),
        ("/oauth2/applications/@me", appinfo.AppInfo),
        ("/gateway/bot", gateway.GatewayBot),
        ("/guilds/1", guild.Guild),
        ("/guilds/1/members/43", member.MemberWithUser),
        ("/channels/30", channel.CategoryChannel),
        ("/channels/31", channel.TextChannel),
        ("/guilds/1/audit-logs", audit_log.AuditLog),
    ],
)
async def test_emulator_rest_shapes_match_discord_py_types(
    furnished: DiscordEmulator, path: str, shape: Any
) -> None:
    assert shape_errors(await get(furnished, path), shape) == []


async def test_emulator_list_shapes_match_discord_py_types(furnished: DiscordEmulator) -> None:
    for item in await get(furnished, "/guilds/1/roles"):
        assert shape_errors(item, role.Role) == []
    for item in await get(furnished, "/guilds/1/channels"):
        assert shape_errors(item, channel.GuildChannel) == []
    for item in await get(furnished, "/channels/10/messages"):
        assert shape_errors(item, message.Message) == []


async def test_emulator_shape_checker_notices_a_broken_shape() -> None:
    broken = {"id": 1, "username": "x", "discriminator": "0", "global_name": None}
    errors = shape_errors(broken, user.User)
    assert errors == ["$: missing 'avatar' (User)"]
    assert shape_errors({**broken, "avatar": None, "bot": "yes"}, user.User) == [
        "$.bot: expected bool, got str 'yes'"
    ]


async def test_emulator_gateway_frames_match_discord_py_types(
    furnished: DiscordEmulator, runtime: Runtime
) -> None:
    async with running_bot(furnished, runtime, intents=INTENTS, chunk_guilds_at_startup=True):
        await furnished.member_join(1, 77, "newbie")
        await furnished.send_message(10, 77, "hi there <@43>", mentions=[43])
        await furnished.edit_message(10, furnished.channel_messages(10)[-1].id, "hi again")
        await furnished.update_member(1, 43, nick=None)
        sent = await furnished.run_command("gacha rates")
        await furnished.wait_for_callback(sent["id"])
    shapes = {
        "READY": gateway.ReadyEvent,
        "GUILD_CREATE": gateway.GuildCreateEvent,
        "GUILD_MEMBER_ADD": gateway.GuildMemberAddEvent,
        "GUILD_MEMBER_UPDATE": gateway.GuildMemberUpdateEvent,
        "GUILD_MEMBERS_CHUNK": gateway.GuildMembersChunkEvent,
        "MESSAGE_CREATE": gateway.MessageCreateEvent,
        "MESSAGE_UPDATE": gateway.MessageUpdateEvent,
        "INTERACTION_CREATE": interactions.ApplicationCommandInteraction,
    }
    bot_id = furnished.bot_user.id
    for event, shape in shapes.items():
        frames = furnished.gateway.dispatched(event)
        assert frames, event
        for sent_frame in frames:
            assert shape_errors(sent_frame["d"], shape) == [], event
            assert gateway_errors(event, sent_frame["d"], bot_user_id=bot_id) == [], event
            assert isinstance(sent_frame["s"], int)
    mention = furnished.gateway.dispatched("MESSAGE_CREATE")[0]["d"]["mentions"][0]
    assert mention["id"] == "43" and mention["member"]["nick"] == "Moddy"
    assert furnished.gateway.dispatched("GUILD_MEMBER_UPDATE")[-1]["d"]["nick"] is None


async def test_emulator_gateway_checker_notices_what_discord_always_sends() -> None:
    message = {
        "id": "1",
        "channel_id": "10",
        "guild_id": "1",
        "mentions": [{"id": "2", "member": {"user": {}}}],
    }
    assert gateway_errors("MESSAGE_CREATE", message, bot_user_id=900) == [
        "$: a guild message by a member carries the partial member",
        "$.mentions[0].member: the partial member carries no user",
    ]
    member: dict[str, object] = {
        "guild_id": "1",
        "roles": [],
        "joined_at": None,
        "avatar": None,
        "flags": 0,
        "user": {},
    }
    assert gateway_errors("GUILD_MEMBER_UPDATE", member, bot_user_id=900) == [
        "$: missing 'nick' (sent as null when unset)",
        "$: missing 'communication_disabled_until' (sent as null when unset)",
    ]
    guild = {"roles": [{"id": "5", "managed": True}], "members": []}
    assert gateway_errors("GUILD_CREATE", guild, bot_user_id=900) == [
        "$.roles: the bot's managed role must carry tags.bot_id (guild.self_role)"
    ]


async def test_emulator_objects_parse_in_discord_py(furnished: DiscordEmulator, runtime: Runtime) -> None:
    async with running_bot(furnished, runtime, intents=INTENTS) as bot:
        await check_parsed_objects(bot, furnished)
    assert furnished.traffic.unhandled == []


async def check_parsed_objects(bot: KyriosBot, emu: DiscordEmulator) -> None:
    """Fetch every object through discord.py's own HTTP client and parsers."""
    fetched_guild = await bot.fetch_guild(1)
    assert fetched_guild.name == "Kyrios Test" and fetched_guild.owner_id == 1000
    cached = bot.get_guild(1)
    assert cached is not None
    moddy = await cached.fetch_member(43)
    assert moddy.nick == "Moddy" and [r.name for r in moddy.roles] == ["@everyone", "Mods"]
    assert moddy.is_timed_out()
    roles = await cached.fetch_roles()
    assert {r.name for r in roles} == {"@everyone", "Kyrios", "Mods"}
    category = await bot.fetch_channel(30)
    assert isinstance(category, discord.CategoryChannel)
    assert category.overwrites_for(cached.default_role).view_channel is False
    ticket = await bot.fetch_channel(31)
    assert isinstance(ticket, discord.TextChannel) and ticket.category_id == 30 and ticket.topic == "help"
    general = cached.get_channel(10)
    assert isinstance(general, discord.TextChannel)
    history = [m async for m in general.history(limit=10)]
    assert [m.content for m in history] == ["hello"]
    assert history[0].author.id == 42 and history[0].embeds[0].title == "t"
    entries = [e async for e in cached.audit_logs(limit=10)]
    assert [e.action for e in entries] == [discord.AuditLogAction.message_delete, discord.AuditLogAction.kick]
    # discord.py types `extra` as the union of every action's proxy; a message_delete's has `count`.
    assert entries[0].extra.count == 2 and entries[0].user_id == 43  # type: ignore[union-attr]
    assert entries[1].reason == "spam" and entries[1].target is not None and entries[1].target.id == 42
    kicks = [e async for e in cached.audit_logs(action=discord.AuditLogAction.kick, user=discord.Object(43))]
    assert len(kicks) == 1
    tester = await bot.fetch_user(42)
    assert tester.name == "tester"
    sent = await general.send("parsed", embed=discord.Embed(title="E"))
    assert sent.author.id == emu.bot_user.id and sent.embeds[0].title == "E"
    assert emu.messages[sent.id].content == "parsed"
