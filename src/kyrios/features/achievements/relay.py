"""Posts the achievement outbox: each unlock announced once in its channel, its role granted.

Unlocks write an `achievement_outbox` row in their own transaction (`service.observe`). The relay
(run by this slice's cog in the bot process) reads the pending rows, posts each with the nonce
`ach-<id>` and Discord's `enforce_nonce`, grants the guild's role for it, and only then sets
`sent_at`. A relay that dies after posting and before marking posts again after its restart and
Discord hands back the message it already made (Discord keeps nonces for a few minutes; a relay
down longer than that between the two steps may repeat one announcement, never lose one).

A message Discord refuses (channel gone, no permission) is tried `MAX_ATTEMPTS` times, then
given up and marked, so one broken channel cannot hold the queue; a role Discord refuses is logged
and left, as the wallet's are. Rate limits are waited out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.i18n import N_
from kyrios.core.ports import DiscordError, DiscordPort, DiscordRateLimited
from kyrios.features.achievements.catalogue import CATALOGUE
from kyrios.features.achievements.models import AchievementOutbox
from kyrios.features.achievements.service import OUTBOX_WAKE
from kyrios.features.guild_settings import service as guild_settings
from kyrios.slash.reply import Colour, Embed, Reply

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 50
ROLE_REASON = "Kyrios achievement"
TITLE = N_("{emoji} Achievement unlocked: {name}")
TEXT = N_("<@{user}> unlocked **{name}**: {description}")


@dataclass(frozen=True)
class Pending:
    """One outbox row to deliver."""

    id: int
    guild_id: int
    user_id: int
    code: str
    channel_id: int | None
    role_id: int | None
    attempts: int

    @property
    def nonce(self) -> str:
        """Discord's nonce for this announcement (at most 25 characters)."""
        return f"ach-{self.id}"


class OutboxRelay:
    """Delivers pending outbox rows of the guilds this process serves."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        port: Callable[[], DiscordPort | None],
        serves: Callable[[int], bool],
        *,
        poll_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.port = port
        self.serves = serves
        self.poll_seconds = poll_seconds
        self.wake = bus.subscribe(OUTBOX_WAKE, max_queue=16)  # subscribed now: no wake-up is missed
        self.delivered = 0

    async def run(self) -> None:
        """Deliver what is pending now, then whenever woken or every `poll_seconds`."""
        try:
            while True:
                try:
                    await self.drain()
                except DiscordRateLimited as exc:
                    await asyncio.sleep(exc.retry_after)
                    continue
                except Exception:
                    log.exception("the achievement relay could not read or mark its outbox")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await self.wake.get()
                while not self.wake.queue.empty():  # one drain answers every wake-up so far
                    self.wake.queue.get_nowait()
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening for wake-ups (`run` does it when cancelled)."""
        self.wake.close()

    async def drain(self) -> int:
        """Deliver every pending row this process serves; how many were delivered."""
        done = 0
        while True:
            batch = [row for row in await self._pending() if self.serves(row.guild_id)]
            if not batch:
                return done
            for row in batch:
                done += await self.deliver(row)
            if len(batch) < BATCH:
                return done

    async def _pending(self) -> list[Pending]:
        async with self.db.read() as session:
            rows = await session.execute(
                select(
                    AchievementOutbox.id,
                    AchievementOutbox.guild_id,
                    AchievementOutbox.user_id,
                    AchievementOutbox.code,
                    AchievementOutbox.channel_id,
                    AchievementOutbox.role_id,
                    AchievementOutbox.attempts,
                )
                .where(AchievementOutbox.sent_at.is_(None))
                .order_by(AchievementOutbox.id)
                .limit(BATCH)
            )
            return [Pending(*row) for row in rows]

    async def deliver(self, row: Pending) -> int:
        """Post one announcement and grant its role, then mark it sent; 1 if it was marked now."""
        port = self.port()
        if port is None:  # no bot connected yet: the row waits
            return 0
        message_id: int | None = None
        try:
            if row.channel_id is not None:
                sent = await port.send_message(row.channel_id, await self._body(row))
                message_id = sent.id
        except DiscordRateLimited:
            raise
        except DiscordError as exc:
            log.info("achievement %s of %s not announced: %s", row.code, row.user_id, exc)
            if row.attempts + 1 < MAX_ATTEMPTS:
                await self.db.run(lambda s: self._count_attempt(s, row.id))
                return 0
        if row.role_id is not None:
            try:
                await port.add_role(row.guild_id, row.user_id, row.role_id, reason=ROLE_REASON)
            except DiscordRateLimited:
                raise
            except DiscordError as exc:  # gone, or above the bot's role: as the wallet's roles, left
                log.info("achievement role %s on %s not added: %s", row.role_id, row.user_id, exc)
        marked = await self.db.run(lambda s: self._mark(s, row.id, message_id))
        self.delivered += marked
        return marked

    async def _body(self, row: Pending) -> dict[str, object]:
        achievement = CATALOGUE[row.code]
        async with self.db.read() as session:
            words = await guild_settings.guild_translator(session, row.guild_id)
        name = words.t(achievement.name)
        embed = Embed(
            title=words.t(TITLE, emoji=achievement.emoji, name=name),
            description=words.t(
                TEXT, user=row.user_id, name=name, description=words.t(achievement.description)
            ),
            colour=Colour.GOLD,
        )
        body = Reply.embed(embed).to_message()
        body["nonce"] = row.nonce
        body["enforce_nonce"] = True
        return body

    async def _mark(self, session: AsyncSession, outbox_id: int, message_id: int | None) -> int:
        result = await session.execute(
            update(AchievementOutbox)
            .where(AchievementOutbox.id == outbox_id, AchievementOutbox.sent_at.is_(None))
            .values(sent_at=self.clock.now(), message_id=message_id, attempts=AchievementOutbox.attempts + 1)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _count_attempt(self, session: AsyncSession, outbox_id: int) -> None:
        await session.execute(
            update(AchievementOutbox)
            .where(AchievementOutbox.id == outbox_id)
            .values(attempts=AchievementOutbox.attempts + 1)
        )
