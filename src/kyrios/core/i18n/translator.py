"""`Translator`: a reader's locale and door, turning message ids and parameters into text.

Message ids are the English source text with named `str.format` placeholders; the values are
formatted here, in one place (see `formatting`), never by the caller.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from typing import Any, TypeVar

from kyrios.core.i18n.catalogue import is_known, translations
from kyrios.core.i18n.formatting import DoorStyle, ValueFormat
from kyrios.core.i18n.locales import DEFAULT_LOCALE


@dataclass(frozen=True)
class Translator:
    """Text for one reader: `locale` ("en", "ja"), the door's `style`, `now` and the guild's `zone`."""

    locale: str = DEFAULT_LOCALE
    style: DoorStyle = DoorStyle.PLAIN
    now: datetime | None = None
    zone: tzinfo = UTC
    _values: ValueFormat = field(init=False, repr=False, compare=False)
    _templates: dict[str, _Template] = field(init=False, repr=False, compare=False)
    _plural_templates: dict[tuple[str, str, int], _Template] = field(init=False, repr=False, compare=False)

    def t(self, message: str | LazyText, /, **params: Any) -> str:
        """The message in this locale with its placeholders filled: `t("Hi {name}.", name=n)`."""
        if isinstance(message, LazyText):
            return message.render(self)
        template = self._templates.get(message)
        if template is None:
            text = translations(self.locale).gettext(message)
            return self.fill(_remember(self._templates, message, text, msgid=message), params)
        return self._fill_template(template, params)

    def tn(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The plural form for `n` (Japanese has one); `{n}` is filled with `n` unless given."""
        catalogue = translations(self.locale)
        # GNUTranslations compiles the catalogue's Plural-Forms into `plural` (untyped in typeshed).
        key = (singular, plural, catalogue.plural(n))  # type: ignore[attr-defined]
        if "n" not in params:
            params["n"] = n
        template = self._plural_templates.get(key)
        if template is None:
            text = catalogue.ngettext(singular, plural, n)
            return self.fill(_remember(self._plural_templates, key, text, msgid=singular), params)
        return self._fill_template(template, params)

    def pt(self, context: str, message: str, /) -> str:
        """A short word in a context (`pt("command name", "balance")`); no placeholders."""
        return translations(self.locale).pgettext(context, message)

    def number(self, value: int | float) -> str:
        """A number as this locale writes it (`1,234,567`)."""
        return self._values.value(value)

    def time(self, when: datetime, style: str = "f") -> str:
        """A moment in a Discord timestamp style (t T d D f F R), as this door shows it."""
        return self._values.time(when, style)

    def fill(self, text: str, params: Mapping[str, Any]) -> str:
        """Fill `text`'s placeholders; a placeholder without a value raises `KeyError`."""
        if "{" not in text and "}" not in text:
            return text  # no placeholder or escaped brace (a title, a label): nothing to fill
        parts = _plain_fields(text)
        if parts is None:  # positional, nested or converted fields: the full (stricter) formatter
            return _Filler(self._values).vformat(text, (), params)
        return self._fill_template(parts, params)

    def _fill_template(self, template: _Template, params: Mapping[str, Any]) -> str:
        """A remembered message: its text when it has no placeholder, else its parts filled."""
        if isinstance(template, str):
            return template
        values = self._values
        out: list[str] = []
        for literal, name, spec in template:
            out.append(literal)
            if name is not None:
                if name not in params:
                    raise KeyError(f"no value for the placeholder {{{name}}}")
                out.append(values.value(params[name], spec))
        return "".join(out)

    def __post_init__(self) -> None:
        # Built once per translator (one per command): every placeholder is formatted through it.
        object.__setattr__(self, "_values", ValueFormat(self.locale, self.style, self.now, self.zone))
        object.__setattr__(self, "_templates", _TEMPLATES.setdefault(self.locale, {}))
        object.__setattr__(self, "_plural_templates", _PLURAL_TEMPLATES.setdefault(self.locale, {}))


_Key = TypeVar("_Key", str, tuple[str, str, int])
_Template = str | tuple[tuple[str, str | None, str], ...]
"""A translated message ready to fill: its text when it has no placeholder, else its parts."""

# Per locale, the translated and parsed form of every catalogue message used so far. Filling a
# reply's dozen messages is the hot path of every command: a dict lookup here replaces the
# catalogue lookup, the brace scan and the parse cache's key hashing of each call.
_TEMPLATES: dict[str, dict[str, _Template]] = {}
_PLURAL_TEMPLATES: dict[str, dict[tuple[str, str, int], _Template]] = {}


def _remember(templates: dict[_Key, _Template], key: _Key, text: str, *, msgid: str) -> str:
    """Keep `text`'s template under `key` when `msgid` is in the catalogue; return `text`.

    Only catalogue messages are kept (they are few and fixed); text a caller passes that is not
    one (an unconverted message, user input) is filled each time and never grows the table.
    Texts the fast loop cannot fill (positional or converted fields) are not kept either.
    """
    if is_known(msgid):
        if "{" not in text and "}" not in text:
            templates[key] = text
        else:
            parts = _plain_fields(text)
            if parts is not None:
                templates[key] = parts
    return text


ENGLISH = Translator()
"""English, plain text, UTC: for logs and for code that reads `DomainError.message`."""


@cache
def plain_text(locale: str) -> Translator:
    """The shared plain-text, UTC translator of `locale` (translators never change: one each)."""
    return Translator(locale)


@lru_cache(maxsize=4096)
def _plain_fields(text: str) -> tuple[tuple[str, str | None, str], ...] | None:
    """`text` split into (literal, placeholder name, format spec), parsed once per message.

    `string.Formatter.vformat` re-parses the message in Python on every call; messages are few
    and reused, so the parse is cached. Only named placeholders with a plain spec take this
    path; anything else returns None and goes through `_Filler`, which explains what is wrong.
    """
    parts: list[tuple[str, str | None, str]] = []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None and (not name.isidentifier() or conversion is not None or "{" in (spec or "")):
            return None
        parts.append((literal, name, spec or ""))
    return tuple(parts)


class _Filler(string.Formatter):
    """`str.format` with named placeholders only, strict, values formatted per locale and door."""

    def __init__(self, values: ValueFormat) -> None:
        self.values = values

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int):
            raise ValueError("messages use named placeholders ({name}), not positional ones ({})")
        if key not in kwargs:
            raise KeyError(f"no value for the placeholder {{{key}}}")
        return kwargs[key]

    def format_field(self, value: Any, format_spec: str) -> str:
        return self.values.value(value, format_spec)


@dataclass(frozen=True)
class LazyText:
    """A message id and its values, rendered later in the reader's locale.

    Messages in the catalogue are format strings. One that is not yet (English text of a slice
    not converted, possibly holding user input with braces) is shown in English as written, or
    with its values filled in English when it has some.
    """

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translator: Translator) -> str:
        """The text in the translator's locale."""
        if is_known(self.msgid):
            return translator.t(self.msgid, **self.params)
        if not self.params:
            return self.msgid
        return replace(translator, locale=DEFAULT_LOCALE).fill(self.msgid, self.params)

    def __str__(self) -> str:
        return self.render(ENGLISH)


def lazy(message: str, /, **params: Any) -> LazyText:
    """Mark a message to render later, in the reader's locale: `lazy("Pulled {n}.", n=3)`."""
    return LazyText(message, params)
