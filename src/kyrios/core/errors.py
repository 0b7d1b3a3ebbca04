"""Domain errors: each carries a message id and its values, rendered in the reader's language.

`raise InsufficientFunds("You need {cost} points but have {points}.", cost=cost, points=points)`:
the message is the English text in the catalogue, the keywords fill its placeholders, and the
door renders it with `exc.render(translator)`. `exc.message` is the English text (logs, and code
that reads it). Old-style messages (`raise InvalidInput(f"…")`) keep working, shown as written.
"""

from __future__ import annotations

from typing import Any

from kyrios.core.i18n import ENGLISH, LazyText, Translator


class DomainError(Exception):
    """A request that cannot be carried out; its message is shown to the user, nothing is changed."""

    kind = "error"

    def __init__(self, message: str, /, **params: Any) -> None:
        super().__init__(message)
        self.text = LazyText(message, params)

    @property
    def message(self) -> str:
        """The message in English, filled in (for logs and non-localised callers)."""
        return self.text.render(ENGLISH)

    def render(self, translator: Translator) -> str:
        """The message in the translator's language, its times as the door shows them."""
        return self.text.render(translator)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle only their args; keep the values too (multiprocessing, queues).
        return (_rebuild, (type(self), self.text.msgid, dict(self.text.params)))


def _rebuild(kind: type[DomainError], message: str, params: dict[str, Any]) -> DomainError:
    return kind(message, **params)


class NotFound(DomainError):
    """The thing asked for does not exist."""

    kind = "not_found"


class Forbidden(DomainError):
    """The user may not do this."""

    kind = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (already done, duplicate, taken)."""

    kind = "conflict"


class InvalidInput(DomainError):
    """An option or field has a value that cannot be accepted."""

    kind = "invalid"


class InsufficientFunds(DomainError):
    """Not enough points or cash."""

    kind = "insufficient_funds"


class OnCooldown(DomainError):
    """The action is on cooldown."""

    kind = "cooldown"


class FeatureDisabled(DomainError):
    """The guild has switched this feature off."""

    kind = "feature_disabled"


class Unavailable(DomainError):
    """The part that would do this is not reachable from here right now (nothing was changed)."""

    kind = "unavailable"
