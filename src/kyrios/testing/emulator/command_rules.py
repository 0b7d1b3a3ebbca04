"""Discord's rules for application command JSON, checked when the bot PUTs its commands."""

from __future__ import annotations

import re
from typing import Any

NAME = re.compile(r"^[-_\w]{1,32}$")
MAX_COMMANDS = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_TOTAL_CHARS = 4000
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, NUMBER = 1, 2, 3, 4, 10


def command_errors(commands: list[dict[str, Any]]) -> list[str]:
    """Every rule the bulk-overwrite body breaks (empty when Discord would accept it)."""
    errors: list[str] = []
    if len(commands) > MAX_COMMANDS:
        errors.append(f"{len(commands)} commands (at most {MAX_COMMANDS})")
    names = [c.get("name") for c in commands]
    errors += [f"duplicate command {n}" for n in sorted({n for n in names if names.count(n) > 1}, key=str)]
    for command in commands:
        name = str(command.get("name"))
        errors += _named(command, name)
        options = command.get("options") or []
        errors += _options(options, name, depth=0)
        if _chars(command) > MAX_TOTAL_CHARS:
            errors.append(
                f"/{name}: more than {MAX_TOTAL_CHARS} characters in names, descriptions and choices"
            )
    return errors


def _named(item: dict[str, Any], where: str) -> list[str]:
    errors = []
    name, description = item.get("name"), item.get("description")
    if not isinstance(name, str) or not NAME.match(name) or name != name.lower():
        errors.append(f"{where}: name {name!r} must be 1-32 lowercase letters, digits, - or _")
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        errors.append(f"{where}: description must be 1-100 characters")
    return errors


def _options(options: list[dict[str, Any]], where: str, *, depth: int) -> list[str]:
    errors: list[str] = []
    if len(options) > MAX_OPTIONS:
        errors.append(f"{where}: {len(options)} options (at most {MAX_OPTIONS})")
    names = [o.get("name") for o in options]
    errors += [
        f"{where}: duplicate option {n}" for n in sorted({n for n in names if names.count(n) > 1}, key=str)
    ]
    kinds = {o.get("type") for o in options}
    nested = kinds & {SUB_COMMAND, SUB_COMMAND_GROUP}
    if nested and kinds - nested:
        errors.append(f"{where}: subcommands cannot be mixed with plain options")
    seen_optional = False
    for option in options:
        here = f"{where} {option.get('name')}"
        errors += _named(option, here)
        kind = option.get("type")
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if (kind == SUB_COMMAND_GROUP and depth > 0) or (kind == SUB_COMMAND and depth > 1):
                errors.append(f"{here}: nested too deeply")
            if kind == SUB_COMMAND_GROUP and any(
                o.get("type") != SUB_COMMAND for o in option.get("options") or []
            ):
                errors.append(f"{here}: a group may only hold subcommands")
            errors += _options(option.get("options") or [], here, depth=depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                errors.append(f"{here}: required options must come before optional ones")
        else:
            seen_optional = True
        errors += _limits(option, here)
    return errors


def _limits(option: dict[str, Any], here: str) -> list[str]:
    errors = []
    choices = option.get("choices") or []
    if len(choices) > MAX_CHOICES:
        errors.append(f"{here}: {len(choices)} choices (at most {MAX_CHOICES})")
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None or high is not None) and option.get("type") not in (INTEGER, NUMBER):
        errors.append(f"{here}: min_value/max_value only apply to numbers")
    if low is not None and high is not None and low > high:
        errors.append(f"{here}: min_value {low} > max_value {high}")
    length = option.get("max_length")
    if length is not None and (option.get("type") != STRING or not 1 <= length <= 6000):
        errors.append(f"{here}: max_length must be 1-6000 on a string option")
    return errors


def _chars(item: dict[str, Any]) -> int:
    total = len(str(item.get("name", ""))) + len(str(item.get("description", "")))
    total += sum(
        len(str(c.get("name", ""))) + len(str(c.get("value", ""))) for c in item.get("choices") or []
    )
    return total + sum(_chars(o) for o in item.get("options") or [])
