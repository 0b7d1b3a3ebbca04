"""Prefix commands (`!gacha pull`): a fourth door onto the same registry, for guilds that set a prefix.

Needs the privileged MESSAGE CONTENT intent: without it Discord sends messages with empty content
(except those mentioning the bot), so prefix commands silently do nothing. Slash commands keep working.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from kyrios.core.errors import DomainError
from kyrios.core.ports import DiscordError, DiscordPort
from kyrios.features.guild_settings import service as guild_settings
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.reply import Reply
from kyrios.slash.respond import ImmediateResponder, refuse, respond
from kyrios.slash.text import parse_command_line

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot

log = logging.getLogger(__name__)


def _actor(user: discord.abc.User) -> Actor:
    return Actor(
        id=user.id,
        name=getattr(user, "display_name", user.name),
        is_bot=user.bot,
        avatar=user.avatar.key if user.avatar else None,
    )


class PrefixCommands(commands.Cog, name="prefix"):
    """Turns `<prefix><command line>` messages into invocations and posts the reply in the channel."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot

    def _known(self, line: str) -> bool:
        words = line.strip().lower().split()
        registry = self.bot.runtime.registry
        return any(registry.find(" ".join(words[:n])) for n in range(1, min(3, len(words)) + 1))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a prefix command in a guild that set a prefix."""
        if message.guild is None or message.author.bot or not message.content:
            return
        async with self.bot.runtime.db.read() as session:
            prefix = (await guild_settings.current(session, message.guild.id)).prefix
        if not prefix or not message.content.startswith(prefix):
            return
        line = message.content[len(prefix) :]
        if not self._known(line):
            return
        registry = self.bot.runtime.registry
        permissions = getattr(message.author, "guild_permissions", discord.Permissions.none()).value
        inv = Invocation(
            actor=_actor(message.author),
            guild_id=message.guild.id,
            channel_id=message.channel.id,
            permissions=permissions,
            source=Source.PREFIX,
            guild_locale=str(message.guild.preferred_locale),  # no user locale: the guild's setting decides
            resolved_users={user.id: _actor(user) for user in message.mentions},
            role_ids=tuple(role.id for role in getattr(message.author, "roles", ())),
        )
        answer = ChannelAnswer(self.bot.port, message)
        try:
            inv.command, inv.options = parse_command_line(registry, line)
        except DomainError as exc:
            await refuse(registry, inv, answer, exc)
            return
        await respond(registry, inv, answer)


class ChannelAnswer(ImmediateResponder):
    """Posts the reply in the command's channel, as a reply to its message (no deadline to meet)."""

    def __init__(self, port: DiscordPort, message: discord.Message) -> None:
        self.port = port
        self.message = message

    async def answer(self, reply: Reply) -> None:
        """Post the reply (a channel message cannot be ephemeral)."""
        body: dict[str, Any] = reply.to_message()
        body.pop("flags", None)
        body["message_reference"] = {"message_id": str(self.message.id), "fail_if_not_exists": False}
        try:
            await self.port.send_message(self.message.channel.id, body)
        except DiscordError as exc:
            log.warning("could not answer a prefix command in channel %s: %s", self.message.channel.id, exc)


async def setup(bot: KyriosBot) -> None:
    """Add the prefix door."""
    await bot.add_cog(PrefixCommands(bot))
