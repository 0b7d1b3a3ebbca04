"""The REST port as the HTTP-interactions-only deployment runs it: built by the runtime from a token."""

from __future__ import annotations

import asyncio
import time

from pydantic import SecretStr

from kyrios.core.discord_rest import RestDiscordPort
from kyrios.runtime import build_runtime
from kyrios.settings import Settings
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.server import channel_messages_path
from tests.e2e.gateway_helpers import eventually
from tests.e2e.test_discord_port import GENERAL, pending_interaction


async def test_a_runtime_with_a_token_reaches_discord_through_the_rest_port(
    discord_emulator: DiscordEmulator, settings: Settings
) -> None:
    emu = discord_emulator
    configured = settings.model_copy(
        update={"discord_token": SecretStr(emu.token), "discord_api_base": emu.api_base}
    )
    runtime = build_runtime(configured)
    try:
        assert isinstance(runtime.discord, RestDiscordPort)
        sent = await runtime.discord.send_message(GENERAL, {"content": "from the HTTP deployment"})
    finally:
        await runtime.aclose()
    assert emu.messages[sent.id].content == "from the HTTP deployment"
    request = emu.requests("POST", channel_messages_path(GENERAL))[0]
    assert request.headers["Authorization"] == f"Bot {emu.token}"
    assert request.headers["User-Agent"].startswith("DiscordBot (")
    tokenless = build_runtime(settings)
    try:
        assert tokenless.discord is None  # no token, no port
    finally:
        await tokenless.aclose()


async def test_without_a_bot_token_the_rest_port_still_answers_interactions(
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    record = pending_interaction(emu)
    port = RestDiscordPort(None, api_base=emu.api_base)
    try:
        await port.interaction_callback(record.id, record.token, {"type": 5})
        edited = await port.edit_original(emu.application_id, record.token, {"content": "done"})
    finally:
        await port.aclose()
    assert emu.messages[edited.id].content == "done"
    assert emu.traffic.requests and all(
        "authorization" not in {name.lower() for name in r.headers} for r in emu.traffic.requests
    )


async def test_a_global_rate_limit_holds_other_requests_but_not_interaction_responses(
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    other = emu.add_channel(1, "tickets")
    record = pending_interaction(emu)
    emu.arm_rate_limit("POST", channel_messages_path(GENERAL), retry_after=2.0, is_global=True)
    port = RestDiscordPort(emu.token, api_base=emu.api_base)
    try:
        limited = asyncio.create_task(port.send_message(GENERAL, {"content": "first"}))
        await eventually(lambda: port.limits.global_delay() > 0)
        pause_ends = time.monotonic() + port.limits.global_delay()
        await port.interaction_callback(record.id, record.token, {"type": 4, "data": {"content": "ok"}})
        assert port.limits.global_delay() > 0  # answered during the pause
        await port.send_message(other.id, {"content": "second"})
        assert time.monotonic() >= pause_ends - 0.01  # held until the pause was over
        await limited
    finally:
        await port.aclose()
    assert [m.content for m in emu.channel_messages(GENERAL) if m.id != record.original_message_id] == [
        "first"
    ]
    assert [m.content for m in emu.channel_messages(other.id)] == ["second"]
    assert record.original_message_id is not None and emu.messages[record.original_message_id].content == "ok"
