"""Typed command lines (`/gacha pull count:3`, `!give @bob 100`) -> command path and options."""

from __future__ import annotations

import shlex

from kyrios.core.errors import InvalidInput
from kyrios.slash.registry import Registry


def parse_command_line(registry: Registry, line: str) -> tuple[str, dict[str, str]]:
    """Find the longest declared command path at the start of `line`; the rest are options.

    Options are `name:value` pairs or, in declaration order, plain positional values.
    """
    try:
        tokens = shlex.split(line.strip().lstrip("/!"))
    except ValueError as exc:
        raise InvalidInput("Could not read that command: {problem}.", problem=str(exc)) from None
    if not tokens:
        raise InvalidInput("Type a command, for example `/gacha pull`.")
    for length in range(min(3, len(tokens)), 0, -1):
        command = registry.find(" ".join(tokens[:length]).lower())
        if command is not None:
            break
    else:
        raise InvalidInput("Unknown command `/{command}`.", command=" ".join(tokens[:2]))
    names = [spec.name for spec in command.options]
    options: dict[str, str] = {}
    positional = iter(name for name in names)
    for token in tokens[length:]:
        key, sep, value = token.partition(":")
        if sep and key in names:
            options[key] = value
            continue
        name = next((n for n in positional if n not in options), None)
        if name is None:
            if not names:
                raise InvalidInput("`/{command}` takes no options.", command=command.path)
            raise InvalidInput(
                "Too many values for `/{command}` (options: {options}).",
                command=command.path,
                options=", ".join(names),
            )
        options[name] = token
    return command.path, options
