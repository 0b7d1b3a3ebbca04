"""`kyrios console` as a user types it, in a real subprocess against the test database."""

from __future__ import annotations

import os
import subprocess
import sys

from kyrios.features.gacha.models import GachaPull
from kyrios.runtime import Runtime
from tests.helpers import count_rows


def kyrios(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KYRIOS_DATABASE_URL": database_url, "COLUMNS": "100", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "kyrios.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_one_command_prints_the_reply_and_writes_the_database(
    runtime: Runtime, database_url: str
) -> None:
    result = kyrios(database_url, "console", "--guild", "1", "--user", "42", "/gacha pull")
    assert result.returncode == 0, result.stderr
    assert "pulled" in result.stdout and "free" in result.stdout
    assert await count_rows(runtime, GachaPull, guild_id=1, user_id=42) == 1


async def test_errors_exit_non_zero_with_the_message(runtime: Runtime, database_url: str) -> None:
    result = kyrios(database_url, "console", "--guild", "1", "--user", "42", "/give user:42 amount:5")
    assert result.returncode == 1
    assert "server admins" in result.stdout


async def test_interactive_prompt_with_buttons(runtime: Runtime, database_url: str) -> None:
    lines = ["/give <@42> 100000", *["/gacha pull 10"] * 2, "/gacha history", "press 1", "help", "quit"]
    result = kyrios(
        database_url, "console", "--admin", "--guild", "1", "--user", "42", stdin="\n".join(lines) + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Gave 100,000 points" in result.stdout
    assert "Page 1/2" in result.stdout and "Page 2/2" in result.stdout
    assert "/gacha rates" in result.stdout  # from `help`
    assert await count_rows(runtime, GachaPull, user_id=42) == 20
