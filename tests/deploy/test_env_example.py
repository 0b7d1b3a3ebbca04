""".env.example lists every setting (so it cannot drift from `Settings`), each default it shows is
the real one, and nothing it lists is unknown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kyrios.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
# Read by `kyrios up` / `kyrios bots` options (typer envvar=), not by Settings.
COMMAND_OPTIONS = {"KYRIOS_ADMIN_KEY", "KYRIOS_EXCHANGE_LEASE_SECONDS", "KYRIOS_EXCHANGE_RENEW_SECONDS"}
# Defaults that depend on the working directory, or placeholders of unset values.
NOT_LITERAL = {"KYRIOS_DATABASE_URL", "KYRIOS_JWT_SECRET_FILE", "KYRIOS_BACKUP_DIR", "KYRIOS_PUBLIC_URL"}


def listed() -> dict[str, str]:
    """Each `KYRIOS_NAME=value` line of the file (commented or not): name -> value."""
    lines = re.findall(r"^#? ?(KYRIOS_[A-Z0-9_]+)=(.*)$", EXAMPLE.read_text(), flags=re.MULTILINE)
    return dict(lines)


def test_every_setting_is_listed_and_nothing_else() -> None:
    settings = {f"KYRIOS_{name.upper()}" for name in Settings.model_fields}
    assert set(listed()) == settings | COMMAND_OPTIONS


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_the_shown_default_is_the_real_one(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    variable = f"KYRIOS_{name.upper()}"
    value = listed()[variable]
    default = Settings.model_fields[name].get_default(call_default_factory=True)
    if variable in NOT_LITERAL:
        return
    if value == "":  # shown as unset: it must be unset by default
        assert default in (None, "")
        return
    for other in list(os.environ):
        if other.startswith("KYRIOS_"):
            monkeypatch.delenv(other)
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(_env_file=None), name) == Settings.model_fields[name].get_default(
        call_default_factory=True
    )
