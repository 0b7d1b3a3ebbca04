"""The message catalogues: `locales/<lang>/LC_MESSAGES/kyrios.po`, read once per process.

The .po files are the only source (no compiled .mo is committed): on first use each is read with
Babel, compiled in memory and wrapped in the standard library's `GNUTranslations`, which brings
plural forms (from the catalogue's `Plural-Forms` header) and `pgettext` contexts. A message
missing from a catalogue falls back to its English msgid. Fuzzy entries are not used.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kyrios.core.i18n.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES

DOMAIN = "kyrios"


def po_resource(locale: str) -> str:
    """The catalogue's path inside the package: `locales/<locale>/LC_MESSAGES/kyrios.po`."""
    return f"locales/{locale}/LC_MESSAGES/{DOMAIN}.po"


@cache
def catalog(locale: str) -> Catalog:
    """The parsed catalogue of a supported locale (static data, cached for the process)."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; supported: {', '.join(SUPPORTED_LOCALES)}")
    with files("kyrios").joinpath(po_resource(locale)).open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


@cache
def translations(locale: str) -> gettext.GNUTranslations:
    """The catalogue compiled for lookups: gettext, ngettext, pgettext."""
    compiled = BytesIO()
    write_mo(compiled, catalog(locale))
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def is_known(msgid: str) -> bool:
    """True when the message is in the English catalogue, i.e. it has been converted."""
    return catalog(DEFAULT_LOCALE).get(msgid) is not None
