"""Which languages Kyrios speaks, and picking one from Discord's locale codes."""

from __future__ import annotations

SUPPORTED_LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"


def supported_locale(code: str | None) -> str | None:
    """The supported language of a locale code (`ja`, `en-US`, `en_GB` …), else None."""
    if not code:
        return None
    language = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def negotiate(*candidates: str | None) -> str:
    """The first supported language among the candidates, in order; English when none is."""
    for candidate in candidates:
        language = supported_locale(candidate)
        if language is not None:
            return language
    return DEFAULT_LOCALE


def N_(message: str, /) -> str:  # gettext's standard name for "mark only"
    """Mark a message for the catalogue without translating it now (tables built at import)."""
    return message
