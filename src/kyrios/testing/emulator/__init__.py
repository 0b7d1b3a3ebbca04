"""A local Discord for tests: REST + gateway + CDN in-process, driven by the test, used by the real bot.

    async with DiscordEmulator() as emu:
        emu.add_standard_guild()
        async with running_bot(emu, runtime) as bot:
            sent = await emu.run_command("gacha pull")
            callback = await emu.wait_for_callback(sent["id"])

See tests/README.md for the whole API.
"""

from kyrios.testing.emulator.gateway import Op
from kyrios.testing.emulator.harness import running_bot
from kyrios.testing.emulator.models import AuditAction, ChannelType, Overwrite
from kyrios.testing.emulator.server import (
    ANY_CALLBACK,
    STANDARD_CHANNEL_ID,
    STANDARD_GUILD_ID,
    STANDARD_USER_ID,
    DiscordEmulator,
    channel_messages_path,
)
from kyrios.testing.emulator.state import ApiError
from kyrios.testing.emulator.traffic import WAIT_SECONDS, RecordedRequest

__all__ = [
    "ANY_CALLBACK",
    "STANDARD_CHANNEL_ID",
    "STANDARD_GUILD_ID",
    "STANDARD_USER_ID",
    "WAIT_SECONDS",
    "ApiError",
    "AuditAction",
    "ChannelType",
    "DiscordEmulator",
    "Op",
    "Overwrite",
    "RecordedRequest",
    "channel_messages_path",
    "running_bot",
]
