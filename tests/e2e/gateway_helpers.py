"""Helpers for driving the gateway cogs through the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import io
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from PIL import Image

from kyrios.features.modlog.cog import ModlogCog
from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.testing.emulator import WAIT_SECONDS, DiscordEmulator, running_bot
from kyrios.testing.emulator.server import channel_messages_path
from tests.helpers import invoke

MOD = 43
OWNER = 1000
_LOG_CHANNELS: weakref.WeakKeyDictionary[KyriosBot, int] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def moderated_bot(
    emu: DiscordEmulator, runtime: Runtime, *, bot_options: dict[str, Any] | None = None, **settings: Any
) -> AsyncIterator[KyriosBot]:
    """The bot with every gateway feature's intents, guild 1 logging to #mod-log with the store on."""
    emu.add_member(1, MOD, "mod")
    log_channel = emu.add_channel(1, "mod-log")
    changes = {"log_channel": str(log_channel.id), **settings}
    assert not (await invoke(runtime, "settings set", admin=True, **changes)).is_error
    assert not (await invoke(runtime, "modlog store", admin=True, state="on")).is_error
    options = {"chunk_guilds_at_startup": True, **(bot_options or {})}
    async with running_bot(emu, runtime, intents=intents_for(), **options) as bot:
        _LOG_CHANNELS[bot] = log_channel.id
        modlog_cog(bot).audit_second_look = 0.1
        yield bot


def log_channel(bot: KyriosBot) -> int:
    """The id of #mod-log."""
    return _LOG_CHANNELS[bot]


def modlog_cog(bot: KyriosBot) -> ModlogCog:
    """The running moderation-log cog (closing the bot removes it: keep it inside the `async with`)."""
    cog = bot.get_cog("modlog")
    assert isinstance(cog, ModlogCog)
    return cog


def posted_embeds(emu: DiscordEmulator, channel_id: int) -> list[dict[str, Any]]:
    """Every embed the bot posted (successfully) to a channel, oldest first."""
    requests = emu.requests("POST", channel_messages_path(channel_id))
    return [embed for r in requests if 200 <= r.status < 300 for embed in r.json.get("embeds", [])]


def embed_text(embed: dict[str, Any]) -> str:
    """Everything a moderator reads in an embed."""
    parts = [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = WAIT_SECONDS) -> None:  # noqa: ASYNC109
    """Poll until `check` is true."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


async def wait_for_embeds(
    emu: DiscordEmulator,
    channel_id: int,
    count: int,
    timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
) -> list[str]:
    """The texts of the first `count` embeds posted to a channel, once there are that many."""
    await eventually(lambda: len(posted_embeds(emu, channel_id)) >= count, timeout)
    return [embed_text(e) for e in posted_embeds(emu, channel_id)]


def png(colour: tuple[int, int, int], size: int = 64) -> bytes:
    """A real PNG of one colour with a white stripe."""
    image = Image.new("RGB", (size, size), colour)
    image.paste(Image.new("RGB", (size // 4, size), (255, 255, 255)), (0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
