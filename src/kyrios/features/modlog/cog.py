"""The discord.py adapter of the moderation log: gateway events -> `events.py` values -> `flows`.

Each listener records inside one `runtime.db.run()` and, after it commits, queues the
resulting embed on the per-channel `LogSender`, which posts through the bot's `DiscordPort`.
Audit-log entries are read through the port (needs View Audit Log) and handed to the pure
attribution code as plain `AuditEntry` values.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.i18n import N_, lazy
from kyrios.core.ports import AuditLogEntry, DiscordError
from kyrios.features.modlog import flows, messages, service
from kyrios.features.modlog.attribution import DeleteAttributor
from kyrios.features.modlog.case_editor import CaseEditor
from kyrios.features.modlog.events import (
    AuditAction,
    AuditEntry,
    ChannelChanged,
    MemberEvent,
    MemberUpdated,
    MessageDeleted,
    MessageSeen,
    UserInfo,
)
from kyrios.features.modlog.sender import DeliveryProblem, LogSender, ProblemKind
from kyrios.features.modlog.service import Delivery

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot

log = logging.getLogger(__name__)

AUDIT_FETCH_LIMIT = 10
# Discord may deliver GUILD_MEMBER_REMOVE before the MEMBER_KICK entry exists; look once more after this.
AUDIT_SECOND_LOOK = 1.0
Work = Callable[[AsyncSession], Awaitable["Delivery | list[Delivery] | None"]]
# What the admins are told (and the log records as a system event), in each reader's language.
CHANNEL_GONE = N_(
    "The log channel (id {channel_id}) was deleted, so logs for it are no longer posted (they are "
    "still kept for `/modlog search`). Set a new one with `/settings set log_channel:`."
)
NO_ACCESS = N_(
    "I cannot post logs in <#{channel_id}>: I need View Channel, Send Messages and Embed Links there. "
    "Log entries not posted: {lost} (`/modlog search` still has them)."
)


def user_info(user: discord.abc.User) -> UserInfo:
    """A discord.py user as a plain value."""
    return UserInfo(user.id, user.name, user.bot)


def audit_entry(entry: AuditLogEntry) -> AuditEntry:
    """The port's audit-log entry as the attribution code reads it."""

    def option(name: str) -> int | None:
        value = entry.options.get(name)
        return int(value) if value else None

    return AuditEntry(
        id=entry.id,
        action=entry.action_type,
        moderator_id=entry.user_id,
        target_id=entry.target_id,
        channel_id=option("channel_id"),
        count=option("count"),
        reason=entry.reason,
    )


class ModlogCog(commands.Cog, name="modlog"):
    """Listeners for every event the moderation log records."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot
        self.runtime = bot.runtime
        self.cases = CaseEditor(
            self.runtime.db, self.runtime.bus, bot.port, lambda g: bot.get_guild(g) is not None
        )
        self.sender = LogSender(bot.port, self.on_delivery_problem, posted=self.cases.on_posted)
        self.deletes = DeleteAttributor()
        self.audit_second_look = AUDIT_SECOND_LOOK

    def now(self) -> datetime:
        """The runtime's clock (frozen in tests)."""
        return self.runtime.clock.now()

    async def record(self, work: Work) -> None:
        """Run `work` in one transaction, then queue what it wants posted."""
        result = await self.runtime.db.run(work)
        posts = result if isinstance(result, list) else [result] if result else []
        for post in posts:
            self.sender.submit(post)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Start keeping case messages current (`ready` also follows reconnects; starting is idempotent)."""
        self.cases.start()

    async def cog_unload(self) -> None:
        """Flush the log sender and stop editing case messages (when the bot closes)."""
        try:
            await self.sender.drain(timeout=5)
        except TimeoutError:
            log.warning("closing with %d log embeds unsent", self.sender.pending())
        await self.sender.close()
        await self.cases.close()

    async def audit(self, guild: discord.Guild, action: AuditAction) -> list[AuditEntry]:
        """The latest audit-log entries of one action, or none without View Audit Log."""
        if not guild.me.guild_permissions.view_audit_log:
            return []
        try:
            entries = await self.bot.port.audit_log(
                guild.id, action_type=int(action), limit=AUDIT_FETCH_LIMIT
            )
        except DiscordError as exc:
            log.info("audit log of guild %s unavailable: %s", guild.id, exc)
            return []
        return [audit_entry(entry) for entry in entries]

    # messages ---------------------------------------------------------------------------------------

    def _seen(self, message: discord.Message) -> MessageSeen | None:
        own = self.bot.user is not None and message.author.id == self.bot.user.id
        if message.guild is None or message.webhook_id is not None or own:
            return None  # our own posts (the log itself) are not worth storing
        return MessageSeen(
            guild_id=message.guild.id,
            channel_id=message.channel.id,
            message_id=message.id,
            author_id=message.author.id,
            author_bot=message.author.bot,
            content=message.content,
            at=self.now(),
            attachments=tuple(a.url for a in message.attachments),
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Keep the content of a new message if the guild opted in to the store."""
        seen = self._seen(message)
        if seen is None:
            return
        # Most guilds do not store messages: find out with a read, so no write lock is taken per message.
        async with self.runtime.db.read() as session:
            if not await messages.should_store(session, seen.guild_id, seen.channel_id):
                return
        await self.record(lambda session: flows.message_seen(session, seen))

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Log an edit with the stored before and the new after."""
        data: dict[str, Any] = dict(payload.data)
        if payload.guild_id is None or "content" not in data or "author" not in data:
            return
        author = data["author"]
        seen = MessageSeen(
            guild_id=payload.guild_id,
            channel_id=payload.channel_id,
            message_id=payload.message_id,
            author_id=int(author["id"]),
            author_bot=bool(author.get("bot", False)),
            content=str(data["content"]),
            at=self.now(),
            attachments=tuple(str(a["url"]) for a in data.get("attachments", [])),
        )
        async with self.runtime.db.read() as session:
            if not await messages.should_store(session, seen.guild_id, seen.channel_id):
                return
        await self.record(lambda session: flows.message_edited(session, seen))

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Log a delete with the stored content and the moderator who likely did it."""
        guild = self.bot.get_guild(payload.guild_id) if payload.guild_id else None
        if guild is None:
            return
        async with self.runtime.db.read() as session:
            stored = await messages.peek(session, payload.message_id)
        if stored is None:
            return
        deleter = None
        entries = await self.audit(guild, AuditAction.MESSAGE_DELETE)
        if entries:
            deleter = self.deletes.likely_deleter(
                entries, author_id=stored.author_id, channel_id=payload.channel_id, now=self.now()
            )
        event = MessageDeleted(guild.id, payload.channel_id, payload.message_id, self.now())
        await self.record(lambda session: flows.message_deleted(session, event, deleter))

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """A purge: each stored message is logged (and coalesced by the sender)."""
        if payload.guild_id is None:
            return
        guild_id, channel_id = payload.guild_id, payload.channel_id
        for message_id in sorted(payload.message_ids):
            event = MessageDeleted(guild_id, channel_id, message_id, self.now())
            await self.record(self._delete_work(event))

    @staticmethod
    def _delete_work(event: MessageDeleted) -> Work:
        return lambda session: flows.message_deleted(session, event)

    # members ----------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        """Log a join with the account's age."""
        event = MemberEvent(member.guild.id, user_info(member), self.now(), member.created_at)
        await self.record(lambda session: flows.member_joined(session, event))

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A leave, or a kick when the audit log says so (a ban is logged by `on_member_ban`)."""
        guild = self.bot.get_guild(payload.guild_id)
        if guild is None:
            return
        event = MemberEvent(guild.id, user_info(payload.user), self.now())
        kick, ban = AuditAction.MEMBER_KICK, AuditAction.MEMBER_BAN_ADD
        audit = await self.entries_about(guild, payload.user.id, kick, ban)
        await self.record(lambda session: flows.member_removed(session, event, audit))

    async def entries_about(
        self, guild: discord.Guild, target_id: int, *actions: AuditAction
    ) -> list[AuditEntry]:
        """Entries of these actions, looked up once more after a moment when none names the target
        (Discord can deliver the gateway event before it writes the audit-log entry)."""
        audit: list[AuditEntry] = []
        for look in range(2):
            if look:
                await asyncio.sleep(self.audit_second_look)
            audit = [entry for action in actions for entry in await self.audit(guild, action)]
            if not guild.me.guild_permissions.view_audit_log or any(e.target_id == target_id for e in audit):
                break
        return audit

    @commands.Cog.listener()
    async def on_member_ban(self, guild: discord.Guild, user: discord.User | discord.Member) -> None:
        """A ban with its moderator and reason."""
        audit = await self.entries_about(guild, user.id, AuditAction.MEMBER_BAN_ADD)
        event = MemberEvent(guild.id, user_info(user), self.now())
        await self.record(lambda session: flows.member_banned(session, event, audit))

    @commands.Cog.listener()
    async def on_member_unban(self, guild: discord.Guild, user: discord.User) -> None:
        """An unban with its moderator."""
        audit = await self.entries_about(guild, user.id, AuditAction.MEMBER_BAN_REMOVE)
        event = MemberEvent(guild.id, user_info(user), self.now())
        await self.record(lambda session: flows.member_banned(session, event, audit, banned=False))

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """Role changes and timeouts, each with its moderator."""
        added = tuple(r.id for r in after.roles if r not in before.roles)
        removed = tuple(r.id for r in before.roles if r not in after.roles)
        timeout_changed = before.timed_out_until != after.timed_out_until
        if not (added or removed or timeout_changed):
            return
        actions = [AuditAction.MEMBER_ROLE_UPDATE] if added or removed else []
        actions += [AuditAction.MEMBER_UPDATE] if timeout_changed else []
        audit = await self.entries_about(after.guild, after.id, *actions)
        event = MemberUpdated(
            after.guild.id,
            user_info(after),
            self.now(),
            roles_added=added,
            roles_removed=removed,
            timeout_before=before.timed_out_until,
            timeout_after=after.timed_out_until,
        )
        await self.record(lambda session: flows.member_updated(session, event, audit))

    # channels ---------------------------------------------------------------------------------------

    async def _channel(self, channel: discord.abc.GuildChannel, *, created: bool) -> None:
        action = AuditAction.CHANNEL_CREATE if created else AuditAction.CHANNEL_DELETE
        audit = await self.entries_about(channel.guild, channel.id, action)
        event = ChannelChanged(channel.guild.id, channel.id, channel.name, created, self.now())
        await self.record(lambda session: flows.channel_changed(session, event, audit))

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        """A channel was created."""
        await self._channel(channel, created=True)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A channel was deleted (if it was a log channel, the sender notices on its next post)."""
        await self._channel(channel, created=False)

    # delivery problems ------------------------------------------------------------------------------

    async def on_delivery_problem(self, problem: DeliveryProblem) -> None:
        """Stop routing to a deleted channel; tell the admin once either way."""
        guild_id, channel_id = problem.guild_id, problem.channel_id
        if problem.kind == ProblemKind.CHANNEL_GONE:
            text = lazy(CHANNEL_GONE, channel_id=str(channel_id))

            async def forget(session: AsyncSession) -> Delivery | None:
                await service.forget_channel(session, guild_id, channel_id, now=self.now())
                return await flows.system_event(session, guild_id, text, at=self.now())

            await self.record(forget)
        else:
            text = lazy(NO_ACCESS, channel_id=str(channel_id), lost=problem.lost)
            await self.record(lambda session: flows.system_event(session, guild_id, text, at=self.now()))
        await self.bot.admin_notices.tell_once(guild_id, f"modlog-{problem.kind}-{channel_id}", text)


async def setup(bot: KyriosBot) -> None:
    """Add the moderation-log cog."""
    await bot.add_cog(ModlogCog(bot))
