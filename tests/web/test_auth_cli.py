"""`kyrios api-key create|revoke` against the test database; the key is checked over HTTP."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from kyrios.cli import app
from kyrios.runtime import Runtime
from tests.web.auth_helpers import client, create_app


def kyrios(*args: str) -> tuple[int, str]:
    """Run `kyrios …`; (exit code, output)."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


async def test_the_cli_creates_a_key_shown_once_and_revokes_it(
    runtime: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYRIOS_DATABASE_URL", database_url)
    assert (await asyncio.to_thread(kyrios, "exchange", "create-user", "maker-1", "--role", "BOT"))[0] == 0
    code, out = await asyncio.to_thread(kyrios, "api-key", "create", "maker-1", "--scope", "read")
    assert code == 0, out
    key = out.strip().splitlines()[-1]
    assert key.startswith("kyr_") and "shown once" in out
    async with client(create_app(runtime)) as http:
        me = await http.get("/api/v1/me", headers={"X-API-Key": key})
        assert me.json()["name"] == "maker-1" and me.json()["scopes"] == ["read"]
        key_id = key.split("_")[1]
        assert await asyncio.to_thread(kyrios, "api-key", "revoke", key_id) == (
            0,
            f"API key {key_id} is revoked\n",
        )
        assert (await http.get("/api/v1/me", headers={"X-API-Key": key})).status_code == 401

    assert (await asyncio.to_thread(kyrios, "exchange", "create-user", "alice"))[0] == 0
    code, out = await asyncio.to_thread(kyrios, "api-key", "create", "alice")
    assert (code, out.strip()) == (1, "API keys are only for BOT and ADMIN accounts; 'alice' is neither.")
    code, out = await asyncio.to_thread(kyrios, "api-key", "revoke", "000000000000")
    assert (code, out.strip()) == (1, "There is no API key 000000000000.")
