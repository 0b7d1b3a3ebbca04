"""`kyrios up` starts the bots by default: a real server process, its `kyrios bots` child, trades."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

import kyrios
from tests.test_up import free_port, wait_ready


def up(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[str]:
    source = str(Path(kyrios.__file__).resolve().parents[1])  # this checkout's code, whatever the cwd
    environment = {**os.environ, "PYTHONPATH": source, **env}
    for name in ("KYRIOS_DATABASE_URL", "KYRIOS_DISCORD_TOKEN", "KYRIOS_REDIS_URL"):
        environment.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "kyrios.cli", "up", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_up_lists_symbols_and_its_bots_trade_then_stop_with_their_keys_revoked(tmp_path: Path) -> None:
    port = free_port()
    process = up(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", process)
        symbols = {asset["symbol"] for asset in httpx.get(f"{base}/api/v1/assets").json()}
        assert symbols == {"ACME", "KYRI"}
        deadline = time.monotonic() + 90
        while not httpx.get(f"{base}/api/v1/trades/ACME").json()["trades"]:
            assert time.monotonic() < deadline, "the bots made no trade"
            time.sleep(1)
        assert httpx.get(f"{base}/api/v1/depth/ACME").json()["bids"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert process.returncode in (0, -15), output
    assert "bots: 20 agents trading against http://127.0.0.1" in output
    with sqlite3.connect(tmp_path / "kyrios.db") as db:
        keys = db.execute("SELECT revoked_at FROM auth_api_key").fetchall()
    assert len(keys) == 20 and all(revoked is not None for (revoked,) in keys)


def test_kyrios_bots_0_keeps_the_exchange_empty(tmp_path: Path) -> None:
    port = free_port()
    process = up(tmp_path, port, KYRIOS_BOTS="0")
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/assets").json() == []
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "bots:" not in output
