"""Discord's rules for application command JSON, checked when the bot PUTs its commands.

From Discord's documentation (interactions/application-commands: naming, the command and option
structures, option types, limits, localization) and its OpenAPI request schemas. Where the two disagree,
the documentation wins (a string choice value is at most 100 characters, not the spec's 6000). The
emulator refuses what Discord refuses and nothing more.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import regex

# CHAT_INPUT command and option names; Discord's regex, with the unicode flag.
CHAT_INPUT_NAME = regex.compile(r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
CHAT_INPUT, USER, MESSAGE, PRIMARY_ENTRY_POINT = 1, 2, 3, 4
MAX_COMMANDS = {CHAT_INPUT: 100, USER: 15, MESSAGE: 15, PRIMARY_ENTRY_POINT: 1}
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_TOTAL_CHARS = 8000  # names, descriptions, choice names and values; the longest localization counts
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
CHANNEL, NUMBER, ATTACHMENT = 7, 10, 11
OPTION_TYPES = frozenset(range(1, 12))
NESTING = frozenset({SUB_COMMAND, SUB_COMMAND_GROUP})
WITH_CHOICES = frozenset({STRING, INTEGER, NUMBER})
MAX_INTEGER = 2**53 - 1  # INTEGER options: any integer between -(2^53 - 1) and 2^53 - 1
MAX_NUMBER = 2**53  # NUMBER options: any double between -2^53 and 2^53
MAX_STRING_CHOICE = 100
MAX_STRING_LENGTH = 6000
LOCALES = frozenset(
    {
        "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr", "he", "hi",
        "hr", "hu", "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro", "ru", "sv-SE", "th",
        "tr", "uk", "vi", "zh-CN", "zh-TW",
    }
)  # fmt: skip


def command_errors(commands: list[dict[str, Any]]) -> list[str]:
    """Every rule the bulk-overwrite body breaks (empty when Discord would accept it)."""
    errors: list[str] = []
    kinds = Counter(command.get("type") or CHAT_INPUT for command in commands)
    for kind, count in sorted(kinds.items(), key=lambda item: str(item[0])):
        if kind not in MAX_COMMANDS:
            errors.append(f"unknown command type {kind!r}")
        elif count > MAX_COMMANDS[kind]:
            errors.append(f"{count} commands of type {kind} (at most {MAX_COMMANDS[kind]})")
    names = Counter((command.get("type") or CHAT_INPUT, command.get("name")) for command in commands)
    errors += [
        f"duplicate command {name}" for (_, name), count in sorted(names.items(), key=str) if count > 1
    ]
    for command in commands:
        errors += _command(command)
    return errors


def _command(command: dict[str, Any]) -> list[str]:
    kind = command.get("type") or CHAT_INPUT
    where = f"/{command.get('name')}"
    if kind != CHAT_INPUT:
        errors = _context_menu_name(command.get("name"), where, "name")
        for locale, value in _localizations(command, "name_localizations", where, errors):
            errors += _context_menu_name(value, where, f"name_localizations[{locale}]")
        if command.get("description"):
            errors.append(f"{where}: a user or message command takes no description")
        if command.get("options"):
            errors.append(f"{where}: only slash commands take options")
        return errors
    errors = _named(command, where)
    errors += _options(command.get("options") or [], where, depth=0)
    if _chars(command) > MAX_TOTAL_CHARS:
        errors.append(f"{where}: more than {MAX_TOTAL_CHARS} characters in names, descriptions and choices")
    return errors


def _context_menu_name(name: Any, where: str, field: str) -> list[str]:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return [f"{where}: {field} {name!r} must be 1-32 characters"]
    return []


def _chat_input_name(name: Any, where: str, field: str) -> list[str]:
    if not isinstance(name, str) or not CHAT_INPUT_NAME.match(name) or name != name.lower():
        return [f"{where}: {field} {name!r} must be 1-32 lowercase letters, digits, - _ or '"]
    return []


def _text(value: Any, where: str, field: str, limit: int) -> list[str]:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        return [f"{where}: {field} must be 1-{limit} characters"]
    return []


def _localizations(item: dict[str, Any], key: str, where: str, errors: list[str]) -> list[tuple[str, Any]]:
    """The (locale, value) pairs of a localization dict; bad keys and shapes are added to `errors`."""
    table = item.get(key)
    if table is None:
        return []
    if not isinstance(table, dict):
        errors.append(f"{where}: {key} must be an object keyed by locale")
        return []
    errors += [f"{where}: {key} has an unknown locale {loc!r}" for loc in table if loc not in LOCALES]
    return [(locale, value) for locale, value in table.items() if locale in LOCALES]


def _named(item: dict[str, Any], where: str) -> list[str]:
    """Name and description of a slash command or option, with their localizations."""
    errors = _chat_input_name(item.get("name"), where, "name")
    for locale, value in _localizations(item, "name_localizations", where, errors):
        errors += _chat_input_name(value, where, f"name_localizations[{locale}]")
    errors += _text(item.get("description"), where, "description", 100)
    for locale, value in _localizations(item, "description_localizations", where, errors):
        errors += _text(value, where, f"description_localizations[{locale}]", 100)
    return errors


def _options(options: list[dict[str, Any]], where: str, *, depth: int) -> list[str]:
    """An options array: at most 25, unique names (localized ones too), no mixing of subcommands with
    plain options, groups only at the top holding only subcommands, required options first."""
    errors: list[str] = []
    if len(options) > MAX_OPTIONS:
        errors.append(f"{where}: {len(options)} options (at most {MAX_OPTIONS})")
    errors += _sibling_names(options, where)
    kinds = {o.get("type") for o in options}
    if kinds & NESTING and kinds - NESTING:
        errors.append(f"{where}: subcommands cannot be mixed with plain options")
    seen_optional = False
    for option in options:
        here = f"{where} {option.get('name')}"
        errors += _named(option, here)
        kind = option.get("type")
        if kind not in OPTION_TYPES:
            errors.append(f"{here}: unknown option type {kind!r}")
            continue
        if kind in NESTING:
            errors += _nested(option, here, depth)
            continue
        if option.get("required"):
            if seen_optional:
                errors.append(f"{here}: required options must come before optional ones")
        else:
            seen_optional = True
        errors += _limits(option, here)
    return errors


def _nested(option: dict[str, Any], here: str, depth: int) -> list[str]:
    kind, children = option.get("type"), option.get("options") or []
    if (kind == SUB_COMMAND_GROUP and depth > 0) or (kind == SUB_COMMAND and depth > 1):
        return [f"{here}: nested too deeply"]
    if kind == SUB_COMMAND_GROUP and any(child.get("type") != SUB_COMMAND for child in children):
        return [f"{here}: a group may only hold subcommands"]
    if kind == SUB_COMMAND and any(child.get("type") in NESTING for child in children):
        return [f"{here}: a subcommand cannot hold subcommands or groups"]
    return _options(children, here, depth=depth + 1)


def _sibling_names(options: list[dict[str, Any]], where: str) -> list[str]:
    """Option names are unique within their array; a localized name must also differ from the other
    options' default names and from their names in the same locale."""
    names = Counter(o.get("name") for o in options)
    errors = [f"{where}: duplicate option {n}" for n, count in sorted(names.items(), key=str) if count > 1]
    per_locale: Counter[tuple[str, Any]] = Counter()
    for option in options:
        table = option.get("name_localizations")
        for locale, value in (table or {}).items() if isinstance(table, dict) else ():
            if value != option.get("name") and value in names:
                errors.append(f"{where}: {option.get('name')}'s {locale} name {value!r} is another option's")
            per_locale[(locale, value)] += 1
    errors += [
        f"{where}: two options are named {value!r} in {locale}"
        for (locale, value), count in sorted(per_locale.items(), key=str)
        if count > 1
    ]
    return errors


def _limits(option: dict[str, Any], here: str) -> list[str]:
    """Choices, numeric bounds and string lengths of a plain option."""
    kind = option.get("type")
    errors = _choices(option, here)
    if option.get("autocomplete") and (kind not in WITH_CHOICES or option.get("choices")):
        errors.append(f"{here}: autocomplete needs a string or number option without choices")
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None or high is not None) and kind not in (INTEGER, NUMBER):
        errors.append(f"{here}: min_value/max_value only apply to numbers")
    for key, bound in (("min_value", low), ("max_value", high)):
        if bound is not None and kind in (INTEGER, NUMBER):
            errors += _number(bound, kind, f"{here}: {key}")
    if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
        errors.append(f"{here}: min_value {low} > max_value {high}")
    for key, least in (("min_length", 0), ("max_length", 1)):
        length = option.get(key)
        if length is None:
            continue
        if kind != STRING or not isinstance(length, int) or not least <= length <= MAX_STRING_LENGTH:
            errors.append(f"{here}: {key} must be {least}-{MAX_STRING_LENGTH} on a string option")
    return errors


def _choices(option: dict[str, Any], here: str) -> list[str]:
    kind, choices = option.get("type"), option.get("choices") or []
    if not choices:
        return []
    if kind not in WITH_CHOICES:
        return [f"{here}: only string, integer and number options take choices"]
    errors = [f"{here}: {len(choices)} choices (at most {MAX_CHOICES})"] if len(choices) > MAX_CHOICES else []
    for choice in choices:
        there = f"{here} choice {choice.get('name')!r}"
        errors += _text(choice.get("name"), there, "name", 100)
        for locale, value in _localizations(choice, "name_localizations", there, errors):
            errors += _text(value, there, f"name_localizations[{locale}]", 100)
        value = choice.get("value")
        if kind == STRING:
            if not isinstance(value, str) or len(value) > MAX_STRING_CHOICE:
                errors.append(f"{there}: value must be a string of at most {MAX_STRING_CHOICE} characters")
        else:
            errors += _number(value, kind, f"{there}: value")
    return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any, kind: Any, what: str) -> list[str]:
    """An INTEGER option's value must be an integer within ±(2^53 - 1), a NUMBER's a number within ±2^53."""
    if kind == INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{what} must be an integer"]
        if not -MAX_INTEGER <= value <= MAX_INTEGER:
            return [f"{what} {value} is beyond Discord's integer range ±{MAX_INTEGER}"]
        return []
    if not _is_number(value):
        return [f"{what} must be a number"]
    if not -MAX_NUMBER <= value <= MAX_NUMBER:
        return [f"{what} {value} is beyond Discord's number range ±{MAX_NUMBER}"]
    return []


def _longest(item: dict[str, Any], key: str) -> int:
    """A field's length for the size limit: the longest of its default and its localizations."""
    table = item.get(f"{key}_localizations")
    values = [item.get(key, ""), *(table.values() if isinstance(table, dict) else ())]
    return max(len(str(value)) for value in values)


def _chars(item: dict[str, Any]) -> int:
    total = _longest(item, "name") + _longest(item, "description")
    total += sum(_longest(c, "name") + len(str(c.get("value", ""))) for c in item.get("choices") or [])
    return total + sum(_chars(o) for o in item.get("options") or [])
