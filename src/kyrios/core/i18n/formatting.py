"""Placeholder values in a locale: numbers with Babel, times the way the door shows them.

Times borrow Discord's timestamp styles as format specs: `{at:R}` relative, `{at:t}` `{at:T}`
short/long time, `{at:d}` `{at:D}` short/long date, `{at:f}` `{at:F}` date and time (`f` when
no spec is given). A Discord door writes `<t:UNIX:R>` and Discord shows it in the reader's own
language and clock; a plain door (console, web, logs) writes the text with Babel, in the locale
and the guild's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal

from kyrios.core.i18n.catalogue import translations
from kyrios.core.i18n.locales import N_

TIME_STYLES = frozenset("tTdDfFR")
CENTS = "cents"
_ALIGN_ONLY = re.compile(r"^(?:.?[<>^])?\d*$")
_DATE_WIDTH = {"d": "medium", "D": "long", "f": "long", "F": "full"}
_TIME_WIDTH = {"t": "short", "T": "medium", "f": "short", "F": "short"}
JUST_NOW = N_("just now")
_JOIN = {"en": "{date}, {time}", "ja": "{date} {time}"}  # CLDR's dateTimeFormat for these locales


@dataclass(frozen=True, slots=True)
class NumberSymbols:
    """How a locale writes whole numbers when it groups digits by threes (most locales do)."""

    group: str
    decimal: str
    minus: str


@cache
def integer_symbols(locale: str) -> NumberSymbols | None:
    """The locale's symbols when Python's own `{:,}` grouping matches its CLDR decimal pattern.

    Babel's `format_decimal` parses and applies the pattern on every call (about 50 µs); a reply
    formats a handful of numbers, and `/gacha pull` is the hot path. For locales whose pattern
    groups by threes (en and ja do) the same text comes from Python's grouping with the locale's
    symbols swapped in; any other locale keeps Babel (`None`).
    """
    parsed = Locale.parse(locale)
    if parsed.decimal_formats[None].grouping != (3, 3):
        return None
    latin = parsed.number_symbols["latn"]
    return NumberSymbols(latin["group"], latin["decimal"], latin["minusSign"])


def _grouped(number: int, symbols: NumberSymbols) -> str:
    text = f"{abs(number):,}".replace(",", symbols.group)
    return f"{symbols.minus}{text}" if number < 0 else text


class DoorStyle(StrEnum):
    """How a door shows what only its client can localise (times)."""

    DISCORD = "discord"
    """Discord markup (`<t:…:R>`); Discord renders it in the reader's language and time zone."""
    PLAIN = "plain"
    """Readable text written here, in the locale and the guild's time zone."""


@dataclass(frozen=True)
class ValueFormat:
    """Everything a value's rendering depends on."""

    locale: str
    style: DoorStyle
    now: datetime | None
    zone: tzinfo

    def value(self, value: object, spec: str = "") -> str:
        """One placeholder's text: ints and decimals per locale, times per door, the rest as is."""
        if type(value) is str and not spec:
            return value  # most placeholders are names and mentions
        if isinstance(value, datetime):
            return self.time(value, spec or "f")
        if isinstance(value, timedelta) and not spec:
            return format_timedelta(value, locale=self.locale)
        if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
            if spec == CENTS:
                return self.cents(int(value))
            if not spec or _ALIGN_ONLY.match(spec):
                symbols = integer_symbols(self.locale)
                if type(value) is int and symbols is not None:
                    return format(_grouped(value, symbols), spec)
                return format(format_decimal(value, locale=self.locale), spec)
        return format(value, spec)

    def cents(self, cents: int) -> str:
        """An amount of integer cents as a decimal with two places (`12,345.60`)."""
        symbols = integer_symbols(self.locale)
        if symbols is not None:
            whole, part = divmod(abs(cents), 100)
            sign = symbols.minus if cents < 0 else ""
            return f"{sign}{_grouped(whole, symbols)}{symbols.decimal}{part:02d}"
        return format_decimal(Decimal(cents).scaleb(-2), format="#,##0.00", locale=self.locale)

    def relative(self, delta: timedelta) -> str:
        """`in 3 hours`, `3 hours ago`; under a second is `just now`."""
        if abs(delta) < timedelta(seconds=1):
            return translations(self.locale).gettext(JUST_NOW)
        return format_timedelta(delta, add_direction=True, locale=self.locale)

    def time(self, when: datetime, style: str = "f") -> str:
        """A moment in one of Discord's timestamp styles (t T d D f F R)."""
        if style not in TIME_STYLES:
            raise ValueError(f"unknown time style {style!r}; use one of {''.join(sorted(TIME_STYLES))}")
        if when.tzinfo is None:
            raise ValueError("times must be timezone-aware (UTC)")
        if self.style is DoorStyle.DISCORD:
            return f"<t:{int(when.timestamp())}:{style}>"
        if style == "R":
            if self.now is not None:
                return self.relative(when - self.now)
            style = "f"  # no clock to be relative to (logs): say when
        local = when.astimezone(self.zone)
        date = format_date(local, _DATE_WIDTH[style], locale=self.locale) if style in _DATE_WIDTH else ""
        time = format_time(local, _TIME_WIDTH[style], locale=self.locale) if style in _TIME_WIDTH else ""
        if date and time:
            return _JOIN.get(self.locale, "{date} {time}").format(date=date, time=time)
        return date or time
