"""Point-in-time recovery on MariaDB: a server of the test's own (mariadb-install-db in a temporary
directory, a free port) keeps the binary log `kyrios.ops.backup.pitr` documents; a consistent dump
that records its binlog position, plus the binlog replayed up to a moment between two writes, has
the first write and not the second."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pytest

from kyrios.ops.backup.pitr import conf_lines, mariadb_binlog_settings
from kyrios.testing.database import TEST_DATABASE_ENV
from tests.ops.test_backup_copies import free_port

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV, "").startswith(("mysql", "mariadb")),
    reason="MariaDB point-in-time recovery runs on the MariaDB leg (KYRIOS_TEST_DATABASE_URL=mysql://…)",
)
SERVER = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
UTC_ENV = {**os.environ, "TZ": "UTC"}


def missing(reason: str) -> NoReturn:
    """Skip, or fail where CI requires every service (KYRIOS_REQUIRE_SERVICES)."""
    if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A temporary directory the server's user may write in."""
    if SERVER is None or shutil.which("mariadb-install-db") is None:
        missing("the MariaDB server is not installed (mariadbd, mariadb-install-db)")
    path = Path(tempfile.mkdtemp(prefix="kyrios-binlog-"))
    if os.geteuid() == 0:
        shutil.chown(path, "mysql", "mysql")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def client(socket: Path, *args: str, stdin: str | None = None) -> str:
    command = ["mariadb", "--no-defaults", f"--socket={socket}", "-uroot", "-N", "-B", *args]
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, check=True, env=UTC_ENV, timeout=60
    )
    return done.stdout.strip()


def test_replaying_the_binlog_to_a_moment_between_two_writes_keeps_the_first_only(workdir: Path) -> None:
    assert SERVER is not None
    data, socket = workdir / "data", workdir / "server.sock"
    user = ["--user=mysql"] if os.geteuid() == 0 else []
    settings = {
        "datadir": str(data),
        "socket": str(socket),
        "port": str(free_port()),
        "bind-address": "127.0.0.1",
    }
    settings |= {"pid-file": str(workdir / "server.pid")} | mariadb_binlog_settings(workdir / "binlog")
    (workdir / "my.cnf").write_text("[mariadbd]\n" + conf_lines(settings, quote=False))
    subprocess.run(
        [
            "mariadb-install-db",
            f"--defaults-file={workdir / 'my.cnf'}",
            *user,
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = subprocess.Popen(
        [SERVER, f"--defaults-file={workdir / 'my.cnf'}", *user],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=UTC_ENV,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            subprocess.run(
                ["mariadb-admin", "--no-defaults", f"--socket={socket}", "-uroot", "ping"],
                capture_output=True,
                check=False,
            ).returncode
            != 0
        ):
            assert server.poll() is None and time.monotonic() < deadline, "the MariaDB server did not start"
            time.sleep(0.1)
        client(socket, "-e", "CREATE DATABASE shop; CREATE TABLE shop.trades (id int PRIMARY KEY, note text)")
        base = subprocess.run(
            [
                "mariadb-dump",
                "--no-defaults",
                f"--socket={socket}",
                "-uroot",
                "--single-transaction",
                "--master-data=2",
                "--databases",
                "shop",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=UTC_ENV,
            timeout=60,
        ).stdout
        found = re.search(r"MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)", base)
        assert found is not None, "the dump records where in the binlog it was taken"
        client(socket, "-e", "INSERT INTO shop.trades VALUES (1, 'first')")
        # The binlog's clock has whole seconds: the moment is the next second, the second write after it.
        moment = datetime.fromisoformat(client(socket, "-e", "SELECT NOW()")) + timedelta(seconds=1)
        client(socket, "-e", "DO SLEEP(1.1)")
        client(socket, "-e", "INSERT INTO shop.trades VALUES (2, 'second')")
        logs = [line.split("\t")[0] for line in client(socket, "-e", "SHOW BINARY LOGS").splitlines()]
        logs = logs[logs.index(found.group(1)) :]
        client(socket, "-e", "DROP DATABASE shop")  # the loss

        no_log = "--init-command=SET sql_log_bin=0"
        client(socket, no_log, stdin=base)
        replay = subprocess.run(
            [
                "mariadb-binlog",
                "--no-defaults",
                f"--start-position={found.group(2)}",
                f"--stop-datetime={moment:%Y-%m-%d %H:%M:%S}",
                *(str(workdir / name) for name in logs),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=UTC_ENV,
            timeout=60,
        ).stdout
        client(socket, no_log, stdin=replay)
        assert client(socket, "-e", "SELECT group_concat(note ORDER BY id) FROM shop.trades") == "first"
    finally:
        server.terminate()
        server.wait(timeout=60)
