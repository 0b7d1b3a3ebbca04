"""The test-side API for reactions, pins, threads, DMs from users and ban purges, with their gateway events.

The REST routes call the same methods, so what a test does as a user and what the bot does through
discord.py change the state and reach the gateway the same way.
"""

from __future__ import annotations

from datetime import timedelta

from kyrios.testing.emulator.events import EventSender
from kyrios.testing.emulator.models import ChannelType, Json, Message, iso, snowflake, utcnow
from kyrios.testing.emulator.state import ApiError, emoji_json
from kyrios.testing.emulator.threads import Thread


class CommunityEvents(EventSender):
    """Reactions, pins, threads, DMs a user writes to the bot, and the messages a ban deletes."""

    # reactions ----------------------------------------------------------------------------------------

    def _reaction_base(self, message: Message) -> Json:
        data: Json = {"channel_id": str(message.channel_id), "message_id": str(message.id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        return data

    def any_message(self, channel_id: int, message_id: int) -> Message:
        """A message in a guild channel, a thread or a DM channel (404 Unknown Message otherwise)."""
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def add_reaction(self, channel_id: int, message_id: int, user_id: int, emoji: str) -> None:
        """A user (or the bot) reacts with `emoji` (`"👍"` or custom `"name:id"`): MESSAGE_REACTION_ADD
        with the reacting member in a guild; nothing happens when that user already reacted with it."""
        message = self.any_message(channel_id, message_id)
        self.user(user_id)
        users = message.reactions.setdefault(emoji, [])
        if user_id in users:
            return
        users.append(user_id)
        data = {
            **self._reaction_base(message),
            "user_id": str(user_id),
            "emoji": emoji_json(emoji),
            "message_author_id": str(message.author_id),
            "burst": False,
            "burst_colors": [],
            "type": 0,
        }
        if message.guild_id is not None and user_id in self.guild(message.guild_id).members:
            data["member"] = self.member_json(message.guild_id, user_id)
        await self.dispatch("MESSAGE_REACTION_ADD", data, guild_id=message.guild_id)

    async def remove_reaction(self, channel_id: int, message_id: int, user_id: int, emoji: str) -> None:
        """A reaction goes: MESSAGE_REACTION_REMOVE (nothing when there was none, as Discord answers 204)."""
        message = self.any_message(channel_id, message_id)
        users = message.reactions.get(emoji, [])
        if user_id not in users:
            return
        users.remove(user_id)
        if not users:
            del message.reactions[emoji]
        data = {
            **self._reaction_base(message),
            "user_id": str(user_id),
            "emoji": emoji_json(emoji),
            "burst": False,
            "type": 0,
        }
        await self.dispatch("MESSAGE_REACTION_REMOVE", data, guild_id=message.guild_id)

    async def clear_reactions(self, channel_id: int, message_id: int, emoji: str | None = None) -> None:
        """Every reaction (MESSAGE_REACTION_REMOVE_ALL) or every one with `emoji` (…_REMOVE_EMOJI)."""
        message = self.any_message(channel_id, message_id)
        if emoji is None:
            message.reactions.clear()
            await self.dispatch(
                "MESSAGE_REACTION_REMOVE_ALL", self._reaction_base(message), guild_id=message.guild_id
            )
            return
        if message.reactions.pop(emoji, None) is not None:
            data = {**self._reaction_base(message), "emoji": emoji_json(emoji)}
            await self.dispatch("MESSAGE_REACTION_REMOVE_EMOJI", data, guild_id=message.guild_id)

    # pins -------------------------------------------------------------------------------------------

    async def pin_message(self, channel_id: int, message_id: int, *, by: int, pinned: bool = True) -> None:
        """A member (`by`) pins or unpins a message: CHANNEL_PINS_UPDATE, and for a pin the
        "pinned a message" system message."""
        message = self.message(channel_id, message_id)
        message.pinned_at = utcnow() if pinned else None
        await self.pins_changed(channel_id, pinned=message if pinned else None, by=by)

    async def pins_changed(self, channel_id: int, *, pinned: Message | None = None, by: int = 0) -> None:
        """CHANNEL_PINS_UPDATE with the time of the channel's latest pin (null when none is left); after a
        pin, Discord's system message (type 6, referencing the pinned message) by whoever pinned it."""
        channel = self.channel(channel_id)
        pins = [m.pinned_at for m in self.channel_messages(channel_id) if m.pinned_at is not None]
        data = {
            "guild_id": str(channel.guild_id),
            "channel_id": str(channel_id),
            "last_pin_timestamp": iso(max(pins)) if pins else None,
        }
        await self.dispatch("CHANNEL_PINS_UPDATE", data, guild_id=channel.guild_id)
        if pinned is None:
            return
        notice = self.add_message(channel_id, by or self.bot_user.id)
        notice.type = 6
        notice.reference = {
            "type": 0,
            "channel_id": str(channel_id),
            "message_id": str(pinned.id),
            "guild_id": str(channel.guild_id),
        }
        await self.dispatch(
            "MESSAGE_CREATE", self.message_json(notice, gateway=True), guild_id=channel.guild_id
        )

    # threads ----------------------------------------------------------------------------------------

    async def start_thread(
        self,
        channel_id: int,
        name: str,
        owner_id: int,
        *,
        message_id: int | None = None,
        type: ChannelType = ChannelType.PUBLIC_THREAD,
        auto_archive_duration: int = 1440,
        invitable: bool = True,
    ) -> Thread:
        """A thread under a text channel, from a message (the thread takes the message's id) or not:
        THREAD_CREATE (`newly_created`), the owner as its first member."""
        parent = self.channel(channel_id)
        if parent.type != ChannelType.TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if message_id is not None:
            message = self.message(channel_id, message_id)
            if message.thread_id is not None:
                raise ApiError(400, 160004, "A thread has already been created for this message")
            message.thread_id = message_id
        thread = Thread(
            message_id or snowflake(),
            parent.guild_id,
            name,
            type=type,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
            invitable=invitable,
        )
        thread.members[owner_id] = thread.created_at
        self.guild(parent.guild_id).threads[thread.id] = thread
        data = {**thread.to_json(), "newly_created": True}
        if owner_id == self.bot_user.id:
            data["member"] = thread.member_json(owner_id)
        await self.dispatch("THREAD_CREATE", data, guild_id=thread.guild_id)
        if owner_id != self.bot_user.id:
            await self._members_update(thread, added=(owner_id,))
        return thread

    async def before_thread_message(self, thread: Thread) -> None:
        """A message is about to be posted in a thread: a locked archived thread refuses it (400 50083),
        an archived one is unarchived first (THREAD_UPDATE), as Discord does."""
        if thread.archived and thread.locked:
            raise ApiError(400, 50083, "Thread is archived")
        if thread.archived:
            await self.update_thread(thread.id, archived=False)

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        embeds: list[Json] | None = None,
        attachments: list[Json] | None = None,
        mentions: list[int] | None = None,
    ) -> Message:
        """A user posts a message: MESSAGE_CREATE (in a thread: counted, and unarchiving it first)."""
        thread = self.channel(channel_id)
        if not isinstance(thread, Thread):
            return await super().send_message(
                channel_id, author_id, content, embeds=embeds, attachments=attachments, mentions=mentions
            )
        await self.before_thread_message(thread)
        message = await super().send_message(
            channel_id, author_id, content, embeds=embeds, attachments=attachments, mentions=mentions
        )
        thread.message_count += 1
        thread.total_message_sent += 1
        return message

    def thread(self, thread_id: int) -> Thread:
        """A thread or 404 Unknown Channel."""
        channel = self.channel(thread_id)
        if not isinstance(channel, Thread):
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    async def join_thread(self, thread_id: int, user_id: int) -> None:
        """A member joins (or is added to) a thread: THREAD_MEMBERS_UPDATE (nothing if already in)."""
        thread = self.thread(thread_id)
        if thread.archived:
            raise ApiError(400, 50083, "Thread is archived")
        self.member(thread.guild_id, user_id)
        if user_id not in thread.members:
            thread.members[user_id] = utcnow()
            await self._members_update(thread, added=(user_id,))

    async def leave_thread(self, thread_id: int, user_id: int) -> None:
        """A member leaves (or is removed from) a thread: THREAD_MEMBERS_UPDATE."""
        thread = self.thread(thread_id)
        if thread.members.pop(user_id, None) is not None:
            await self._members_update(thread, removed=(user_id,))

    async def _members_update(
        self,
        thread: Thread,
        *,
        added: tuple[int, ...] = (),
        removed: tuple[int, ...] = (),
    ) -> None:
        data: Json = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": min(len(thread.members), 50),
        }
        if added:
            data["added_members"] = [thread.member_json(u) for u in added]
        if removed:
            data["removed_member_ids"] = [str(u) for u in removed]
        await self.dispatch("THREAD_MEMBERS_UPDATE", data, guild_id=thread.guild_id)

    async def update_thread(
        self,
        thread_id: int,
        *,
        name: str | None = None,
        archived: bool | None = None,
        locked: bool | None = None,
        auto_archive_duration: int | None = None,
        rate_limit_per_user: int | None = None,
        invitable: bool | None = None,
    ) -> Thread:
        """Rename, (un)archive, (un)lock a thread: THREAD_UPDATE (archived: out of the active list)."""
        thread = self.thread(thread_id)
        if name is not None:
            thread.name = name
        if archived is not None and archived != thread.archived:
            thread.archived, thread.archive_timestamp = archived, utcnow()
        if locked is not None:
            thread.locked = locked
        if auto_archive_duration is not None:
            thread.auto_archive_duration = auto_archive_duration
        if rate_limit_per_user is not None:
            thread.rate_limit_per_user = rate_limit_per_user
        if invitable is not None:
            thread.invitable = invitable
        await self.dispatch("THREAD_UPDATE", thread.to_json(), guild_id=thread.guild_id)
        return thread

    async def delete_thread(self, thread_id: int) -> Json:
        """THREAD_DELETE (id, guild, parent, type); the thread's messages go with it. Returns its JSON."""
        thread = self.thread(thread_id)
        data = thread.to_json()
        del self.guild(thread.guild_id).threads[thread.id]
        for message in self.channel_messages(thread.id):
            del self.messages[message.id]
        event = {key: data[key] for key in ("id", "guild_id", "parent_id", "type")}
        await self.dispatch("THREAD_DELETE", event, guild_id=thread.guild_id)
        return data

    # direct messages --------------------------------------------------------------------------------

    def open_dm_channel(self, user_id: int) -> int:
        """The DM channel between a user and the bot (made on first use, as Discord does; no event)."""
        self.user(user_id)
        existing = next((c for c, u in self.dm_channels.items() if u == user_id), None)
        channel_id = existing or snowflake()
        self.dm_channels[channel_id] = user_id
        return channel_id

    async def send_dm(
        self, user_id: int, content: str = "", *, attachments: list[Json] | None = None
    ) -> Message:
        """A user writes to the bot in their DM: MESSAGE_CREATE without `guild_id` (DIRECT_MESSAGES intent;
        content is sent even without MESSAGE_CONTENT, as in every DM)."""
        channel_id = self.open_dm_channel(user_id)
        message = Message(snowflake(), channel_id, None, user_id, content)
        message.attachments = list(attachments or [])
        self.messages[message.id] = message
        await self.dispatch("MESSAGE_CREATE", self.message_json(message, gateway=True))
        return message

    def dm_conversation(self, user_id: int) -> list[Message]:
        """Every message of the DM between a user and the bot, both sides, oldest first."""
        channels = [c for c, u in self.dm_channels.items() if u == user_id]
        return [m for c in channels for m in self.channel_messages(c)]

    # bans -------------------------------------------------------------------------------------------

    async def purge_recent_messages(self, guild_id: int, user_id: int, seconds: int) -> int:
        """Delete a user's messages of the last `seconds` in every channel of a guild, as a ban with
        `delete_message_seconds` does: one MESSAGE_DELETE_BULK per channel. Returns how many went."""
        since = utcnow() - timedelta(seconds=seconds)
        guild = self.guild(guild_id)
        gone = [
            m
            for m in self.messages.values()
            if m.guild_id == guild_id and m.author_id == user_id and m.timestamp >= since
        ]
        channels = sorted({m.channel_id for m in gone})
        for message in gone:
            del self.messages[message.id]
        for channel_id in channels:
            ids = [str(m.id) for m in gone if m.channel_id == channel_id]
            data = {"ids": ids, "channel_id": str(channel_id), "guild_id": str(guild.id)}
            await self.dispatch("MESSAGE_DELETE_BULK", data, guild_id=guild_id)
        return len(gone)
