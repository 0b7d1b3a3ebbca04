"""`kyrios sync-commands` against the emulator: the PUT is stored, and Discord's rules accept it."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from kyrios.gateway.registration import register_commands
from kyrios.runtime import Runtime
from kyrios.slash.options import DISCORD_MAX_INTEGER, Opt
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
    response = await put_commands(discord_emulator, [command])
    assert response.status_code == 400
    assert response.json()["code"] == 50035
    assert problem in response.json()["message"]
    assert discord_emulator.global_commands == []


async def put_commands(emu: DiscordEmulator, commands: list[dict[str, Any]]) -> httpx.Response:
    """PUT a raw global command set with the bot's token."""
    url = f"{emu.api_base}/applications/{emu.application_id}/commands"
    async with httpx.AsyncClient() as client:
        return await client.put(url, json=commands, headers={"Authorization": f"Bot {emu.token}"})


def slash(*options: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A slash command `/cmd` holding `options`."""
    return {"name": "cmd", "type": 1, "description": "A command", "options": list(options), **fields}


def option(kind: int, name: str = "opt", **fields: Any) -> dict[str, Any]:
    """An option of type `kind`."""
    return {"type": kind, "name": name, "description": "An option", **fields}


def sub(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    """A subcommand."""
    return {"type": 1, "name": name, "description": "A subcommand", "options": list(options)}


def group(name: str, *subcommands: dict[str, Any]) -> dict[str, Any]:
    """A subcommand group."""
    return {"type": 2, "name": name, "description": "A group", "options": list(subcommands)}


INTEGER, NUMBER, STRING, BOOLEAN = 4, 10, 3, 5
MAX_INT = 2**53 - 1


def test_the_modlog_case_option_is_within_discords_integer_range(runtime: Runtime) -> None:
    commands = runtime.registry.discord_commands()
    assert command_errors(commands) == []
    bounds = [
        o.get("max_value")
        for c in commands
        for s in c.get("options") or []
        for o in s.get("options") or []
        if c["name"] == "modlog"
    ]
    assert MAX_INT in bounds and all(b is None or b <= MAX_INT for b in bounds)


def test_opt_refuses_a_bound_discord_would_refuse_at_declaration() -> None:
    assert DISCORD_MAX_INTEGER == MAX_INT
    Opt("Case number", min_value=-MAX_INT, max_value=MAX_INT)
    with pytest.raises(ValueError, match="beyond Discord's integer range"):
        Opt("Case number", min_value=1, max_value=2**63 - 1)
    with pytest.raises(ValueError, match="beyond Discord's integer range"):
        Opt("Offset", min_value=-(2**53))


@pytest.mark.parametrize(
    ("commands", "problem"),
    [
        ([slash(option(INTEGER, max_value=2**63 - 1))], "beyond Discord's integer range"),
        ([slash(option(INTEGER, min_value=-(2**53)))], "beyond Discord's integer range"),
        ([slash(option(NUMBER, max_value=2**53 + 2))], "beyond Discord's number range"),
        ([slash(option(INTEGER, min_value=1.5))], "must be an integer"),
        ([slash(option(STRING, min_value=1))], "only apply to numbers"),
        ([slash(option(INTEGER, min_value=5, max_value=1))], "min_value 5 > max_value 1"),
        ([slash(option(INTEGER, choices=[{"name": "one", "value": "1"}]))], "must be an integer"),
        ([slash(option(INTEGER, choices=[{"name": "big", "value": 2**60}]))], "integer range"),
        ([slash(option(STRING, choices=[{"name": "x", "value": 1}]))], "must be a string"),
        ([slash(option(STRING, choices=[{"name": "x", "value": "v" * 101}]))], "at most 100 characters"),
        ([slash(option(STRING, choices=[{"name": "", "value": "v"}]))], "name must be 1-100"),
        ([slash(option(BOOLEAN, choices=[{"name": "yes", "value": "y"}]))], "take choices"),
        (
            [slash(option(STRING, choices=[{"name": f"c{i}", "value": f"{i}"} for i in range(26)]))],
            "26 choices (at most 25)",
        ),
        (
            [slash(option(STRING, autocomplete=True, choices=[{"name": "a", "value": "a"}]))],
            "autocomplete",
        ),
        ([slash(option(STRING, max_length=6001))], "max_length must be 1-6000"),
        ([slash(option(INTEGER, min_length=1))], "min_length must be 0-6000"),
        ([slash(option(12))], "unknown option type"),
        ([slash(sub("a", sub("b")))], "cannot hold subcommands"),
        ([slash(group("g", group("h")))], "may only hold subcommands"),
        ([slash(sub("a"), option(STRING))], "cannot be mixed"),
        ([slash(option(STRING, "dup"), option(STRING, "dup"))], "duplicate option dup"),
        ([slash(name="has space")], "lowercase letters"),
        ([slash(name="ünïcödé-Ok")], "lowercase letters"),
        ([slash(name_localizations={"jp": "ガチャ"})], "unknown locale 'jp'"),
        ([slash(name_localizations={"ja": "ガ チャ"})], "name_localizations[ja]"),
        ([slash(name_localizations={"de": "Ziehen"})], "name_localizations[de]"),
        ([slash(description_localizations={"ja": ""})], "description_localizations[ja]"),
        ([slash(description_localizations={"ja": "説" * 101})], "description_localizations[ja]"),
        ([slash(description_localizations=["ja"])], "keyed by locale"),
        ([slash(option(STRING, "a"), option(STRING, "b", name_localizations={"ja": "a"}))], "another option"),
        (
            [
                slash(
                    option(STRING, "a", name_localizations={"ja": "名前"}),
                    option(STRING, "b", name_localizations={"ja": "名前"}),
                )
            ],
            "two options are named '名前' in ja",
        ),
        (
            [slash(option(STRING, choices=[{"name": "x", "value": "x", "name_localizations": {"ja": ""}}]))],
            "name_localizations[ja] must be 1-100",
        ),
        ([slash(name=f"c{i}") for i in range(101)], "101 commands of type 1 (at most 100)"),
        ([{"name": f"User {i}", "type": 2} for i in range(16)], "16 commands of type 2 (at most 15)"),
        ([{"name": "Report", "type": 3, "description": "Report it"}], "takes no description"),
        ([{"name": "Report", "type": 3, "options": [option(STRING)]}], "only slash commands"),
        ([{"name": "x" * 33, "type": 2}], "must be 1-32 characters"),
        ([slash(), slash()], "duplicate command cmd"),
        ([slash(type=9)], "unknown command type 9"),
        (
            [
                slash(
                    *[
                        sub(f"s{i}", *[option(STRING, f"o{j}", description="d" * 100) for j in range(3)])
                        for i in range(25)
                    ],
                    description_localizations={"ja": "説明"},
                )
            ],
            "more than 8000 characters",
        ),
    ],
)
async def test_emulator_applies_discords_command_rules(
    discord_emulator: DiscordEmulator, commands: list[dict[str, Any]], problem: str
) -> None:
    errors = command_errors(commands)
    assert any(problem in e for e in errors), errors
    response = await put_commands(discord_emulator, commands)
    assert response.status_code == 400 and response.json()["code"] == 50035
    assert discord_emulator.global_commands == []


@pytest.mark.parametrize(
    "commands",
    [
        [slash(option(INTEGER, min_value=-MAX_INT, max_value=MAX_INT))],
        [
            slash(
                option(NUMBER, min_value=-(2**53), max_value=2.5e15, choices=[{"name": "pi", "value": 3.14}])
            )
        ],
        [slash(option(INTEGER, choices=[{"name": "max", "value": MAX_INT}, {"name": "one", "value": 1}]))],
        [slash(option(STRING, min_length=0, max_length=6000, autocomplete=True))],
        [slash(group("g", sub("a", option(STRING))), sub("b"))],  # groups and subcommands may mix
        [slash(name="ガチャ"), slash(name="गाना"), slash(name="เพลง"), slash(name="don't-stop_2")],
        [
            slash(
                option(
                    STRING,
                    "kind",
                    required=True,
                    name_localizations={"ja": "種類", "en-US": "kind", "zh-TW": "種類"},
                    description_localizations={"ja": "イベントの種類"},
                    choices=[{"name": "Join", "value": "join", "name_localizations": {"ja": "参加"}}],
                ),
                option(STRING, "other", name_localizations={"ja": "その他", "de": "andere"}),
                name_localizations={"ja": "ログ", "es-419": "registro"},
                description_localizations={"ja": "モデレーションログ", "pt-BR": "Registro"},
            )
        ],
        [slash(name_localizations=None, description_localizations=None)],
        [{"name": "Report Message", "type": 3}, {"name": "Who Is", "type": 2, "description": ""}],
        [slash(name=f"c{i}") for i in range(100)] + [{"name": f"U{i}", "type": 2} for i in range(15)],
    ],
)
async def test_emulator_accepts_what_discord_accepts(
    discord_emulator: DiscordEmulator, commands: list[dict[str, Any]]
) -> None:
    assert command_errors(commands) == []
    response = await put_commands(discord_emulator, commands)
    assert response.status_code == 200, response.text
    assert len(discord_emulator.global_commands) == len(commands)


async def test_emulator_lists_localizations_only_when_asked_as_discord_does(
    discord_emulator: DiscordEmulator,
) -> None:
    names = {"ja": "ログ", "de": "protokoll"}
    choice = {"name": "Join", "value": "join", "name_localizations": {"ja": "参加"}}
    command = slash(option(STRING, "kind", choices=[choice]), name="log", name_localizations=names)
    assert (await put_commands(discord_emulator, [command])).status_code == 200
    url = f"{discord_emulator.api_base}/applications/{discord_emulator.application_id}/commands"
    auth = {"Authorization": f"Bot {discord_emulator.token}"}
    async with httpx.AsyncClient() as client:
        plain = (await client.get(url, headers=auth)).json()[0]
        in_japanese = (await client.get(url, headers={**auth, "X-Discord-Locale": "ja"})).json()[0]
        full = (await client.get(url, params={"with_localizations": "true"}, headers=auth)).json()[0]
    assert "name_localizations" not in plain and "name_localized" not in plain
    assert in_japanese["name_localized"] == "ログ" and "name_localizations" not in in_japanese
    assert in_japanese["options"][0]["choices"][0]["name_localized"] == "参加"
    assert full["name_localizations"] == names
    assert full["options"][0]["choices"][0]["name_localizations"] == {"ja": "参加"}
