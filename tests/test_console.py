"""`kyrios console` as a user types it, in a real subprocess against the test database."""

from __future__ import annotations

import json
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


async def test_locale_ja_prints_japanese(runtime: Runtime, database_url: str) -> None:
    def console(*args: str) -> subprocess.CompletedProcess[str]:
        return kyrios(
            database_url, "console", "--guild", "1", "--user", "42", "--name", "ken", "--locale", "ja", *args
        )

    balance = console("/points balance")
    assert balance.returncode == 0, balance.stderr
    assert "ken さんのポイント" in balance.stdout and "0 ポイント" in balance.stdout
    refused = console("/give user:42 amount:5")
    assert refused.returncode == 1
    assert "サーバー管理者" in refused.stdout and "あなただけに表示されています" in refused.stdout
    unreadable = console('/points balance "unclosed')
    assert unreadable.returncode == 1 and "コマンドを読み取れませんでした" in unreadable.stdout


async def test_the_commands_json_carries_japanese_localizations(database_url: str) -> None:
    result = kyrios(database_url, "commands")
    assert result.returncode == 0, result.stderr
    commands = {command["name"]: command for command in json.loads(result.stdout)}
    points = commands["points"]
    assert points["name_localizations"] == {"ja": "ポイント"}
    assert points["description_localizations"] == {"ja": "ポイントのコマンド"}
    balance = next(option for option in points["options"] if option["name"] == "balance")
    assert balance["name_localizations"] == {"ja": "残高"}
    assert balance["options"][0]["name_localizations"] == {"ja": "ユーザー"}
    setting = next(option for option in commands["settings"]["options"] if option["name"] == "set")
    language = next(option for option in setting["options"] if option["name"] == "locale")
    assert language["choices"] == [
        {"name": "English", "value": "en", "name_localizations": {"ja": "English（英語）"}},
        {"name": "日本語 (Japanese)", "value": "ja", "name_localizations": {"ja": "日本語"}},
    ]
