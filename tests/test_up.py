"""`kyrios up` as a user runs it: a real server process on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

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
        "KYRIOS_FFMPEG": str(tmp_path / "no-ffmpeg-here"),
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
    assert "is not installed: music is unavailable, everything else works" in output


def start_up(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    """`kyrios up` on the SQLite file in `tmp_path`, with a short exchange lease."""
    env = {
        **os.environ,
        "KYRIOS_EXCHANGE_LEASE_SECONDS": "6",
        "KYRIOS_EXCHANGE_RENEW_SECONDS": "1",
    }
    for name in ("KYRIOS_DATABASE_URL", "KYRIOS_DISCORD_TOKEN", "KYRIOS_DISCORD_PUBLIC_KEY"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "kyrios.cli", "up", "--port", str(port), *extra],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Lines:
    """What a running process prints, read as it comes (by a thread of its own)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        with process.stdout:
            self.lines.extend(process.stdout)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        """Return once a line containing `text` was printed."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"no line with {text!r} in:\n{''.join(self.lines)}"
            time.sleep(0.1)

    def text(self) -> str:
        """Everything printed (after the process ended)."""
        self._reader.join(30)
        return "".join(self.lines)


def stop(process: subprocess.Popen[str]) -> None:
    """Terminate a `kyrios up` (if still running) and wait for it."""
    if process.poll() is None:
        process.terminate()
    process.wait(30)


def test_one_database_has_one_exchange_owner_and_a_standby_takes_over(tmp_path: Path) -> None:
    owner_port, second_port, standby_port = free_port(), free_port(), free_port()
    owner = start_up(tmp_path, owner_port)
    owner_said = Lines(owner)
    standby: subprocess.Popen[str] | None = None
    try:
        wait_ready(f"http://127.0.0.1:{owner_port}/readyz", owner)
        held_by = f"`kyrios up` (pid {owner.pid} on host {socket.gethostname()}, since "

        second = start_up(tmp_path, second_port)
        said = " ".join(second.communicate(timeout=60)[0].split())
        assert second.returncode == 1
        assert f"The exchange is already run by {held_by}" in said
        assert "Stop it first, or start this one with --standby to take over after it." in said

        cli = subprocess.run(
            [sys.executable, "-m", "kyrios.cli", "exchange", "create-user", "alice"],
            cwd=tmp_path,
            env={
                **os.environ,
                "COLUMNS": "300",
                "KYRIOS_DATABASE_URL": f"sqlite:///{tmp_path / 'kyrios.db'}",
            },
            capture_output=True,
            text=True,
            check=False,
        )
        said = " ".join(cli.stdout.split())
        assert cli.returncode == 1 and said.startswith(f"The exchange is run by {held_by}"), said

        standby = start_up(tmp_path, standby_port, "--standby")
        standby_said = Lines(standby)
        standby_said.wait_for(f"exchange: run by {held_by}")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{standby_port}/readyz", timeout=1)
        stop(owner)  # a clean stop gives the lease up: the standby need not wait for it to expire
        wait_ready(f"http://127.0.0.1:{standby_port}/readyz", standby, timeout=30)
    finally:
        for process in (owner, standby):
            if process is not None:
                stop(process)
    assert "Application shutdown complete" in owner_said.text()
    said = standby_said.text()
    assert "waiting as a standby to take over once its lease" in said
    assert (
        said.index("exchange: run by") < said.index("exchange: lease taken") < said.index("Uvicorn running")
    )


def test_kyrios_up_stops_with_exit_code_1_when_it_loses_the_exchange_lease(tmp_path: Path) -> None:
    port = free_port()
    owner = start_up(tmp_path, port)
    said = Lines(owner)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", owner)
        with sqlite3.connect(tmp_path / "kyrios.db") as database:  # an operator hands the lease away
            database.execute("UPDATE exchange_owner SET holder = 'someone else'")
        owner.wait(30)
    finally:
        stop(owner)
    assert owner.returncode == 1
    output = said.text()
    assert "this process lost its lease (another process took the exchange over)" in output
    assert "stopped: the exchange lease was lost" in output
