"""Domain errors: each carries a message written for the person who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out; `message` is shown to the user, nothing is changed."""

    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
