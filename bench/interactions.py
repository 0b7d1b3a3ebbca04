"""Signed `/gacha pull` interactions per second through the real HTTP server, next to a trivial endpoint.

    python bench/interactions.py [--seconds 8] [--clients 16] [--users 2000] [--factory module:function]

Starts `uvicorn` (one worker) on a fresh SQLite database in a subprocess, loads it from this
process with keep-alive connections, and prints both throughputs, their ratio and latencies.
The last line is one JSON object with the headline figures. On a shared host the throughputs
depend on what else runs; `server_cpu_us_per_pull` (the server process's CPU time over the pull
phase, per request) is the steadier figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import LoadResult, run_load, trivial_baseline
from kyrios.core.migrate import upgrade
from kyrios.features.economy import service as economy
from kyrios.runtime import build_runtime
from kyrios.settings import Settings
from kyrios.testing.interactions import InteractionSigner, command_payload

console = Console(stderr=True)
HOST = "127.0.0.1"
DEFAULT_FACTORY = "kyrios.web.main:app_from_environment"


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def seed(database_url: str, users: int) -> None:
    """Migrate and give every bench user enough points for thousands of pulls."""
    runtime = build_runtime(Settings(database_url=database_url, _env_file=None))
    try:
        await upgrade(runtime.db)
        async with runtime.db.transaction() as session:
            for user_id in range(1, users + 1):
                await economy.credit(
                    session,
                    guild_id=1,
                    user_id=user_id,
                    amount=10**9,
                    reason=economy.Reason.GRANT,
                    now=runtime.clock.now(),
                )
    finally:
        await runtime.aclose()


def start_server(
    database_url: str, public_key: str, port: int, factory: str = DEFAULT_FACTORY
) -> subprocess.Popen[bytes]:
    """uvicorn with one worker serving the app `factory` builds (Kyrios's, or a variant to compare)."""
    env = {
        **os.environ,
        "KYRIOS_DATABASE_URL": database_url,
        "KYRIOS_DISCORD_PUBLIC_KEY": public_key,
        "KYRIOS_DISCORD_APPLICATION_ID": "999",
        "KYRIOS_INTERACTION_MAX_AGE_SECONDS": "3600",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env)


def wait_ready(port: int, timeout: float = 30) -> None:
    """Block until /readyz answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def signed_pull_requests(signer: InteractionSigner, users: int, count: int) -> list[bytes]:
    """Pre-built, pre-signed HTTP requests so the load generator only writes bytes."""
    requests = []
    for index in range(count):
        payload = command_payload("gacha pull", guild_id=1, user_id=index % users + 1)
        body, headers = signer.sign(payload)
        head = (
            f"POST /interactions HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"X-Signature-Ed25519: {headers['X-Signature-Ed25519']}\r\n"
            f"X-Signature-Timestamp: {headers['X-Signature-Timestamp']}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process `pid`; None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pulled(body: bytes) -> bool:
    """True when the reply is a successful pull (not an error message)."""
    data = json.loads(body)
    return bool(data.get("type") == 4 and data["data"].get("embeds"))


def report(name: str, result: LoadResult) -> None:
    """One line per phase."""
    console.print(
        f"{name:<14} {result.per_second:>9,.0f} req/s   p50 {result.median_ms:6.2f} ms   "
        f"p99 {result.percentile_ms(99):7.2f} ms   statuses {result.statuses}"
    )


async def main() -> None:
    """Run both phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--factory", default=DEFAULT_FACTORY, help="the app factory uvicorn serves")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        signer = InteractionSigner()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("seeding users and signing requests", total=2)
            await seed(database_url, args.users)
            progress.advance(task)
            requests = signed_pull_requests(signer, args.users, int(6000 * args.seconds) + 1000)
            progress.advance(task)
        port = free_port()
        server = start_server(database_url, signer.public_key_hex, port, args.factory)
        try:
            wait_ready(port)
            trivial = await trivial_baseline(HOST, port, clients=args.clients, seconds=args.seconds)
            report("GET /healthz", trivial)
            pulls = iter(requests)
            cpu_before = process_cpu_seconds(server.pid)
            gacha = await run_load(
                HOST, port, lambda: next(pulls), clients=args.clients, seconds=args.seconds, check_body=pulled
            )
            cpu_after = process_cpu_seconds(server.pid)
            report("/gacha pull", gacha)
        finally:
            server.terminate()
            server.wait(10)
    ratio = gacha.per_second / trivial.per_second
    server_cpu_us = (
        round(1e6 * (cpu_after - cpu_before) / gacha.requests, 1)
        if cpu_before is not None and cpu_after is not None and gacha.requests
        else None
    )
    console.print(
        f"gacha pull: {100 * ratio:.1f} % of the trivial endpoint ({gacha.bodies_checked_ok:,} pulls made, "
        f"server CPU {server_cpu_us} µs per pull)"
    )
    print(
        json.dumps(
            {
                "trivial_req_per_s": round(trivial.per_second),
                "trivial_p99_ms": round(trivial.percentile_ms(99), 2),
                "gacha_pull_req_per_s": round(gacha.per_second),
                "gacha_pull_p50_ms": round(gacha.median_ms, 2),
                "gacha_pull_p99_ms": round(gacha.percentile_ms(99), 2),
                "ratio_percent": round(100 * ratio, 1),
                "successful_pulls": gacha.bodies_checked_ok,
                "server_cpu_us_per_pull": server_cpu_us,
                "clients": args.clients,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
