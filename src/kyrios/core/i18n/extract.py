"""Building and checking the catalogues: extraction from the source, Babel's update, the checks.

Marked in the source (Babel keywords): `t`, `tn` (plural), `pt` (context), `N_` and `lazy`
(mark now, render later), the `DomainError` kinds (their first argument), `slash` (the command
description) and `Opt` (the option description). `kyrios.slash.localization` adds the command
set's names, descriptions and choices, and writes the files (`scripts/i18n-extract`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import string
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from kyrios.core.errors import DomainError
from kyrios.core.i18n.catalogue import DOMAIN
from kyrios.core.i18n.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES

KEYWORDS: dict[str, Any] = {
    "t": None,
    "tn": (1, 2),
    "pt": ((1, "c"), 2),
    "N_": None,
    "lazy": None,
    "slash": (2,),
    "Opt": (1,),
}
COMMENT_TAGS = ("Translators:",)

# Parts whose messages are still plain English (f-strings, literals): not extracted until their
# slice is converted. Converting a slice = marking its strings, then deleting its line here.
# Every part is converted; text that stays English (log lines, the operator's start-up notices,
# the `kyrios exchange` CLI's tables) is simply not marked.
NOT_YET_CONVERTED: tuple[str, ...] = ()

_HEADER = """\
# Kyrios messages: the English text is the message id.
# Edit translations in locales/<lang>/LC_MESSAGES/kyrios.po; `scripts/i18n-extract` rebuilds this
# template and adds new messages to every catalogue, keeping what is translated.
#"""
_STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so regenerating changes no header line
_FSTRING_SKIPPED = re.compile(r"^(?P<file>.+?):(?P<line>\d+): warning: Skipping f-string", re.MULTILINE)


def new_catalog(locale: str | None = None) -> Catalog:
    """An empty catalogue with Kyrios's header (a template when `locale` is None)."""
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        header_comment=_HEADER,
        project="Kyrios",
        version="1",
        msgid_bugs_address="",
        creation_date=_STABLE_DATE,
        revision_date=_STABLE_DATE,
        last_translator="Kyrios",
        language_team=f"Kyrios {locale}" if locale else "Kyrios",
        fuzzy=False,
    )


def keywords() -> dict[str, Any]:
    """The call names whose string arguments are messages, every loaded `DomainError` kind included."""
    kinds: dict[str, Any] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        kind = pending.pop()
        kinds[kind.__name__] = None
        pending.extend(kind.__subclasses__())
    return {**KEYWORDS, **kinds}


def source_files(package_dir: Path) -> Iterator[tuple[Path, str]]:
    """The package's Python files that are converted: (path, path relative to the package)."""
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).as_posix()
        if not relative.startswith(NOT_YET_CONVERTED) and not relative.startswith("testing/"):
            yield path, relative


def extract_source(package_dir: Path, template: Catalog) -> list[str]:
    """Add the messages marked in the source to `template`; returns problems (untranslatable f-strings)."""
    problems: list[str] = []
    marks = keywords()
    for path, relative in source_files(package_dir):
        skipped = io.StringIO()
        with contextlib.redirect_stderr(skipped):  # Babel reports f-strings it cannot use there
            found = list(extract_from_file("python", path, keywords=marks, comment_tags=COMMENT_TAGS))
        for lineno, message, comments, context in found:
            template.add(message, locations=[(relative, lineno)], auto_comments=comments, context=context)
        for match in _FSTRING_SKIPPED.finditer(skipped.getvalue()):
            problems.append(
                f"{relative}:{match['line']}: an f-string is marked as a message; use placeholders"
            )
    return problems


def placeholders(text: str) -> set[tuple[str, str]]:
    """The `{name:spec}` fields of a message (names and format specs)."""
    try:
        return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        return {("<unreadable>", str(exc))}


def _texts(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A message id or translation as its forms (one, or the plural forms)."""
    return tuple(value) if isinstance(value, tuple | list) else (value or "",)


def catalogue_problems(template: Catalog, catalogue: Catalog) -> list[str]:
    """What keeps `catalogue` from being complete for `template`: missing, empty, fuzzy, placeholders."""
    problems = []
    for wanted in template:
        if not wanted.id:
            continue
        label = f"{catalogue.locale}: {wanted.id!r}" + (
            f" (context {wanted.context!r})" if wanted.context else ""
        )
        have = catalogue.get(wanted.id, wanted.context)
        if have is None:
            problems.append(f"{label} is missing")
            continue
        forms = _texts(have.string)
        if have.fuzzy or not all(forms):
            problems.append(f"{label} is {'fuzzy' if have.fuzzy else 'not translated'}")
            continue
        ids = _texts(wanted.id)
        expected = placeholders(ids[-1])
        allowed = set().union(*(placeholders(i) for i in ids))
        for index, form in enumerate(forms):
            found = placeholders(form)
            is_other_form = index == len(forms) - 1
            if (is_other_form and found != expected) or not found <= allowed:
                problems.append(f"{label}: placeholders {sorted(found)} differ from {sorted(expected)}")
    return problems


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """A .po/.pot file as a Babel catalogue (an empty one when the file does not exist)."""
    if not path.exists():
        return new_catalog(locale)
    with path.open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


def write_catalog(path: Path, catalog: Catalog) -> None:
    """Write a catalogue sorted by message, without line numbers (small diffs, easy merges)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def update_catalogues(
    template: Catalog, locales_dir: Path, locales: Iterable[str] = SUPPORTED_LOCALES
) -> None:
    """Write the template and merge it into each catalogue (translations kept, dropped messages removed).

    English gets every new message's text copied as its translation; other languages get it empty.
    """
    write_catalog(locales_dir / f"{DOMAIN}.pot", template)
    for locale in locales:
        path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = read_catalog(path, locale)
        # Babel adds the template's new Message objects themselves: give each catalogue its own
        # copies, or English's copied text would land in every other language as a translation.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        if locale == DEFAULT_LOCALE:
            for message in catalog:
                if message.id and not all(_texts(message.string)):
                    message.string = message.id
        write_catalog(path, catalog)
