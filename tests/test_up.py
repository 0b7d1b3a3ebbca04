"""`kyrios up` as a user runs it: a real server process on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kyrios.testing.interactions import InteractionSigner, command_payload


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"kyrios up exited early:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("kyrios up did not become ready")


def test_up_creates_the_database_and_serves_interactions(tmp_path: Path, signer: InteractionSigner) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KYRIOS_DISCORD_PUBLIC_KEY": signer.public_key_hex,
        "KYRIOS_DISCORD_TOKEN": "",
        "KYRIOS_DATABASE_URL": "",
    }
    env.pop("KYRIOS_DATABASE_URL")
    env.pop("KYRIOS_DISCORD_TOKEN")
    process = subprocess.Popen(
        [sys.executable, "-m", "kyrios.cli", "up", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/readyz", process)
        assert (tmp_path / "kyrios.db").exists()
        body, headers = signer.sign({"type": 1})
        assert httpx.post(f"{base}/interactions", content=body, headers=headers).json() == {"type": 1}
        body, headers = signer.sign(command_payload("gacha pull"))
        reply = httpx.post(f"{base}/interactions", content=body, headers=headers).json()
        assert reply["type"] == 4 and "pulled" in json.dumps(reply)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert process.returncode in (0, -15), output  # uvicorn re-raises SIGTERM after a clean shutdown
    assert "Application shutdown complete" in output
    assert "Kyrios on http://127.0.0.1" in output
    assert "KYRIOS_DISCORD_TOKEN is unset" in output
