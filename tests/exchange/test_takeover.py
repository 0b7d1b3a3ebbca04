"""A standby takes over from a SIGKILLed owner: no acknowledged order is lost, nothing is written twice.

Two real processes (`python -m kyrios.exchange.soak`) on one database: the owner trades; the
second waits as a standby while the owner's lease is renewed. The owner is SIGKILLed mid-flow;
once its lease expired the standby takes over, recovers the books and trades on. Every order and
cancel either process acknowledged must then be in the database, with every invariant intact.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from kyrios.core.db import Database
from kyrios.testing.database import TEST_DATABASE_ENV, wipe
from tests.exchange.test_crash_recovery import verify

LEASE = 3.0  # seconds; renewed every quarter: margin for a loaded 2-core host


def soak(url: str, seed: int, log: IO[str], *extra: str) -> subprocess.Popen[str]:
    """Start an exchange process on `url`: it waits for the lease, then trades."""
    lease = ("--lease-seconds", str(LEASE), "--renew-seconds", str(LEASE / 4))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kyrios.exchange.soak",
            url,
            "--seed",
            str(seed),
            "--workers",
            "16",
            *lease,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )


def record(line: str, acked: set[int], canceled: set[int]) -> str:
    """Note an acknowledged order or cancel; return the line's first word."""
    word, _, value = line.strip().partition(" ")
    if word == "ACK":
        acked.add(int(value))
    elif word == "CANCELED":
        canceled.add(int(value))
    return word


def take_over(url: str, tmp_path: Path) -> None:
    with (tmp_path / "owner.log").open("w") as owner_log, (tmp_path / "standby.log").open("w") as standby_log:
        acked, canceled, owned, output = run_both(url, tmp_path, owner_log, standby_log)
    lines = output.splitlines()
    assert lines[0].startswith("RECOVERED") and lines[-1] == "DONE", (tmp_path / "standby.log").read_text()
    taken_over = sum(record(line, acked, canceled) == "ACK" for line in lines)
    assert taken_over > 100
    print(f"owner acknowledged {owned} orders, the standby {taken_over} after taking over")
    asyncio.run(verify(url, acked, canceled))


def run_both(
    url: str, tmp_path: Path, owner_log: IO[str], standby_log: IO[str]
) -> tuple[set[int], set[int], int, str]:
    """Run the owner, start the standby, kill the owner; (acked, canceled, owner's acks, standby's output)."""
    acked: set[int] = set()
    canceled: set[int] = set()
    owner = soak(url, 1, owner_log)
    standby: subprocess.Popen[str] | None = None
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "WAITING"
        assert owner.stdout.readline().startswith("RECOVERED"), (tmp_path / "owner.log").read_text()
        standby = soak(url, 2, standby_log, "--orders", "300")
        assert standby.stdout is not None
        assert standby.stdout.readline().strip() == "WAITING"
        # The owner trades on for several lease lives while the standby waits: its renewals keep
        # the lease (had the standby taken over, the owner's next batch would have been refused
        # and the owner would have stopped acknowledging).
        until = time.monotonic() + 3 * LEASE
        owned = 0
        for line in owner.stdout:
            owned += record(line, acked, canceled) == "ACK"
            if time.monotonic() > until and owned >= 50:
                break
        assert owner.poll() is None, (tmp_path / "owner.log").read_text()
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(10)
        output, _ = standby.communicate(timeout=120)
        assert standby.returncode == 0, (tmp_path / "standby.log").read_text()
    finally:
        for process in (owner, standby):
            if process is not None:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
                if process.stdout is not None:
                    process.stdout.close()
    return acked, canceled, owned, output


def test_a_standby_takes_over_from_a_killed_owner_on_a_sqlite_file(tmp_path: Path) -> None:
    take_over(f"sqlite:///{tmp_path / 'takeover.db'}", tmp_path)


@pytest.mark.skipif(not os.environ.get(TEST_DATABASE_ENV), reason="needs KYRIOS_TEST_DATABASE_URL")
def test_a_standby_takes_over_from_a_killed_owner_on_the_server_database(
    database_url: str, tmp_path: Path
) -> None:
    async def clean() -> None:
        db = Database(database_url)
        try:
            await wipe(db)
        finally:
            await db.dispose()

    asyncio.run(clean())
    take_over(database_url, tmp_path)
