"""Check a JSON value against one of discord.py's TypedDicts (`discord.types.*`): keys and primitive types.

discord.py's own shapes are the contract the emulator must honour; later e2e tests can check any
payload they build the same way: `assert shape_errors(data, discord.types.message.Message) == []`.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import types
import typing
from typing import (
    Any,
    ForwardRef,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)


class _Placeholder(dict[str, Any]):
    """Stands in for a `discord.types` name while its module is not importable yet."""

    module: str = ""


_CYCLE = ("discord.types.message", "discord.types.channel")
_CYCLE_DEPENDENTS = ("threads", "components", "scheduled_event", "guild", "interactions")


def load_discord_types() -> None:
    """Make `discord.types.*` importable at run time (idempotent).

    Those modules are written for type checkers: message -> channel -> threads -> message (and
    interactions, guild, components) form import cycles that fail at run time. Their annotations are
    postponed strings, so the dependents are loaded against placeholder `message`/`channel` modules,
    the real ones are imported next, and the dependents' globals are then pointed at the real names.
    """
    if "discord.types.threads" in sys.modules:
        return
    for name in _CYCLE:
        placeholder = types.ModuleType(name)
        placeholder.__getattr__ = functools.partial(_placeholder_for, name)  # type: ignore[method-assign]
        sys.modules[name] = placeholder
    try:
        dependents = [importlib.import_module(f"discord.types.{n}") for n in _CYCLE_DEPENDENTS]
    finally:
        for name in _CYCLE:
            del sys.modules[name]
    real = {name: importlib.import_module(name) for name in _CYCLE}
    for module in dependents:
        for key, value in list(vars(module).items()):
            setattr(module, key, _resolved(value, real))
            if is_typeddict(value):
                value.__annotations__.update(
                    {k: _resolved(v, real) for k, v in value.__annotations__.items()}
                )


def _placeholder_for(module: str, name: str) -> type[_Placeholder]:
    return type(name, (_Placeholder,), {"module": module})


def _resolved(tp: Any, real: dict[str, types.ModuleType]) -> Any:
    """`tp` with placeholders (also inside `List[...]`, `Union[...]`) swapped for the real names."""
    if isinstance(tp, type) and issubclass(tp, _Placeholder) and tp is not _Placeholder:
        return getattr(real[tp.module], tp.__name__)
    args = get_args(tp)
    if not args or get_origin(tp) is Literal or not hasattr(tp, "copy_with"):
        return tp
    new = tuple(_resolved(arg, real) for arg in args)
    return tp if new == args else tp.copy_with(new)


# discord.py declares every key of these required, but Discord sends only the keys relevant to the
# action ("optional audit entry info" in the API docs).
CONDITIONAL_SHAPES = frozenset({"AuditEntryInfo"})
# Keys discord.py's TypedDicts require that only the gateway form of the object carries (GUILD_CREATE has
# them; `GET /guilds/{id}` never does). The gateway events have TypedDicts of their own names, which
# still require them.
GATEWAY_ONLY_KEYS: dict[str, frozenset[str]] = {
    "Guild": frozenset({"stage_instances", "guild_scheduled_events"}),
}
_MEMBER_SHAPES = frozenset(
    {"Member", "MemberWithUser", "_OptionalMemberWithUser", "GuildMemberAddEvent", "GuildMemberUpdateEvent"}
)
_USER_SHAPES = frozenset({"PartialUser", "User", "UserWithMember"})
# Keys discord.py types as never null although Discord documents them as nullable (`?string` in the
# API docs, `["string", "null"]` in its OpenAPI spec) and sends null; discord.py reads them with
# `.get()`, so null is what production sees. Each entry: key -> the TypedDicts it applies to.
DISCORD_NULLABLE: dict[str, frozenset[str]] = {
    "nick": _MEMBER_SHAPES,  # no nickname: `"nick": null` (a missing key would mean "unchanged")
    "avatar": _MEMBER_SHAPES,  # no per-server avatar
    "communication_disabled_until": _MEMBER_SHAPES,  # not timed out
    "primary_guild": _USER_SHAPES,  # no server tag shown
    "avatar_decoration_data": _USER_SHAPES,
    "collectibles": _USER_SHAPES,
    "team": frozenset({"AppInfo"}),  # an application owned by a user, not a team
}
_OPTIONAL_TEXT = re.compile(r"^(\w+\.)*NotRequired\[")
_REQUIRED_TEXT = re.compile(r"^(\w+\.)*Required\[")


def _text(annotation: object) -> str:
    if isinstance(annotation, ForwardRef):
        return annotation.__forward_arg__
    return annotation if isinstance(annotation, str) else repr(annotation)


def required_keys(shape: Any) -> set[str]:
    """The keys a TypedDict requires, reading `NotRequired[...]` even under postponed annotations."""
    if shape.__name__ in CONDITIONAL_SHAPES:
        return set()
    keys = set(shape.__required_keys__) - GATEWAY_ONLY_KEYS.get(shape.__name__, frozenset())
    for name, annotation in shape.__annotations__.items():
        text = _text(annotation)
        if _OPTIONAL_TEXT.match(text):
            keys.discard(name)
        elif _REQUIRED_TEXT.match(text):
            keys.add(name)
    return keys


def is_typeddict(tp: object) -> bool:
    """Is `tp` a TypedDict class?"""
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def shape_errors(value: Any, shape: Any, where: str = "$") -> list[str]:
    """Missing required keys and primitive type mismatches of `value` against `shape` (empty: conforms)."""
    origin, args = get_origin(shape), get_args(shape)
    if origin in (NotRequired, Required):
        return shape_errors(value, args[0], where)
    if shape is Any or isinstance(shape, typing.TypeVar):
        return []
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return []
        alternatives = [a for a in args if a is not type(None)]
        attempts = [shape_errors(value, alternative, where) for alternative in alternatives]
        return [] if any(not errors for errors in attempts) else min(attempts, key=len)
    if origin is Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {args}"]
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        item_shape = args[0] if args else Any
        return [e for i, item in enumerate(value) for e in shape_errors(item, item_shape, f"{where}[{i}]")]
    if origin in (dict, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{where}: expected an object, got {type(value).__name__}"]
    if is_typeddict(shape):
        return _typeddict_errors(value, shape, where)
    return _primitive_errors(value, shape, where)


def _typeddict_errors(value: Any, shape: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected {shape.__name__} object, got {type(value).__name__}"]
    missing = sorted(required_keys(shape) - set(value))
    errors = [f"{where}: missing {key!r} ({shape.__name__})" for key in missing]
    hints = _hints(shape)
    for key, item in value.items():
        if item is None and shape.__name__ in DISCORD_NULLABLE.get(key, ()):
            continue
        if key in hints:
            errors += shape_errors(item, hints[key], f"{where}.{key}")
    return errors


@functools.cache
def _hints(shape: Any) -> dict[str, Any]:
    """A TypedDict's resolved annotations; a key whose annotation discord.py left unresolvable
    (a name imported only for type checkers) is skipped rather than failing the whole shape."""
    try:
        return get_type_hints(shape, include_extras=True)
    except NameError:
        hints = {}
        for key, annotation in shape.__annotations__.items():
            single = type("_Key", (), {"__annotations__": {key: annotation}, "__module__": shape.__module__})
            try:
                hints[key] = get_type_hints(single, include_extras=True)[key]
            except NameError:
                continue
        return hints


def _primitive_errors(value: Any, shape: Any, where: str) -> list[str]:
    if shape is None or shape is type(None):
        return [] if value is None else [f"{where}: expected null, got {value!r}"]
    if shape is bool:
        ok = type(value) is bool
    elif shape is int:
        ok = isinstance(value, int) and type(value) is not bool
    elif shape is float:
        ok = isinstance(value, int | float) and type(value) is not bool
    elif shape is str:
        ok = isinstance(value, str)
    else:
        return []  # classes discord.py only forwards (e.g. enums as ints) are not checked further
    return [] if ok else [f"{where}: expected {shape.__name__}, got {type(value).__name__} {value!r}"]


# What Discord always puts in gateway payloads although discord.py's TypedDicts leave it optional;
# the emulator once left these out, and discord.py then silently kept stale state.
MEMBER_KEYS = ("roles", "joined_at", "nick", "avatar", "communication_disabled_until", "flags")
MEMBER_EVENTS = ("GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE")


def gateway_errors(event: str, data: Any, *, bot_user_id: int) -> list[str]:
    """Gateway-only facts a DISPATCH breaks: a guild message's `guild_id` and partial `member` (also on
    mentions, never with a `user`), every member key sent even when null (a missing `nick` means
    "unchanged" to discord.py), and the bot's managed role tagged with `bot_id` in GUILD_CREATE."""
    if not isinstance(data, dict):
        return []
    if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
        return _message_errors(data)
    if event in MEMBER_EVENTS:
        return _member_errors(data, "$")
    if event == "GUILD_MEMBERS_CHUNK":
        return [
            e for i, m in enumerate(data.get("members", [])) for e in _member_errors(m, f"$.members[{i}]")
        ]
    if event == "GUILD_CREATE":
        errors = [
            e for i, m in enumerate(data.get("members", [])) for e in _member_errors(m, f"$.members[{i}]")
        ]
        tagged = [r for r in data.get("roles", []) if (r.get("tags") or {}).get("bot_id") == str(bot_user_id)]
        if len(tagged) != 1:
            errors.append("$.roles: the bot's managed role must carry tags.bot_id (guild.self_role)")
        return errors
    return []


def _message_errors(data: dict[str, Any]) -> list[str]:
    errors = []
    in_guild = "member" in data or "guild_id" in data
    if in_guild and "guild_id" not in data:
        errors.append("$: a guild message's gateway form carries guild_id")
    if in_guild and "webhook_id" not in data and "member" not in data:
        errors.append("$: a guild message by a member carries the partial member")
    if "user" in (data.get("member") or {}):
        errors.append("$.member: the partial member carries no user")
    for index, mention in enumerate(data.get("mentions") or []):
        if "user" in (mention.get("member") or {}):
            errors.append(f"$.mentions[{index}].member: the partial member carries no user")
    return errors


def _member_errors(member: Any, where: str) -> list[str]:
    if not isinstance(member, dict):
        return [f"{where}: expected a member object"]
    return [f"{where}: missing {key!r} (sent as null when unset)" for key in MEMBER_KEYS if key not in member]
