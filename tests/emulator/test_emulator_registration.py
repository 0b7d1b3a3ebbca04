"""`kyrios sync-commands` against the emulator: the PUT is stored, and Discord's rules accept it."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from pydantic import SecretStr

from kyrios.gateway.registration import register_commands
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.command_rules import command_errors


def pointed_at(runtime: Runtime, emu: DiscordEmulator) -> Runtime:
    """The runtime with settings aimed at the emulator's API and bot token."""
    settings = runtime.settings.model_copy(
        update={
            "discord_api_base": emu.api_base,
            "discord_token": SecretStr(emu.token),
            "discord_application_id": emu.application_id,
        }
    )
    return dataclasses.replace(runtime, settings=settings)


async def test_emulator_stores_our_global_command_set_and_it_follows_discords_rules(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    count = await register_commands(pointed_at(runtime, discord_emulator))
    put = await discord_emulator.wait_for_request(
        "PUT", f"/applications/{discord_emulator.application_id}/commands"
    )
    assert put.headers["Authorization"] == f"Bot {discord_emulator.token}"
    stored = discord_emulator.global_commands
    assert len(stored) == count == len(runtime.registry.discord_commands())
    assert {"gacha", "points"} <= {c["name"] for c in stored}
    assert all(c["id"] and c["application_id"] == str(discord_emulator.application_id) for c in stored)
    assert command_errors(put.body) == []
    gacha = next(c for c in stored if c["name"] == "gacha")
    assert "pull" in {o["name"] for o in gacha["options"]}


async def test_emulator_guild_commands_are_stored_per_guild(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    await register_commands(pointed_at(runtime, discord_emulator), guild_id=1)
    assert discord_emulator.guild(1).commands
    assert all(c["guild_id"] == "1" for c in discord_emulator.guild(1).commands)
    assert discord_emulator.global_commands == []


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ({"name": "Gacha", "description": "x"}, "lowercase"),
        ({"name": "x" * 33, "description": "x"}, "1-32"),
        ({"name": "gacha", "description": ""}, "description"),
        ({"name": "gacha", "description": "d" * 101}, "description"),
        (
            {
                "name": "give",
                "description": "Give points",
                "options": [
                    {"type": 4, "name": "amount", "description": "a", "required": False},
                    {"type": 6, "name": "user", "description": "u", "required": True},
                ],
            },
            "required options must come before optional ones",
        ),
        (
            {
                "name": "many",
                "description": "d",
                "options": [{"type": 3, "name": f"o{i}", "description": "d"} for i in range(26)],
            },
            "at most 25",
        ),
    ],
)
async def test_emulator_refuses_command_json_discord_would_refuse(
    discord_emulator: DiscordEmulator, command: dict[str, object], problem: str
) -> None:
    errors = command_errors([command])
    assert any(problem in e for e in errors), errors
    url = f"{discord_emulator.api_base}/applications/{discord_emulator.application_id}/commands"
    headers = {"Authorization": f"Bot {discord_emulator.token}"}
    async with httpx.AsyncClient() as client:
        response = await client.put(url, json=[command], headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == 50035
    assert problem in response.json()["message"]
    assert discord_emulator.global_commands == []
