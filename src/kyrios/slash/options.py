"""Typed command options: a handler's signature becomes Discord's option schema and a parser."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from kyrios.core.errors import InvalidInput
from kyrios.slash.invocation import Actor, ChannelRef, Invocation, RoleRef

MENTION = re.compile(r"^<[@#]&?!?(\d{1,20})>$")
MAX_SNOWFLAKE = 2**63 - 1
DISCORD_MAX_INTEGER = 2**53 - 1
"""Discord's bound for an integer option (and its min_value/max_value): ±(2^53 - 1); it refuses a
command set that declares more."""


class OptionType(IntEnum):
    """Discord application command option types."""

    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8


@dataclass(frozen=True)
class Opt:
    """Metadata for one option, used inside `Annotated[...]`."""

    description: str
    min_value: int | None = None
    max_value: int | None = None
    max_length: int = 100
    choices: tuple[StrEnum, ...] | None = None
    """For a StrEnum option: offer only these members (all of them when None)."""

    def __post_init__(self) -> None:
        for bound in (self.min_value, self.max_value):
            if bound is not None and not -DISCORD_MAX_INTEGER <= bound <= DISCORD_MAX_INTEGER:
                raise ValueError(
                    f"option bound {bound} is beyond Discord's integer range ±{DISCORD_MAX_INTEGER}"
                    " (use DISCORD_MAX_INTEGER)"
                )


@dataclass(frozen=True)
class OptionSpec:
    """One parsed option of a command."""

    name: str
    kind: OptionType
    description: str
    required: bool
    default: Any
    min_value: int | None
    max_value: int | None
    max_length: int
    choices: tuple[str, ...] | None
    enum: type[StrEnum] | None

    def to_discord(self) -> dict[str, Any]:
        """Discord's option JSON."""
        data: dict[str, Any] = {
            "type": int(self.kind),
            "name": self.name,
            "description": self.description[:100],
            "required": self.required,
        }
        if self.kind == OptionType.INTEGER:
            if self.min_value is not None:
                data["min_value"] = self.min_value
            if self.max_value is not None:
                data["max_value"] = self.max_value
        if self.kind == OptionType.STRING:
            data["max_length"] = self.max_length
        if self.choices:
            data["choices"] = [{"name": choice, "value": choice} for choice in self.choices]
        return data

    def convert(self, raw: Any, inv: Invocation) -> Any:
        """Turn a raw value from any door into the handler's type, or raise `InvalidInput`."""
        if self.kind == OptionType.INTEGER:
            return self._to_int(raw)
        if self.kind == OptionType.BOOLEAN:
            return _to_bool(self.name, raw)
        if self.kind == OptionType.USER:
            user_id = _to_snowflake(self.name, raw)
            return inv.resolved_users.get(user_id) or Actor(id=user_id, name=f"user {user_id}")
        if self.kind == OptionType.CHANNEL:
            return ChannelRef(_to_snowflake(self.name, raw))
        if self.kind == OptionType.ROLE:
            return RoleRef(_to_snowflake(self.name, raw))
        text = str(raw).strip()
        if not text:
            raise InvalidInput("`{option}` cannot be empty.", option=self.name)
        if len(text) > self.max_length:
            raise InvalidInput(
                "`{option}` is too long (at most {limit} characters).",
                option=self.name,
                limit=self.max_length,
            )
        if self.choices:
            match = next((c for c in self.choices if c.lower() == text.lower()), None)
            if match is None:
                raise InvalidInput(
                    "`{option}` must be one of: {choices}.", option=self.name, choices=", ".join(self.choices)
                )
            return self.enum(match) if self.enum else match
        return text

    def _to_int(self, raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise InvalidInput("`{option}` must be a whole number.", option=self.name)
        try:
            value = int(str(raw).strip().replace("_", "").replace(",", ""))
        except ValueError:
            raise InvalidInput(
                "`{option}` must be a whole number, not `{value}`.", option=self.name, value=str(raw)[:20]
            ) from None
        if self.min_value is not None and value < self.min_value:
            raise InvalidInput(
                "`{option}` must be at least {minimum}.", option=self.name, minimum=self.min_value
            )
        if self.max_value is not None and value > self.max_value:
            raise InvalidInput(
                "`{option}` must be at most {maximum}.", option=self.name, maximum=self.max_value
            )
        return value


def _to_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise InvalidInput("`{option}` must be true or false.", option=name)


def _to_snowflake(name: str, raw: Any) -> int:
    text = str(raw).strip()
    match = MENTION.match(text)
    if match:
        text = match.group(1)
    if not text.isdigit() or not 0 < int(text) <= MAX_SNOWFLAKE:
        raise InvalidInput("`{option}` must be a mention or an id.", option=name)
    return int(text)


KIND_BY_TYPE: dict[Any, OptionType] = {
    int: OptionType.INTEGER,
    str: OptionType.STRING,
    bool: OptionType.BOOLEAN,
    Actor: OptionType.USER,
    ChannelRef: OptionType.CHANNEL,
    RoleRef: OptionType.ROLE,
}


def options_from_signature(handler: Any) -> list[OptionSpec]:
    """Read the keyword parameters after the context into option specs."""
    hints = get_type_hints(handler, include_extras=True)
    params = list(inspect.signature(handler).parameters.values())[1:]
    specs: list[OptionSpec] = []
    for param in params:
        hint = hints[param.name]
        meta = Opt(description=param.name.replace("_", " "))
        if get_origin(hint) is Annotated:
            hint, *extras = get_args(hint)
            meta = next((extra for extra in extras if isinstance(extra, Opt)), meta)
        if get_origin(hint) in (Union, type(int | None)):
            hint = next(arg for arg in get_args(hint) if arg is not type(None))
        enum: type[StrEnum] | None = None
        choices: tuple[str, ...] | None = None
        if isinstance(hint, type) and issubclass(hint, StrEnum):
            offered = hint if meta.choices is None else meta.choices
            if any(not isinstance(member, hint) for member in offered):
                raise TypeError(f"option {param.name}: every choice must be a {hint.__name__}")
            enum, choices, kind = hint, tuple(member.value for member in offered), OptionType.STRING
        else:
            kind = KIND_BY_TYPE[hint]
        required = param.default is inspect.Parameter.empty
        specs.append(
            OptionSpec(
                name=param.name,
                kind=kind,
                description=meta.description,
                required=required,
                default=None if required else param.default,
                min_value=meta.min_value,
                max_value=meta.max_value,
                max_length=meta.max_length,
                choices=choices,
                enum=enum,
            )
        )
    return specs
