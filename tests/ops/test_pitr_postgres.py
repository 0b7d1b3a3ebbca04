"""Point-in-time recovery on PostgreSQL: a server of the test's own (initdb in a temporary directory,
a free port) archives its WAL with the settings `kyrios.ops.backup.pitr` documents; a base backup
plus the archive, recovered to a moment between two writes, has the first and not the second."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import pytest

from kyrios.ops.backup.pitr import conf_lines, postgres_archive_settings, postgres_recovery_settings
from kyrios.testing.database import TEST_DATABASE_ENV
from tests.ops.test_backup_copies import free_port

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV, "").startswith("postgresql"),
    reason="PostgreSQL point-in-time recovery runs on the PostgreSQL leg (KYRIOS_TEST_DATABASE_URL=postgresql://…)",
)


def as_postgres(*command: str) -> list[str]:
    """The server refuses to run as root: run its tools as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def run(*command: str) -> str:
    done = subprocess.run(as_postgres(*command), check=True, capture_output=True, text=True, timeout=120)
    return done.stdout.strip()


class Server:
    """One PostgreSQL instance on a data directory."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port

    def start(self) -> None:
        assert BIN is not None
        run(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        assert BIN is not None
        run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def sql(self, statement: str) -> str:
        return run(
            "psql",
            "-X",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
        )


def missing(reason: str) -> NoReturn:
    """Skip, or fail where CI requires every service (KYRIOS_REQUIRE_SERVICES)."""
    if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A temporary directory the `postgres` user may write in."""
    if BIN is None or not (BIN / "initdb").exists():
        missing("the PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin)")
    path = Path(tempfile.mkdtemp(prefix="kyrios-pitr-"))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_recovery_to_a_moment_between_two_writes_keeps_the_first_only(workdir: Path) -> None:
    assert BIN is not None
    archive, data, base = workdir / "archive", workdir / "data", workdir / "base"
    run("mkdir", str(archive))
    run(str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
    port = free_port()
    own = {"port": str(port), "listen_addresses": "127.0.0.1", "unix_socket_directories": str(workdir)}
    config = conf_lines(own | postgres_archive_settings(archive), quote=True)
    run("sh", "-c", f"cat >> '{data}/postgresql.conf' <<'EOF'\n{config}EOF")
    server = Server(data, port)
    server.start()
    try:
        server.sql("CREATE TABLE trades (id int PRIMARY KEY, note text)")
        run(
            str(BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-D",
            str(base),
            "-X",
            "none",
            "--checkpoint=fast",
            "--no-sync",
        )
        server.sql("INSERT INTO trades VALUES (1, 'first')")
        moment = datetime.fromisoformat(server.sql("SELECT clock_timestamp()"))
        server.sql("SELECT pg_sleep(0.2)")  # the moment lies between the two commits
        server.sql("INSERT INTO trades VALUES (2, 'second')")
        segment = server.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        server.sql("SELECT pg_switch_wal()")
        server.sql(
            f"DO $$ BEGIN WHILE coalesce((SELECT last_archived_wal FROM pg_stat_archiver), '') < '{segment}'"  # noqa: S608
            " LOOP PERFORM pg_sleep(0.05); END LOOP; END $$"
        )  # waits for the archiver
    finally:
        server.stop()

    restored_port = free_port()
    recovery = conf_lines(
        {"port": str(restored_port)} | postgres_recovery_settings(archive, moment), quote=True
    )
    run("sh", "-c", f"cat >> '{base}/postgresql.conf' <<'EOF'\n{recovery}EOF")
    run("touch", str(base / "recovery.signal"))
    run("chmod", "700", str(base))
    restored = Server(base, restored_port)
    restored.start()
    try:
        restored.sql("DO $$ BEGIN WHILE pg_is_in_recovery() LOOP PERFORM pg_sleep(0.05); END LOOP; END $$")
        assert restored.sql("SELECT string_agg(note, ',' ORDER BY id) FROM trades") == "first"
    finally:
        restored.stop()
