"""Another process holding SQLite's write lock does not freeze the event loop.

The first test is the whole story: a real server (uvicorn with the Kyrios app, its own process)
on a SQLite file; a second process takes the write lock and keeps it for two seconds. A signed
`/gacha pull` arriving meanwhile waits for the lock and then succeeds, and all the while
`GET /healthz` of the same server keeps answering: the wait happens in a coroutine, not inside
SQLite on the event loop's thread. The others pin down the parts in one process (SQLite locks
two connections of one process against each other as it does two processes).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Database, Sql, sqlite_inline
from kyrios.core.migrate import upgrade
from kyrios.testing.interactions import InteractionSigner, command_payload

HOST = "127.0.0.1"
HOLD_SECONDS = 2.0

LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print(time.time(), flush=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def migrated(path: Path) -> None:
    db = Database(f"sqlite:///{path}")
    try:
        await upgrade(db)
    finally:
        await db.dispose()


async def start_server(path: Path, signer: InteractionSigner, port: int) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KYRIOS_DATABASE_URL": f"sqlite:///{path}",
        "KYRIOS_DISCORD_PUBLIC_KEY": signer.public_key_hex,
        "KYRIOS_DISCORD_APPLICATION_ID": "999",
    }
    env.pop("KYRIOS_REDIS_URL", None)
    env.pop("KYRIOS_DISCORD_TOKEN", None)
    factory = "kyrios.web.main:app_from_environment"
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "uvicorn", "--factory", factory, "--host", HOST, "--port", str(port)),
        *("--log-level", "warning", "--no-access-log"),
        env=env,
    )


async def wait_ready(client: httpx.AsyncClient, server: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(60):
        while server.returncode is None:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the server exited with {server.returncode}")


async def test_a_write_lock_held_by_another_process_leaves_the_server_answering(
    tmp_path: Path, signer: InteractionSigner
) -> None:
    path = tmp_path / "kyrios.db"
    await migrated(path)
    port = free_port()
    server = await start_server(path, signer, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
            await wait_ready(client, server)
            # A first command pays for cold caches (statement compilation, the guild's gacha
            # table); pay it before the lock so that only the wait is measured.
            body, headers = signer.sign(command_payload("gacha pull", user_id=7))
            assert (await client.post("/interactions", content=body, headers=headers)).json()["type"] == 4
            holder_args = ("-c", LOCK_HOLDER, str(path), str(HOLD_SECONDS))
            holder = await asyncio.create_subprocess_exec(
                sys.executable, *holder_args, stdout=asyncio.subprocess.PIPE
            )
            assert holder.stdout is not None
            assert await holder.stdout.readline() == b"locked\n"
            locked_at = time.time()

            body, headers = signer.sign(command_payload("gacha pull"))
            pull = asyncio.create_task(client.post("/interactions", content=body, headers=headers))
            answered_at: list[float] = []
            pull.add_done_callback(lambda _: answered_at.append(time.time()))
            health_answered_at = []
            while not pull.done():
                response = await client.get("/healthz")
                assert response.status_code == 200
                health_answered_at.append(time.time())
                await asyncio.sleep(0.02)
            released_at = float(await holder.stdout.readline())
            assert await holder.wait() == 0

            reply = (await pull).json()
            assert reply["type"] == 4 and "pulled" in json.dumps(reply), reply
            assert answered_at[0] >= released_at  # the pull did wait for the other process's lock
            # A loop frozen inside SQLite's busy wait answers nothing until the lock goes; this
            # one answers all through the hold, in its first half and in its second.
            middle = (locked_at + released_at) / 2
            first_half = [t for t in health_answered_at if locked_at <= t < middle]
            second_half = [t for t in health_answered_at if middle <= t < released_at]
            assert len(first_half) >= 2 and len(second_half) >= 2, (
                f"/healthz answered {len(first_half)} and {len(second_half)} times in the two halves "
                f"of the {released_at - locked_at:.2f} s another process held the lock"
            )
    finally:
        server.terminate()
        await server.wait()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A SQLite file in WAL mode with one table."""
    path = tmp_path / "notes.db"
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return path


@contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection inside a write transaction (that inserted 'theirs'), until the block ends."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO note (body) VALUES ('theirs')")
        yield conn
        if conn.in_transaction:
            conn.execute("COMMIT")
    finally:
        conn.close()


@asynccontextmanager
async def loop_turns() -> AsyncIterator[list[int]]:
    """Counts how often the event loop gets to run another task during the block."""
    turns = [0]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.001)
            turns[0] += 1

    ticker = asyncio.create_task(tick())
    try:
        yield turns
    finally:
        ticker.cancel()


async def write_ours(session: AsyncSession) -> None:
    await (await Sql.of(session)).execute("INSERT INTO note (body) VALUES ('ours')")


async def in_transaction(db: Database, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    async with db.transaction() as session:
        await work(session)


def bodies(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT body FROM note ORDER BY id")]


@pytest.mark.parametrize("door", ["run", "transaction"])
async def test_a_writer_waits_for_another_connection_while_the_loop_runs(notes: Path, door: str) -> None:
    db = Database(f"sqlite:///{notes}")
    try:
        with write_lock(notes) as theirs:
            async with loop_turns() as turns:
                write = db.run(write_ours) if door == "run" else in_transaction(db, write_ours)
                task = asyncio.create_task(write)
                await asyncio.sleep(0.3)
                assert not task.done()  # it is waiting for the lock...
                assert turns[0] >= 10  # ...and the loop runs meanwhile
            theirs.execute("COMMIT")
        await task
    finally:
        await db.dispose()
    assert bodies(notes) == ["theirs", "ours"]


async def test_a_reader_does_not_wait_for_another_connection_writing(notes: Path) -> None:
    with sqlite3.connect(notes) as conn:
        conn.execute("INSERT INTO note (body) VALUES ('committed')")
    db = Database(f"sqlite:///{notes}")
    try:
        with write_lock(notes):
            async with asyncio.timeout(1), db.read() as session:
                seen = await (await Sql.of(session)).all("SELECT body FROM note")
    finally:
        await db.dispose()
    assert seen == [("committed",)]


async def test_a_writer_gives_up_at_the_deadline_and_works_again_after(
    notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_DEADLINE_SECONDS", 0.2)
    db = Database(f"sqlite:///{notes}")
    try:
        with write_lock(notes), pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await in_transaction(db, write_ours)
        await in_transaction(db, write_ours)
        async with db.read() as session:  # SQLite's own wait is short again on that connection
            busy_timeout = await (await Sql.of(session)).scalar("PRAGMA busy_timeout")
    finally:
        await db.dispose()
    assert busy_timeout == sqlite_inline.BUSY_TIMEOUT_MS
    assert bodies(notes) == ["theirs", "ours"]
