"""Telling a guild's admins about a problem, and remembering which problems they were told about.

A restart does not tell them again; a problem still there after `REMIND_AFTER` is told once
more: a reminder, not a stream. The notice goes out through the `DiscordPort`, in the guild's
language (`/settings set locale:`); the log says it in English.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.i18n import N_, LazyText
from kyrios.core.ports import DiscordError, DiscordPort
from kyrios.features.guild_settings.models import AdminNotice
from kyrios.features.guild_settings.service import guild_translator

log = logging.getLogger(__name__)

REMIND_AFTER = timedelta(days=7)
MAX_PROBLEM_KEY = 100
NOTICE = N_("⚠️ **Kyrios in {guild}:** {notice}")


async def due(session: AsyncSession, guild_id: int, problem: str, *, now: datetime) -> bool:
    """Whether to tell the admins about `problem` now; if so, it is recorded as told at `now`."""
    key = problem[:MAX_PROBLEM_KEY]
    notice = await session.get(AdminNotice, (guild_id, key), with_for_update=True)
    if notice is None:
        session.add(AdminNotice(guild_id=guild_id, problem=key, told_at=now))
    elif now - notice.told_at >= REMIND_AFTER:
        notice.told_at = now
    else:
        return False
    await session.flush()
    return True


@dataclass(frozen=True)
class GuildContact:
    """Where a guild's admins can be told something: its name, system channel and owner."""

    guild_name: str
    system_channel_id: int | None
    owner_id: int | None


ContactLookup = Callable[[int], Awaitable[GuildContact | None]]
"""How a door finds a guild's contact (the gateway reads its cache); None when it cannot."""


class AdminNotifier:
    """Tells a guild's admins about a problem the bot cannot fix itself, once per problem.

    The notice goes to the system channel when the bot can post there, else to the owner by DM;
    if both fail it is only logged. "Once" is `due`: kept in the database across restarts.
    """

    def __init__(self, db: Database, clock: Clock, port: DiscordPort, contact: ContactLookup) -> None:
        self.db = db
        self.clock = clock
        self.port = port
        self.contact = contact

    async def tell_once(
        self, guild_id: int, problem: str, text: LazyText, *, avoid_channel: int | None = None
    ) -> bool:
        """Tell the admins of `guild_id` about `problem` in the guild's language (`text`: a `lazy`
        message); False if already told or nobody could be reached."""
        now = self.clock.now()
        if not await self.db.run(lambda session: due(session, guild_id, problem, now=now)):
            return False
        contact = await self.contact(guild_id)
        if contact is None:
            log.warning("guild %s: %s (guild unknown; nobody told)", guild_id, text)
            return False
        async with self.db.read() as session:
            translator = await guild_translator(session, guild_id, now=now)
        content = translator.t(NOTICE, guild=contact.guild_name, notice=translator.t(text))
        body = {"content": content, "allowed_mentions": {"parse": []}}
        channel_id = contact.system_channel_id
        if channel_id is not None and channel_id != avoid_channel:
            try:
                await self.port.send_message(channel_id, body)
                return True
            except DiscordError as exc:
                log.info("system channel of guild %s refused the notice: %s", guild_id, exc)
        if contact.owner_id is None:
            log.warning("guild %s: %s (no owner known; nobody told)", guild_id, text)
            return False
        try:
            await self.port.send_dm(contact.owner_id, body)
            return True
        except DiscordError as exc:
            log.warning("guild %s: %s (could not tell the owner: %s)", guild_id, text, exc)
            return False
