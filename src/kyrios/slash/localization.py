"""Command names, descriptions and choices in every language Discord shows them in.

Declarations stay English (`commands.slash("points balance", "Show your points …")`); Discord's
`name_localizations` / `description_localizations` come from the catalogue: names through
`pgettext` contexts (`command name`, `option name`, `choice`), descriptions as plain messages.
The English catalogue supplies the default descriptions and choice labels (names are the ids
doors send back, so they never change).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog

from kyrios.core.i18n.catalogue import translations
from kyrios.core.i18n.extract import extract_source, new_catalog, update_catalogues
from kyrios.core.i18n.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES
from kyrios.slash.options import OptionType

NAME_CONTEXT = "command name"
OPTION_CONTEXT = "option name"
CHOICE_CONTEXT = "choice"
MAX_DESCRIPTION = 100
PACKAGE_DIR = Path(__file__).resolve().parents[1]
LOCALES_DIR = PACKAGE_DIR / "locales"
# Our languages other than English, as Discord's locale codes.
DISCORD_LOCALES = {locale: locale for locale in SUPPORTED_LOCALES if locale != DEFAULT_LOCALE}

Entry = tuple[str | None, str, tuple[str, ...]]
"""(context, message id, the command path it belongs to)."""


def command_messages(commands: list[dict[str, Any]]) -> Iterator[Entry]:
    """Every name, description and choice label of Discord's command JSON (before localizing)."""
    yield from _walk(commands, (), top=True)


def _walk(items: list[dict[str, Any]], path: tuple[str, ...], *, top: bool) -> Iterator[Entry]:
    for item in items:
        here = (*path, str(item["name"]))
        yield _name_context(item, top=top), str(item["name"]), here
        yield None, str(item["description"]), here
        for choice in item.get("choices") or []:
            yield CHOICE_CONTEXT, str(choice["name"]), here
        yield from _walk(item.get("options") or [], here, top=False)


def _name_context(item: dict[str, Any], *, top: bool) -> str:
    command = top or item.get("type") in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP)
    return NAME_CONTEXT if command else OPTION_CONTEXT


def localize(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the localizations to Discord's command JSON (in place) and return it."""
    _localize_items(commands, top=True)
    return commands


def _localize_items(items: list[dict[str, Any]], *, top: bool) -> None:
    english = translations(DEFAULT_LOCALE)
    for item in items:
        name, context = str(item["name"]), _name_context(item, top=top)
        description = english.gettext(str(item["description"]))[:MAX_DESCRIPTION]
        item["description"] = description
        names, descriptions = {}, {}
        for locale, discord_locale in DISCORD_LOCALES.items():
            catalogue = translations(locale)
            if (local_name := catalogue.pgettext(context, name)) != name:
                names[discord_locale] = local_name
            local_description = catalogue.gettext(description)[:MAX_DESCRIPTION]
            if local_description != description:
                descriptions[discord_locale] = local_description
        if names:
            item["name_localizations"] = names
        if descriptions:
            item["description_localizations"] = descriptions
        for choice in item.get("choices") or []:
            _localize_choice(choice)
        _localize_items(item.get("options") or [], top=False)


def _localize_choice(choice: dict[str, Any]) -> None:
    label = str(choice["name"])
    choice["name"] = translations(DEFAULT_LOCALE).pgettext(CHOICE_CONTEXT, label)[:MAX_DESCRIPTION]
    names = {}
    for locale, discord_locale in DISCORD_LOCALES.items():
        local = translations(locale).pgettext(CHOICE_CONTEXT, label)[:MAX_DESCRIPTION]
        if local != choice["name"]:
            names[discord_locale] = local
    if names:
        choice["name_localizations"] = names


def message_template(commands: list[dict[str, Any]]) -> tuple[Catalog, list[str]]:
    """The catalogue template: messages marked in the source plus the command set's; and problems."""
    template = new_catalog()
    problems = extract_source(PACKAGE_DIR, template)
    for context, msgid, path in command_messages(commands):
        template.add(msgid, locations=[("/" + "/".join(path), 0)], context=context)
    return template, problems


def write_catalogues(commands: list[dict[str, Any]]) -> list[str]:
    """Rebuild `locales/kyrios.pot` and update every `.po` (the `scripts/i18n-extract` job)."""
    template, problems = message_template(commands)
    update_catalogues(template, LOCALES_DIR)
    return problems
