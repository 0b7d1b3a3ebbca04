"""Structured logs: JSON lines with the ids bound in production, readable lines locally, no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from pydantic import SecretStr

from kyrios.ops import logs
from kyrios.testing.interactions import InteractionSigner, command_payload
from tests.core.test_sqlite_busy import HOST, free_port, migrated, wait_ready


@contextmanager
def captured(kind: Literal["json", "console"]) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records are formatted as the root handler `configure_logging` installs would."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter(kind))
    logger = logging.getLogger(f"kyrios.test.logs.{kind}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)


def test_json_lines_carry_the_bound_ids_and_hide_secrets() -> None:
    with captured("json") as (logger, out), logs.bound(interaction_id=123, request_id="req-1"):
        extra = {"order_id": 9, "api_key": "kyr_live_abc", "jwt_token": "eyJ"}
        logger.info("pulled %s", "gacha", extra=extra)
        logger.warning("login with %s", SecretStr("hunter2"))
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("command failed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    first, second, third = lines
    assert first["event"] == "pulled gacha" and first["level"] == "info"
    assert first["logger"] == "kyrios.test.logs.json" and first["timestamp"].endswith("Z")
    assert (first["interaction_id"], first["request_id"], first["order_id"]) == (123, "req-1", 9)
    assert first["api_key"] == first["jwt_token"] == logs.REDACTED
    assert second["event"] == f"login with {logs.REDACTED}"
    assert third["level"] == "error" and third["exception"][0]["exc_type"] == "ValueError"
    assert "hunter2" not in out.getvalue() and "kyr_live_abc" not in out.getvalue()


def test_console_lines_are_for_people() -> None:
    with captured("console") as (logger, out), logs.bound(interaction_id=7):
        logger.info("gateway bot connected")
        secret = "-".join(("only", "in", "a", "local"))
        try:
            raise RuntimeError(f"{len(secret)} characters")
        except RuntimeError:
            logger.exception("failed")
    text = out.getvalue()
    assert not text.startswith("{")
    assert "gateway bot connected" in text and "interaction_id=7" in text and "[info" in text
    assert "RuntimeError" in text and secret not in text  # tracebacks leave locals out


def test_auto_means_json_in_production_only() -> None:
    assert logs.resolve_format("auto", production=True) == "json"
    assert logs.resolve_format("auto", production=False) == "console"
    assert logs.resolve_format("json", production=False) == "json"
    assert logs.resolve_format("console", production=True) == "console"


async def test_a_served_command_failure_is_one_json_line_with_its_ids(
    tmp_path: Path, signer: InteractionSigner, dialect: str
) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite leg only: the test starts its own SQLite-backed server")
    path = tmp_path / "kyrios.db"
    await migrated(path)
    port = free_port()
    token = "bot-token-that-must-never-be-logged"
    env = {
        **os.environ,
        "KYRIOS_DATABASE_URL": f"sqlite:///{path}",
        "KYRIOS_DISCORD_PUBLIC_KEY": signer.public_key_hex,
        "KYRIOS_DISCORD_APPLICATION_ID": "999",
        "KYRIOS_DISCORD_TOKEN": token,
        "KYRIOS_LOG_FORMAT": "json",
        "KYRIOS_BOTS": "0",
    }
    env.pop("KYRIOS_REDIS_URL", None)
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "uvicorn", "--factory", "kyrios.web.main:app_from_environment"),
        *("--host", HOST, "--port", str(port)),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    payload = command_payload("daily", user_id=77)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
            await wait_ready(client, server)
            with sqlite3.connect(path) as conn:  # the claim fails inside Kyrios
                conn.execute("ALTER TABLE economy_ledger RENAME TO economy_ledger_gone")
            body, headers = signer.sign(payload)
            headers["X-Request-ID"] = "support-case-42"
            answer = (await client.post("/interactions", content=body, headers=headers)).json()
            assert answer["data"]["flags"] == 64
    finally:
        server.terminate()
        assert server.stderr is not None
        written = (await server.stderr.read()).decode()
        await server.wait()
    lines: list[dict[str, Any]] = [json.loads(line) for line in written.splitlines() if line.strip()]
    (failure,) = [line for line in lines if line["event"] == "command daily failed"]
    assert failure["level"] == "error" and failure["logger"] == "kyrios.slash.registry"
    assert failure["interaction_id"] == int(payload["id"])
    assert failure["request_id"] == "support-case-42"
    assert (failure["command"], failure["door"]) == ("daily", "http")
    assert "economy_ledger" in json.dumps(failure["exception"])
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # the server's own lines too
    assert token not in written and str(payload["token"]) not in written
