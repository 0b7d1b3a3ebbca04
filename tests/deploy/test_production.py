"""Production mode refuses to start without what it needs (a server database, a JWT secret), naming
every problem, at `kyrios up` and at the Lambda's cold start; local mode starts as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

import kyrios
from kyrios.settings import ProductionRefused, Settings
from kyrios.web.main import app_from_environment

SECRET = SecretStr("s" * 40)
SERVER = "postgresql://kyrios@db.invalid/kyrios"


def clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("KYRIOS_")}


def test_kyrios_up_in_production_with_sqlite_and_no_secret_exits_naming_both(tmp_path: Path) -> None:
    source = str(Path(kyrios.__file__).resolve().parents[1])  # this checkout's, whatever the cwd
    env = {**clean_environment(), "KYRIOS_MODE": "production", "PYTHONPATH": source}
    command = [sys.executable, "-m", "kyrios.cli", "up", "--port", "1"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "KYRIOS_MODE=production refuses to start" in done.stderr
    assert "KYRIOS_DATABASE_URL is SQLite" in done.stderr
    assert "KYRIOS_JWT_SECRET is unset" in done.stderr
    assert not (tmp_path / "kyrios.db").exists()  # nothing was started, not even the migration


def test_the_lambda_cold_start_refuses_a_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in clean_environment().keys() ^ os.environ.keys():
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYRIOS_MODE", "production")
    monkeypatch.setenv("KYRIOS_JWT_SECRET", SECRET.get_secret_value())
    with pytest.raises(ProductionRefused) as refused:
        app_from_environment(inline_replies=False)
    assert len(refused.value.problems) == 1
    assert "server database" in refused.value.problems[0]


@pytest.mark.parametrize(
    ("database_url", "secret", "expected"),
    [
        (SERVER, SECRET, 0),
        ("mysql://kyrios@db.invalid/kyrios", SECRET, 0),
        ("sqlite+aiosqlite:///kyrios.db", SECRET, 1),
        (SERVER, None, 1),
    ],
)
def test_production_needs_a_server_database_and_a_secret(
    database_url: str, secret: SecretStr | None, expected: int
) -> None:
    settings = Settings(_env_file=None, mode="production", database_url=database_url, jwt_secret=secret)
    assert len(settings.production_problems()) == expected


def test_local_mode_needs_neither() -> None:
    settings = Settings(_env_file=None, mode="local", database_url="sqlite:///kyrios.db", jwt_secret=None)
    assert settings.production_problems() == []
