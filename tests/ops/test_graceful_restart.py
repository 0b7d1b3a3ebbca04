"""`kyrios api --workers 2` under a real load of interactions while SIGHUP replaces its workers:
every request gets its right answer and the workers really are new processes afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kyrios.testing.interactions import InteractionSigner, command_payload

GUILD = 911_000  # a guild of its own in the shared test database
CLIENTS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def workers_of(supervisor: int) -> set[int]:
    """The uvicorn workers the supervisor runs (its children but multiprocessing's resource tracker)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    found = set()
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue  # a retired worker that just exited
        if b"resource_tracker" not in command:
            found.add(pid)
    return found


def wait_for(condition: object, what: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"kyrios api exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Load:
    """Clients sending signed `/gacha pull`s (a new member each, so each answer is a pull) and
    health checks until told to stop; they record every failure."""

    def __init__(self, base: str, signer: InteractionSigner) -> None:
        self.base = base
        self.signer = signer
        self.stop = asyncio.Event()
        self.answered = 0
        self.failures: list[str] = []
        self._next_user = 0

    async def client(self, number: int) -> None:
        # Odd clients open a connection per request, even ones keep theirs alive: a retiring worker
        # must answer what arrives on a connection it just accepted and on an idle kept-alive one.
        limits = httpx.Limits(max_keepalive_connections=0 if number % 2 else 1)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as http:
            while not self.stop.is_set():
                self._next_user += 1
                user = 5_000_000 + self._next_user
                try:
                    if self._next_user % 4 == 0:
                        response = await http.get("/healthz")
                        good = response.status_code == 200
                    else:
                        body, headers = self.signer.sign(
                            command_payload("gacha pull", guild_id=GUILD, user_id=user)
                        )
                        response = await http.post("/interactions", content=body, headers=headers)
                        text = response.text
                        good = (
                            response.status_code == 200 and response.json()["type"] == 4 and "pulled" in text
                        )
                    if good:
                        self.answered += 1
                    else:
                        self.failures.append(f"{response.status_code}: {response.text[:300]}")
                except httpx.HTTPError as error:
                    self.failures.append(f"client {number}: {type(error).__name__}: {error}")


async def run_restart(base: str, signer: InteractionSigner, process: subprocess.Popen[str]) -> Load:
    load = Load(base, signer)
    clients = [asyncio.create_task(load.client(n)) for n in range(CLIENTS)]
    try:
        await wait_until(lambda: load.answered >= 40, "load before the restart", process)
        before = workers_of(process.pid)
        assert len(before) == 2, before
        process.send_signal(signal.SIGHUP)

        def replaced() -> bool:
            now = workers_of(process.pid)
            return len(now) == 2 and not now & before

        await wait_until(replaced, "both workers replaced", process)
        after = load.answered
        await wait_until(lambda: load.answered >= after + 40, "load after the restart", process)
    finally:
        load.stop.set()
        await asyncio.gather(*clients)
    return load


async def wait_until(condition: object, what: str, process: subprocess.Popen[str]) -> None:
    assert callable(condition)
    deadline = time.monotonic() + 90
    while not condition():
        assert process.poll() is None, f"kyrios api exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def test_sighup_replaces_the_workers_under_load_without_dropping_a_request(
    database_url: str, signer: InteractionSigner, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "KYRIOS_DATABASE_URL": database_url,
        "KYRIOS_DISCORD_PUBLIC_KEY": signer.public_key_hex,
        "KYRIOS_FFMPEG": str(tmp_path / "no-ffmpeg-here"),
    }
    env.pop("KYRIOS_DISCORD_TOKEN", None)
    log = tmp_path / "api.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kyrios.cli", "api", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ready(f"{base}/readyz") and len(workers_of(process.pid)) == 2, "ready", process)
        load = asyncio.run(run_restart(base, signer, process))
    finally:
        process.terminate()
        process.wait(60)
    output = log.read_text()
    assert load.failures == [], json.dumps(load.failures[:5]) + "\n" + output[-3000:]
    assert "Received SIGHUP, restarting processes." in output
    assert "aborting the restart" not in output
