"""The log sender's batching rules, against a port that records what Discord would receive."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, NoReturn

from kyrios.core.discord_api import ApiCall, DiscordApi
from kyrios.core.ports import DiscordNotFound, DiscordRateLimited, Message, Upload
from kyrios.features.modlog.sender import (
    MAX_EMBED_CHARS_PER_MESSAGE,
    DeliveryProblem,
    LogSender,
    ProblemKind,
    embed_chars,
)
from kyrios.features.modlog.service import Delivery
from kyrios.slash.reply import Embed


class RecordingChannel(DiscordApi):
    """Stands in for Discord's `POST /channels/{id}/messages`: records, or fails like a deleted channel.

    Any other port operation reaches `_call`, which fails the test."""

    def __init__(self, gone: set[int] | None = None) -> None:
        self.messages: list[tuple[int, list[dict[str, Any]]]] = []
        self.gone = gone or set()
        self.in_flight = 0
        self.max_in_flight = 0

    async def send_message(
        self, channel_id: int, body: dict[str, Any], *, files: Sequence[Upload] = ()
    ) -> Message:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if channel_id in self.gone:
            raise DiscordNotFound(404, 10003, "Unknown Channel")
        self.messages.append((channel_id, body["embeds"]))
        return Message(len(self.messages), channel_id)

    async def _call(self, call: ApiCall) -> NoReturn:
        raise AssertionError(f"{call.method} {call.route}: the log sender only posts messages")


def delivery(channel_id: int, text: str = "x") -> Delivery:
    return Delivery(1, channel_id, Embed(title="t", description=text), 0)


async def test_embeds_are_batched_ten_at_a_time_one_send_at_a_time() -> None:
    channel = RecordingChannel()
    sender = LogSender(channel, linger=0.05)
    for n in range(25):
        sender.submit(delivery(5, f"entry {n}"))
    await sender.drain()
    assert [len(embeds) for _, embeds in channel.messages] == [10, 10, 5]
    assert channel.max_in_flight == 1
    texts = [e["description"] for _, embeds in channel.messages for e in embeds]
    assert texts == [f"entry {n}" for n in range(25)]  # order kept


async def test_a_message_never_carries_more_than_6000_embed_characters() -> None:
    channel = RecordingChannel()
    sender = LogSender(channel, linger=0.05)
    for _ in range(10):
        sender.submit(delivery(5, "y" * 2500))
    await sender.drain()
    assert all(sum(map(embed_chars, embeds)) <= MAX_EMBED_CHARS_PER_MESSAGE for _, embeds in channel.messages)
    assert sum(len(embeds) for _, embeds in channel.messages) == 10


async def test_a_gone_channel_is_reported_once_and_other_channels_keep_working() -> None:
    problems: list[DeliveryProblem] = []

    async def report(problem: DeliveryProblem) -> None:
        problems.append(problem)

    channel = RecordingChannel(gone={6})
    sender = LogSender(channel, report, linger=0.01)
    for n in range(3):
        sender.submit(delivery(6, f"lost {n}"))
        sender.submit(delivery(5, f"kept {n}"))
    await sender.drain()
    sender.submit(delivery(6, "after"))
    await sender.drain()
    assert [(p.channel_id, p.kind, p.lost) for p in problems] == [(6, ProblemKind.CHANNEL_GONE, 3)]
    assert sum(len(embeds) for cid, embeds in channel.messages if cid == 5) == 3
    assert sender.stats.dropped == 4


async def test_a_long_rate_limit_pauses_only_that_channel_and_loses_nothing() -> None:
    class RateLimitedOnce(RecordingChannel):
        limited = False

        async def send_message(
            self, channel_id: int, body: dict[str, Any], *, files: Sequence[Upload] = ()
        ) -> Message:
            if channel_id == 6 and not self.limited:
                self.limited = True
                raise DiscordRateLimited(0.2)
            return await super().send_message(channel_id, body, files=files)

    channel = RateLimitedOnce()
    sender = LogSender(channel, linger=0.01)
    sender.submit(delivery(6, "waited"))
    sender.submit(delivery(5, "unaffected"))
    await sender.drain()
    assert [cid for cid, _ in channel.messages] == [5, 6]  # 5 went out while 6 waited
    assert sender.stats.dropped == 0 and sender.stats.messages == 2
