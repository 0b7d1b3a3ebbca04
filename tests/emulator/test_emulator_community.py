"""Roles, channel positions, pins, threads, reactions, bans and DMs through a real discord.py client.

Each test drives the emulator with discord.py's own calls (or acts as a user through the emulator's
test-side methods) and checks both sides: the emulator's state and what discord.py dispatched and
cached from the gateway events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import discord
import pytest

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import WAIT_SECONDS, ApiError, AuditAction, DiscordEmulator, running_bot
from kyrios.testing.emulator.fidelity import gateway_errors, load_discord_types, shape_errors
from kyrios.testing.emulator.state import BOT_USER_ID
from tests.emulator.conformance_community import exercise_community

load_discord_types()
from discord.types import gateway  # noqa: E402  (after the import-cycle fix above)

INTENTS = discord.Intents(
    guilds=True, members=True, moderation=True, messages=True, message_content=True, reactions=True
)
MOD, RAIDER = 43, 44
BOT = BOT_USER_ID


@pytest.fixture
async def bot(discord_emulator: DiscordEmulator, runtime: Runtime) -> AsyncIterator[KyriosBot]:
    """The bot with guild and DM messages and reactions, members chunked; 43 "mod", 44 "raider"."""
    discord_emulator.add_member(1, MOD, "mod")
    discord_emulator.add_member(1, RAIDER, "raider")
    async with running_bot(
        discord_emulator, runtime, intents=INTENTS, chunk_guilds_at_startup=True
    ) as running:
        yield running


async def expect(bot: KyriosBot, event: str, trigger: Awaitable[Any], **check: Any) -> Any:
    """Run `trigger` and return what discord.py dispatched as `event` (the listener is registered first);
    `check` is an optional `check=` predicate for `wait_for`."""
    seen, _ = await asyncio.gather(bot.wait_for(event, timeout=WAIT_SECONDS, **check), trigger)
    return seen


def guild_of(bot: KyriosBot) -> discord.Guild:
    guild = bot.get_guild(1)
    assert guild is not None
    return guild


def general(bot: KyriosBot) -> discord.TextChannel:
    channel = bot.get_channel(10)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_channel_move_updates_positions_on_both_sides(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    guild = guild_of(bot)
    second = await guild.create_text_channel("second")
    third = await guild.create_text_channel("third")
    assert [c.id for c in guild.text_channels] == [10, second.id, third.id]
    _, after = await expect(
        bot, "guild_channel_update", third.move(beginning=True), check=lambda b, a: a.id == third.id
    )
    assert after.position == 0
    assert [c.id for c in guild.text_channels] == [third.id, 10, second.id]
    stored = discord_emulator.guild(1).channels
    assert sorted(stored.values(), key=lambda c: c.position)[0].id == third.id
    category = await guild.create_category("Archive")
    await expect(
        bot,
        "guild_channel_update",
        second.edit(category=category, position=0),
        check=lambda b, a: a.id == second.id and a.category_id == category.id,
    )
    assert stored[second.id].parent_id == category.id
    sent = discord_emulator.requests("PATCH", "/guilds/1/channels")[-1].body
    assert {"id": second.id, "position": 0, "parent_id": category.id, "lock_permissions": False} in sent


async def test_roles_created_edited_moved_and_deleted(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    guild = guild_of(bot)
    perms = discord.Permissions(send_messages=True, manage_messages=True)
    created = await expect(bot, "guild_role_create", guild.create_role(name="Helpers", permissions=perms))
    assert created.name == "Helpers" and created.permissions == perms and created.position == 1
    assert discord_emulator.guild(1).audit_log[-1].action_type == AuditAction.ROLE_CREATE
    pushed_up = bot.wait_for("guild_role_update", check=lambda b, a: a.id == created.id, timeout=WAIT_SECONDS)
    other, _ = await asyncio.gather(guild.create_role(name="Crafters"), pushed_up)
    helpers = guild.get_role(created.id)
    assert helpers is not None and helpers.position == 2  # the newer role pushed it up (GUILD_ROLE_UPDATE)
    _, renamed = await expect(
        bot,
        "guild_role_update",
        helpers.edit(name="Helpers+", colour=0x00FF00),
        check=lambda b, a: a.id == helpers.id,
    )
    assert renamed.name == "Helpers+" and renamed.colour.value == 0x00FF00
    moved = bot.wait_for("guild_role_update", check=lambda b, a: a.id == other.id, timeout=WAIT_SECONDS)
    await asyncio.gather(moved, helpers.edit(position=1))
    crafters = guild.get_role(other.id)
    assert crafters is not None and (helpers.position, crafters.position) == (1, 2)
    assert discord_emulator.role(1, helpers.id).position == 1
    member = guild.get_member(42)
    assert member is not None
    await member.add_roles(helpers)
    assert helpers.id in discord_emulator.member(1, 42).roles
    deleted = await expect(bot, "guild_role_delete", helpers.delete())
    assert deleted.id == helpers.id and helpers.id not in discord_emulator.member(1, 42).roles
    assert helpers.id not in discord_emulator.guild(1).roles


async def test_roles_keep_discords_hierarchy_and_permission_checks(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    guild = guild_of(bot)
    above = discord_emulator.add_role(1, "Owner's")
    discord_emulator.role(1, above.id).position = 99
    with pytest.raises(discord.Forbidden):
        await bot.http.edit_role(1, above.id, name="mine now")
    with pytest.raises(discord.Forbidden):  # the bot cannot hand out a permission it lacks itself
        await guild.create_role(name="Admins", permissions=discord.Permissions(administrator=True))
    own = guild.self_role
    assert own is not None
    with pytest.raises(discord.Forbidden):  # a bot's managed role belongs to the integration
        await own.delete()
    assert discord_emulator.role(1, above.id).name == "Owner's"
    assert [r.name for r in discord_emulator.guild(1).roles.values()].count("Admins") == 0


async def test_pins_listed_and_announced(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    channel = general(bot)
    first = await channel.send("rules")
    second = await channel.send("faq")
    notice = bot.wait_for(
        "message", check=lambda m: m.type is discord.MessageType.pins_add, timeout=WAIT_SECONDS
    )
    _, last_pin = await expect(bot, "guild_channel_pins_update", first.pin())
    assert last_pin is not None
    system = await notice  # Discord's "pinned a message" notice, by whoever pinned it
    entry = discord_emulator.guild(1).audit_log[-1]
    assert (entry.action_type, entry.user_id, entry.target_id) == (AuditAction.MESSAGE_PIN, BOT, BOT)
    assert entry.options == {"channel_id": "10", "message_id": str(first.id)}
    assert (
        system.author.id == BOT and system.reference is not None and system.reference.message_id == first.id
    )
    await discord_emulator.pin_message(10, second.id, by=MOD)  # a member pins the other one
    await discord_emulator.wait_until(
        lambda: len(discord_emulator.gateway.dispatched("CHANNEL_PINS_UPDATE")) == 2
    )
    assert [m.id async for m in channel.pins()] == [second.id, first.id]
    assert (await channel.fetch_message(first.id)).pinned
    _, still = await expect(bot, "guild_channel_pins_update", second.unpin())
    assert still is not None  # the first is still pinned
    _, none_left = await expect(bot, "guild_channel_pins_update", first.unpin())
    assert none_left is None and [m async for m in channel.pins()] == []
    with pytest.raises(discord.NotFound):
        await first.unpin()
    discord_emulator.revoke_permission(1, "pin_messages")
    with pytest.raises(discord.Forbidden):
        await first.pin()


async def test_threads_from_a_message_and_without(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    channel = general(bot)
    guild = guild_of(bot)
    message = await channel.send("discuss")
    thread: discord.Thread = await expect(bot, "thread_create", message.create_thread(name="talk"))
    assert thread.id == message.id and thread.parent_id == 10 and thread.owner_id == BOT
    assert guild.get_thread(thread.id) is thread and thread.me is not None
    entry = discord_emulator.guild(1).audit_log[-1]
    assert (entry.action_type, entry.target_id) == (AuditAction.THREAD_CREATE, thread.id)
    posted = await thread.send("in the thread")
    assert discord_emulator.message(thread.id, posted.id).guild_id == 1
    with pytest.raises(discord.HTTPException):  # one thread per message
        await message.create_thread(name="again")
    joined = await expect(bot, "thread_member_join", discord_emulator.join_thread(thread.id, 42))
    assert joined.id == 42 and joined.thread_id == thread.id
    await thread.add_user(discord.Object(MOD))
    assert sorted(m.id for m in await thread.fetch_members()) == sorted([BOT, 42, MOD])
    removed = await expect(bot, "raw_thread_member_remove", thread.remove_user(discord.Object(MOD)))
    assert removed.thread_id == thread.id and removed.data["removed_member_ids"] == [str(MOD)]
    left = await expect(bot, "thread_remove", thread.leave())
    assert left.id == thread.id and BOT not in discord_emulator.thread(thread.id).members
    rejoined = await expect(bot, "thread_join", thread.join())
    assert rejoined.id == thread.id and rejoined.me is not None
    assert BOT in discord_emulator.thread(thread.id).members
    private = await channel.create_thread(
        name="staff only", type=discord.ChannelType.private_thread, invitable=False
    )
    assert private.type is discord.ChannelType.private_thread and not private.invitable
    assert {t.id for t in await guild.active_threads()} == {thread.id, private.id}
    _, archived = await expect(
        bot, "thread_update", thread.edit(archived=True), check=lambda b, a: a.id == thread.id
    )
    assert archived.archived and guild.get_thread(thread.id) is None  # discord.py drops archived threads
    assert {t.id for t in await guild.active_threads()} == {private.id}
    assert [t.id async for t in channel.archived_threads()] == [thread.id]
    await private.edit(archived=True)
    assert [t.id async for t in channel.archived_threads(private=True)] == [private.id]
    assert [t.id async for t in channel.archived_threads(private=True, joined=True)] == [private.id]
    with pytest.raises(ApiError):  # nobody joins an archived thread
        await discord_emulator.join_thread(thread.id, RAIDER)
    gone = await expect(bot, "raw_thread_delete", private.delete())  # archived: no longer cached
    assert gone.thread_id == private.id and private.id not in discord_emulator.guild(1).threads


async def test_a_user_starts_a_thread_the_bot_sees(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    message = await discord_emulator.send_message(10, 42, "question")
    started = discord_emulator.start_thread(10, "help me", 42, message_id=message.id)
    thread = await expect(bot, "thread_create", started)
    assert thread.owner_id == 42 and thread.me is None
    reply = await expect(bot, "message", discord_emulator.send_message(thread.id, 42, "details"))
    assert isinstance(reply.channel, discord.Thread) and reply.channel.id == thread.id
    await thread.send("the bot answers")
    assert discord_emulator.thread(thread.id).message_count == 2
    await discord_emulator.update_thread(thread.id, archived=True)
    # a message in an archived thread unarchives it (discord.py forgot it when archived: a "join")
    reopened = await expect(
        bot, "thread_join", discord_emulator.send_message(thread.id, 42, "one more thing")
    )
    assert reopened.id == thread.id and not reopened.archived
    assert not discord_emulator.thread(thread.id).archived
    await discord_emulator.update_thread(thread.id, archived=True, locked=True)
    with pytest.raises(discord.HTTPException) as refused:
        await thread.send("too late")
    assert refused.value.code == 50083


async def test_reactions_by_users_and_by_the_bot(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    channel = general(bot)
    message = await channel.send("vote")
    reaction, user = await expect(
        bot, "reaction_add", discord_emulator.add_reaction(10, message.id, 42, "👍")
    )
    assert str(reaction.emoji) == "👍" and isinstance(user, discord.Member) and user.id == 42
    raw = await expect(bot, "raw_reaction_add", message.add_reaction("👍"))
    assert raw.user_id == BOT and raw.member is not None
    fetched = await channel.fetch_message(message.id)
    assert [(str(r.emoji), r.count, r.me) for r in fetched.reactions] == [("👍", 2, True)]
    assert sorted([u.id async for u in fetched.reactions[0].users()]) == [42, BOT]
    removed = await expect(bot, "raw_reaction_remove", message.remove_reaction("👍", discord.Object(42)))
    assert removed.user_id == 42 and discord_emulator.messages[message.id].reactions == {"👍": [BOT]}
    await message.add_reaction("🎉")
    cleared = await expect(bot, "raw_reaction_clear_emoji", message.clear_reaction("🎉"))
    assert str(cleared.emoji) == "🎉"
    await expect(bot, "raw_reaction_clear", message.clear_reactions())
    assert discord_emulator.messages[message.id].reactions == {}
    discord_emulator.revoke_permission(1, "manage_messages")
    with pytest.raises(discord.Forbidden):
        await message.clear_reactions()


async def test_ban_list_and_message_purge(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    guild = guild_of(bot)
    spam = [await discord_emulator.send_message(10, RAIDER, f"spam {n}") for n in range(3)]
    kept = await discord_emulator.send_message(10, 42, "innocent")
    purge = bot.wait_for("raw_bulk_message_delete", timeout=WAIT_SECONDS)
    gone = bot.wait_for("member_remove", timeout=WAIT_SECONDS)
    banned_guild, banned = await expect(
        bot, "member_ban", guild.ban(discord.Object(RAIDER), reason="raid", delete_message_seconds=3600)
    )
    assert banned_guild.id == 1 and banned.id == RAIDER
    assert (await gone).id == RAIDER and RAIDER not in discord_emulator.guild(1).members
    assert (await purge).message_ids == {m.id for m in spam}
    assert kept.id in discord_emulator.messages and not any(m.id in discord_emulator.messages for m in spam)
    discord_emulator.add_user(77, "alt")  # not a member: Discord bans any existing user
    await guild.ban(discord.Object(77), reason="alt", delete_message_seconds=0)
    bans = [entry async for entry in guild.bans()]
    assert [(b.user.id, b.reason) for b in bans] == [(RAIDER, "raid"), (77, "alt")]
    assert [b.user.id async for b in guild.bans(limit=1)] == [RAIDER]
    assert (await guild.fetch_ban(discord.Object(77))).reason == "alt"
    _, unbanned = await expect(bot, "member_unban", guild.unban(discord.Object(77)))
    assert unbanned.id == 77 and [b.user.id async for b in guild.bans()] == [RAIDER]
    with pytest.raises(discord.HTTPException):
        await guild.ban(discord.Object(78), delete_message_seconds=604_801)


async def test_a_user_writes_to_the_bot_by_dm(discord_emulator: DiscordEmulator, bot: KyriosBot) -> None:
    incoming = await expect(
        bot, "message", discord_emulator.send_dm(42, "hello bot"), check=lambda m: m.guild is None
    )
    assert isinstance(incoming.channel, discord.DMChannel) and incoming.author.id == 42
    assert incoming.content == "hello bot"
    frame = discord_emulator.gateway.dispatched("MESSAGE_CREATE")[-1]["d"]
    assert "guild_id" not in frame and "member" not in frame
    answer = await incoming.channel.send("hello human")
    assert [m.content for m in discord_emulator.dm_conversation(42)] == ["hello bot", "hello human"]
    await incoming.add_reaction("✅")
    assert discord_emulator.messages[incoming.id].reactions == {"✅": [BOT]}
    raw = await expect(
        bot, "raw_reaction_add", discord_emulator.add_reaction(answer.channel.id, answer.id, 42, "👍")
    )
    assert raw.guild_id is None and raw.user_id == 42 and raw.message_id == answer.id
    with pytest.raises(discord.Forbidden):  # nobody moderates a DM
        await answer.clear_reactions()
    assert [m.content for m in discord_emulator.dm_messages(42)] == ["hello human"]
    user = await bot.fetch_user(42)
    dm = await user.create_dm()
    assert dm.id == incoming.channel.id  # one DM channel per user, whoever opened it


async def test_dms_need_the_direct_messages_intent_but_not_message_content(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    guild_only = discord.Intents(guilds=True, guild_messages=True)
    async with running_bot(discord_emulator, runtime, intents=guild_only):
        await discord_emulator.send_dm(42, "unheard")
    assert discord_emulator.gateway.dispatched("MESSAGE_CREATE") == []
    dms = discord.Intents(guilds=True, dm_messages=True)
    async with running_bot(discord_emulator, runtime, intents=dms) as plain:
        message = await expect(plain, "message", discord_emulator.send_dm(42, "heard"))
        assert message.content == "heard"


async def test_community_events_match_discord_py_types(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    await exercise_community(discord_emulator, bot, guild_of(bot))
    await discord_emulator.send_dm(42, "and a DM")
    shapes = {
        "CHANNEL_UPDATE": gateway.ChannelUpdateEvent,
        "GUILD_ROLE_CREATE": gateway.GuildRoleCreateEvent,
        "GUILD_ROLE_UPDATE": gateway.GuildRoleUpdateEvent,
        "GUILD_ROLE_DELETE": gateway.GuildRoleDeleteEvent,
        "CHANNEL_PINS_UPDATE": gateway.ChannelPinsUpdateEvent,
        "MESSAGE_REACTION_ADD": gateway.MessageReactionAddEvent,
        "MESSAGE_REACTION_REMOVE": gateway.MessageReactionRemoveEvent,
        "MESSAGE_REACTION_REMOVE_ALL": gateway.MessageReactionRemoveAllEvent,
        "MESSAGE_REACTION_REMOVE_EMOJI": gateway.MessageReactionRemoveEmojiEvent,
        "THREAD_CREATE": gateway.ThreadCreateEvent,
        "THREAD_UPDATE": gateway.ThreadUpdateEvent,
        "THREAD_DELETE": gateway.ThreadDeleteEvent,
        "THREAD_MEMBERS_UPDATE": gateway.ThreadMembersUpdate,
        "GUILD_BAN_ADD": gateway.GuildBanAddEvent,
        "GUILD_BAN_REMOVE": gateway.GuildBanRemoveEvent,
        "MESSAGE_CREATE": gateway.MessageCreateEvent,
    }
    for event, shape in shapes.items():
        frames = discord_emulator.gateway.dispatched(event)
        assert frames, event
        for frame in frames:
            assert shape_errors(frame["d"], shape) == [], (event, frame["d"])
            assert gateway_errors(event, frame["d"], bot_user_id=BOT) == [], event
    assert "guild_id" not in discord_emulator.gateway.dispatched("MESSAGE_CREATE")[-1]["d"]


async def test_active_threads_arrive_with_guild_create(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    active = await discord_emulator.start_thread(10, "ongoing", 42)
    done = await discord_emulator.start_thread(10, "finished", 42)
    await discord_emulator.update_thread(done.id, archived=True)
    async with running_bot(discord_emulator, runtime, intents=INTENTS) as fresh:
        guild = guild_of(fresh)
        assert [t.id for t in guild.threads] == [active.id]
        assert guild.threads[0].parent_id == 10 and guild.threads[0].owner_id == 42
