"""The language of a web request: its `Accept-Language`, among the languages Kyrios speaks."""

from __future__ import annotations

from functools import lru_cache

from starlette.requests import HTTPConnection

from kyrios.core.i18n import negotiate


@lru_cache(maxsize=256)
def accepted_locale(header: str | None) -> str:
    """The supported language the header prefers most (`ja-JP,en;q=0.8` -> "ja"), else English."""
    if not header:
        return negotiate()
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        code, _, parameters = part.strip().partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if code and code != "*" and weight > 0:
            ranked.append((-weight, index, code))
    return negotiate(*(code for _, _, code in sorted(ranked)))


def request_locale(connection: HTTPConnection) -> str:
    """The request's language ("en", "ja")."""
    return accepted_locale(connection.headers.get("accept-language"))
