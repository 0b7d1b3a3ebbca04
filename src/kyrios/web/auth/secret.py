"""The HS256 key of the access tokens: the configured one, or (local mode only) one kept in a file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kyrios.settings import Settings


class MissingJwtSecret(RuntimeError):
    """Production mode without `KYRIOS_JWT_SECRET`: the app must not start."""


def check_secret_configured(settings: Settings) -> None:
    """Refuse production mode without a configured secret (called when the app is built)."""
    if settings.mode == "production" and settings.jwt_secret is None:
        raise MissingJwtSecret(
            "KYRIOS_MODE=production needs KYRIOS_JWT_SECRET (at least 32 bytes, e.g. `openssl rand -hex 32`)"
        )


def resolve_secret(settings: Settings) -> bytes:
    """The configured secret; in local mode without one, `jwt_secret_file`'s (made on first use)."""
    check_secret_configured(settings)
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value().encode()
    return _local_secret(settings.jwt_secret_file)


def _local_secret(path: Path) -> bytes:
    """Read the file's secret, or write a new random one readable by this user only."""
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= 64:
        return existing.encode()
    value = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(value + "\n")
    return value.encode()
