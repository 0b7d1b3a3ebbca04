"""The conformance test's calls for roles, channel positions, pins, reactions, threads and ban lists.

Each route is driven the way discord.py drives it (the older pin routes, which discord.py no longer
uses, through `bot.http.request`); `test_emulator_conformance` validates every exchange.
"""

from __future__ import annotations

import discord
from discord.http import Route

from kyrios.gateway.bot import KyriosBot
from kyrios.testing.emulator import DiscordEmulator


async def exercise_community(emu: DiscordEmulator, bot: KyriosBot, guild: discord.Guild) -> None:
    """Every route of the roles, positions, pins, reactions, threads and bans groups, successes only."""
    general = guild.get_channel(10)
    assert isinstance(general, discord.TextChannel)
    await exercise_roles(guild)
    await exercise_positions(guild)
    message = await general.send("pin and react")
    await exercise_pins(bot, general, message)
    await exercise_reactions(emu, general, message)
    await exercise_threads(guild, general, message)
    await guild.ban(discord.Object(44), reason="raid", delete_message_seconds=3600)
    _ = [ban async for ban in guild.bans(limit=10)]
    await guild.unban(discord.Object(44))
    _ = [entry async for entry in guild.audit_logs(limit=100)]  # the pin, role and thread entries


async def exercise_roles(guild: discord.Guild) -> None:
    """Create, fetch, edit, move and delete a role."""
    role = await guild.create_role(
        name="Helpers", permissions=discord.Permissions(send_messages=True), colour=0x00FF00, hoist=True
    )
    await guild.fetch_role(role.id)
    await role.edit(name="Helpers+", mentionable=True, reason="rename")
    crafters = await guild.create_role(name="Crafters")  # Helpers moves up to 2
    await guild.edit_role_positions({role: 1})
    await role.delete(reason="done")
    await crafters.delete()


async def exercise_positions(guild: discord.Guild) -> None:
    """`channel.move()` and `edit(position=, category=)`: PATCH /guilds/{id}/channels."""
    first = await guild.create_text_channel("first")
    second = await guild.create_text_channel("second")
    await second.move(beginning=True)
    category = await guild.create_category("Moved")
    await first.edit(category=category, position=0, sync_permissions=True)
    for channel in (first, second, category):
        await channel.delete()


async def exercise_pins(bot: KyriosBot, general: discord.TextChannel, message: discord.Message) -> None:
    """The current pin routes through discord.py, the older ones by hand."""
    await message.pin(reason="important")
    _ = [pinned async for pinned in general.pins(limit=10)]
    await message.unpin()
    one = "/channels/{channel_id}/pins/{message_id}"
    await bot.http.request(Route("PUT", one, channel_id=general.id, message_id=message.id))
    await bot.http.request(Route("GET", "/channels/{channel_id}/pins", channel_id=general.id))
    await bot.http.request(Route("DELETE", one, channel_id=general.id, message_id=message.id))


async def exercise_reactions(
    emu: DiscordEmulator, general: discord.TextChannel, message: discord.Message
) -> None:
    """Own reactions, a user's, the users list, clearing one emoji and all."""
    await message.add_reaction("👍")
    await emu.add_reaction(general.id, message.id, 42, "👍")
    fetched = await general.fetch_message(message.id)
    _ = [user async for user in fetched.reactions[0].users()]
    await message.remove_reaction("👍", discord.Object(42))
    await message.remove_reaction("👍", fetched.guild.me if fetched.guild else discord.Object(900))
    await message.add_reaction("🎉")
    await message.clear_reaction("🎉")
    await message.add_reaction("🎉")
    await message.clear_reactions()


async def exercise_threads(
    guild: discord.Guild, general: discord.TextChannel, message: discord.Message
) -> None:
    """Threads from a message and without one, members, the active and archived lists, edit, delete."""
    thread = await message.create_thread(name="talk", auto_archive_duration=60)
    private = await general.create_thread(
        name="private", type=discord.ChannelType.private_thread, invitable=False
    )
    await thread.add_user(discord.Object(42))
    await thread.fetch_member(42)
    await thread.fetch_members()
    await thread.remove_user(discord.Object(42))
    await thread.leave()
    await thread.join()
    await guild.active_threads()
    await thread.edit(archived=True, name="talk (done)")
    _ = [archived async for archived in general.archived_threads(limit=10)]
    await private.edit(archived=True)
    _ = [archived async for archived in general.archived_threads(private=True)]
    _ = [archived async for archived in general.archived_threads(private=True, joined=True)]
    await private.delete()
    await thread.delete()
