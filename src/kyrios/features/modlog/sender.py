"""The log sender: one queue per channel that coalesces bursts into few messages.

A raid produces hundreds of log embeds in seconds; `POST /channels/{id}/messages` allows about five
per channel every few seconds. So each channel has one worker that sends one message at a time
with up to 10 embeds (and at most 6,000 embed characters, Discord's per-message limit), waiting a
moment (`linger`) for a burst to gather first. The `DiscordPort` already waits out ordinary 429s;
a `DiscordRateLimited` (a 429 longer than the port waits by itself) pauses this channel only. A
deleted channel (404) drops its queue and future posts; a missing permission (403) pauses the
channel for `forbidden_pause`; each problem is reported once per channel, so the admin is told once.
After each post, `posted` learns which cases the new message shows (so its message can be edited).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kyrios.core.ports import DiscordForbidden, DiscordNotFound, DiscordPort, DiscordRateLimited
from kyrios.features.modlog.service import Delivery

log = logging.getLogger(__name__)

MAX_EMBEDS_PER_MESSAGE = 10
MAX_EMBED_CHARS_PER_MESSAGE = 6000
MAX_QUEUED_PER_CHANNEL = 1000


class ProblemKind(StrEnum):
    """Why a channel stopped receiving logs."""

    CHANNEL_GONE = "channel_gone"
    MISSING_ACCESS = "missing_access"


@dataclass(frozen=True)
class DeliveryProblem:
    """Reported once per channel and kind."""

    guild_id: int
    channel_id: int
    kind: ProblemKind
    lost: int


ProblemReporter = Callable[[DeliveryProblem], Awaitable[None]]
Queued = tuple[int, dict[str, Any]]
"""An embed waiting in a channel's queue, with the id of the case it shows."""
PostedListener = Callable[[int, int, list[int]], Awaitable[None]]
"""`(channel_id, message_id, entry_ids)` after a message with those cases' embeds was posted."""


def embed_chars(embed: dict[str, Any]) -> int:
    """The characters Discord counts towards the 6,000 per message."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return total


@dataclass
class _Channel:
    guild_id: int
    queue: deque[Queued] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None
    gone: bool = False
    paused_until: float = 0.0


@dataclass
class SenderStats:
    """What the sender did (for tests and metrics)."""

    messages: int = 0
    embeds: int = 0
    dropped: int = 0


class LogSender:
    """Queues log embeds per channel and posts them in coalesced messages."""

    def __init__(
        self,
        port: DiscordPort,
        report: ProblemReporter | None = None,
        *,
        posted: PostedListener | None = None,
        linger: float = 0.25,
        forbidden_pause: float = 600.0,
    ) -> None:
        self.port = port
        self.report = report
        self.posted = posted
        self.linger = linger
        self.forbidden_pause = forbidden_pause
        self.stats = SenderStats()
        self._channels: dict[int, _Channel] = {}
        self._reported: set[tuple[int, ProblemKind]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._active = 0
        self._closed = False

    def submit(self, delivery: Delivery) -> None:
        """Queue one embed for its channel (never blocks; the oldest is dropped past the cap)."""
        if self._closed:
            return
        channel = self._channels.setdefault(delivery.channel_id, _Channel(delivery.guild_id))
        loop = asyncio.get_running_loop()
        if channel.gone or channel.paused_until > loop.time():
            self.stats.dropped += 1
            return
        if len(channel.queue) >= MAX_QUEUED_PER_CHANNEL:
            channel.queue.popleft()
            self.stats.dropped += 1
        channel.queue.append((delivery.entry_id, delivery.embed.to_dict()))
        if channel.worker is None or channel.worker.done():
            self._active += 1
            self._idle.clear()
            channel.worker = asyncio.create_task(
                self._work(delivery.channel_id, channel), name=f"modlog-sender-{delivery.channel_id}"
            )

    def pending(self) -> int:
        """Embeds waiting to be sent."""
        return sum(len(c.queue) for c in self._channels.values())

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 (callers bound shutdown)
        """Wait until every queue is empty and no send is in flight."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def close(self) -> None:
        """Stop the workers (what is still queued is dropped)."""
        self._closed = True
        workers = [c.worker for c in self._channels.values() if c.worker is not None]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    def _batch(self, channel: _Channel) -> list[Queued]:
        batch: list[Queued] = []
        chars = 0
        while channel.queue and len(batch) < MAX_EMBEDS_PER_MESSAGE:
            size = embed_chars(channel.queue[0][1])
            if batch and chars + size > MAX_EMBED_CHARS_PER_MESSAGE:
                break
            batch.append(channel.queue.popleft())
            chars += size
        return batch

    async def _work(self, channel_id: int, channel: _Channel) -> None:
        try:
            while channel.queue and not channel.gone:
                if len(channel.queue) < MAX_EMBEDS_PER_MESSAGE and self.linger > 0:
                    await asyncio.sleep(self.linger)  # let a burst gather into one message
                batch = self._batch(channel)
                await self._send(channel_id, channel, batch)
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def _send(self, channel_id: int, channel: _Channel, batch: list[Queued]) -> None:
        body = {"embeds": [embed for _, embed in batch], "allowed_mentions": {"parse": []}}
        for attempt in range(1, 4):
            try:
                message = await self.port.send_message(channel_id, body)
            except DiscordRateLimited as exc:
                log.warning("log channel %s is rate limited; waiting %.1fs", channel_id, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
                continue
            except DiscordNotFound:
                lost = len(batch) + len(channel.queue)
                channel.gone = True
                channel.queue.clear()
                self.stats.dropped += lost
                await self._problem(channel_id, channel, ProblemKind.CHANNEL_GONE, lost)
                return
            except DiscordForbidden:
                lost = len(batch) + len(channel.queue)
                channel.queue.clear()
                channel.paused_until = asyncio.get_running_loop().time() + self.forbidden_pause
                self.stats.dropped += lost
                await self._problem(channel_id, channel, ProblemKind.MISSING_ACCESS, lost)
                return
            except Exception:
                log.exception("posting %d log embeds to %s failed (try %d)", len(batch), channel_id, attempt)
                await asyncio.sleep(0.5 * attempt)
                continue
            self.stats.messages += 1
            self.stats.embeds += len(batch)
            if self.posted is not None:
                try:
                    await self.posted(channel_id, message.id, [entry_id for entry_id, _ in batch])
                except Exception:
                    log.exception("recording log message %s in %s failed", message.id, channel_id)
            return
        self.stats.dropped += len(batch)

    async def _problem(self, channel_id: int, channel: _Channel, kind: ProblemKind, lost: int) -> None:
        log.warning(
            "log channel %s (guild %s): %s, %d embeds dropped", channel_id, channel.guild_id, kind, lost
        )
        if (channel_id, kind) in self._reported or self.report is None:
            return
        self._reported.add((channel_id, kind))
        try:
            await self.report(DeliveryProblem(channel.guild_id, channel_id, kind, lost))
        except Exception:
            log.exception("reporting %s for channel %s failed", kind, channel_id)
