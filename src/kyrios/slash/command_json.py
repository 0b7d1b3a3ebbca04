"""The command set as Discord's application-command JSON (groups and subcommands nested)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kyrios.slash.invocation import ADMIN_PERMISSIONS
from kyrios.slash.localization import localize
from kyrios.slash.options import OptionType

if TYPE_CHECKING:
    from kyrios.slash.registry import Command


def group_description(name: str) -> str:
    """The description of a command group (`/gacha`, `/gacha item`), which declares none itself."""
    return f"{name.capitalize()} commands"


def discord_commands(commands: Iterable[Command], *, localized: bool = True) -> list[dict[str, Any]]:
    """Discord's bulk-overwrite JSON; `localized` adds the Japanese names, descriptions and choices."""
    tops: dict[str, dict[str, Any]] = {}
    admin_only: dict[str, bool] = {}
    for command in commands:
        parts = command.path.split()
        top = tops.setdefault(
            parts[0],
            {"name": parts[0], "type": 1, "description": command.description[:100], "options": []},
        )
        admin_only[parts[0]] = admin_only.get(parts[0], True) and command.admin
        if command.guild_only:
            top["contexts"] = [0]
        leaf: dict[str, Any] = {
            "type": int(OptionType.SUB_COMMAND),
            "name": parts[-1],
            "description": command.description[:100],
            "options": [spec.to_discord() for spec in command.options],
        }
        if len(parts) == 1:
            top["description"] = command.description[:100]
            top["options"] = leaf["options"]
        elif len(parts) == 2:
            top["description"] = group_description(parts[0])
            top["options"].append(leaf)
        else:
            group = next((o for o in top["options"] if o["name"] == parts[1]), None)
            if group is None:
                group = {
                    "type": int(OptionType.SUB_COMMAND_GROUP),
                    "name": parts[1],
                    "description": group_description(parts[1]),
                    "options": [],
                }
                top["options"].append(group)
            group["options"].append(leaf)
    for name, top in tops.items():
        if admin_only[name]:
            top["default_member_permissions"] = str(int(ADMIN_PERMISSIONS & ADMIN_PERMISSIONS.MANAGE_GUILD))
    result = list(tops.values())
    return localize(result) if localized else result
