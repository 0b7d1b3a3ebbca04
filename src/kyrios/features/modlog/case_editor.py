"""Keeps each case's log message current: a new reason or note edits the message that shows it.

`/modlog reason` and `/modlog note` publish `posts.CASE_CHANGED` after they commit, from any
door or process; the gateway bot's `CaseEditor` renders that message's embeds again and edits
it. A case changed while its embed still waited in the sender's queue is edited as soon as
`on_posted` learns its message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kyrios.core.bus import EventBus, Follower, Message
from kyrios.core.db import Database
from kyrios.core.ports import DiscordError, DiscordPort
from kyrios.features.modlog import posts
from kyrios.features.modlog.posts import PostedMessage

log = logging.getLogger(__name__)

MAX_CHANGES_BEFORE_POSTED = 1000
"""Cases changed before their log message existed, kept (oldest dropped first) for `on_posted`."""


class CaseEditor(Follower):
    """Edits log messages through the `DiscordPort` when their cases change."""

    def __init__(self, db: Database, bus: EventBus, port: DiscordPort, serves: Callable[[int], bool]) -> None:
        super().__init__(bus.subscribe(posts.CASE_CHANGED), name="modlog-case-editor")
        self.db = db
        self.port = port
        self.serves = serves  # whether this bot process serves a guild
        self._changed_before_posted: dict[int, int] = {}  # entry id -> guild id, oldest first

    async def on_posted(self, channel_id: int, message_id: int, entry_ids: list[int]) -> None:
        """Remember which message shows which cases; show a change made while they were queued."""
        await self.db.run(lambda session: posts.remember(session, channel_id, message_id, entry_ids))
        changed = [e for e in entry_ids if e in self._changed_before_posted]
        if changed:
            guild_id = self._changed_before_posted[changed[0]]
            for entry_id in changed:
                del self._changed_before_posted[entry_id]
            await self.edit_case(guild_id, changed[0])

    async def edit_case(self, guild_id: int, entry_id: int) -> None:
        """Show a case's current reason and notes in the log message it was posted in."""
        if not self.serves(guild_id):
            return
        self._keep_for_posting(guild_id, entry_id)  # before the read: `on_posted` may commit meanwhile
        async with self.db.read() as session:
            posted = await posts.message_of(session, guild_id, entry_id)
        if posted is not None:
            self._changed_before_posted.pop(entry_id, None)
            await self.edit(posted)

    async def edit(self, posted: PostedMessage) -> None:
        """Replace a log message's embeds; a message or channel gone since is left alone."""
        try:
            await self.port.edit_message(posted.channel_id, posted.message_id, {"embeds": posted.embeds})
        except DiscordError as exc:
            log.info("log message %s in %s not edited: %s", posted.message_id, posted.channel_id, exc)

    async def handle(self, message: Message) -> None:
        """Edit one changed case's message (edits lost behind an overflow leave the cases intact)."""
        await self.edit_case(int(message["guild_id"]), int(message["entry_id"]))

    def _keep_for_posting(self, guild_id: int, entry_id: int) -> None:
        self._changed_before_posted[entry_id] = guild_id
        while len(self._changed_before_posted) > MAX_CHANGES_BEFORE_POSTED:
            del self._changed_before_posted[next(iter(self._changed_before_posted))]
