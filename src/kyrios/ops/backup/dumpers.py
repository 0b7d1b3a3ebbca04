"""Dump a database to bytes and load such a dump back, per kind of database.

- SQLite: the online backup API copies a consistent image of the file while the app keeps
  writing; the dump *is* that database file, and loading it is the backup API the other way.
- PostgreSQL: `pg_dump` (plain SQL; one snapshot for the whole dump) and `psql` in a single
  transaction with `ON_ERROR_STOP`.
- MariaDB / MySQL: `mariadb-dump --single-transaction` (a consistent InnoDB snapshot without
  locking the tables) and the `mariadb` client; `mysqldump` / `mysql` when those are what is installed.

Passwords go to the tools through their environment (PGPASSWORD, MYSQL_PWD), never the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.engine import URL

from kyrios.core.db import normalise_url
from kyrios.ops.backup.archive import CHUNK, BackupError

Progress = Callable[[int, int | None], None]
"""(bytes done, bytes in all or None when unknown)."""


def kind_of(url: str | URL) -> str:
    """`sqlite`, `postgresql` or `mysql`."""
    parsed = normalise_url(url) if isinstance(url, str) else url
    kind = parsed.get_backend_name()
    if kind not in ("sqlite", "postgresql", "mysql"):
        raise BackupError(f"cannot back up a {kind} database")
    return kind


def sqlite_path(url: URL) -> Path:
    """The file of a SQLite URL."""
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{' or '.join(names)} is not installed (it comes with the database's client package)")


def _server_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options and environment for the PostgreSQL / MariaDB command-line tools."""
    env = dict(os.environ)
    if url.get_backend_name() == "postgresql":
        args = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 5432}"]
        args.append(f"--username={url.username or 'postgres'}")
        args.append(f"--dbname={url.database}")
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        return args, env
    args = [
        f"--host={url.host or '127.0.0.1'}",
        f"--port={url.port or 3306}",
        f"--user={url.username or 'root'}",
    ]
    args.append("--default-character-set=utf8mb4")
    if url.password:
        env["MYSQL_PWD"] = str(url.password)
    return args, env


def dump(url: URL, progress: Progress | None = None) -> Iterator[bytes]:
    """The database's dump, in chunks (a generator: the dump runs while it is consumed)."""
    kind = kind_of(url)
    if kind == "sqlite":
        yield from _dump_sqlite(sqlite_path(url), progress)
        return
    args, env = _server_args(url)
    if kind == "postgresql":
        command = [_tool("pg_dump"), "--format=plain", "--no-owner", "--no-privileges", *args]
    else:
        command = [
            _tool("mariadb-dump", "mysqldump"),
            *args,
            "--single-transaction",
            "--quick",
            "--routines",
            "--triggers",
            "--hex-blob",
            "--no-tablespaces",
            str(url.database),
        ]
    yield from _stream(command, env, progress)


def _dump_sqlite(path: Path, progress: Progress | None) -> Iterator[bytes]:
    if not path.exists():
        raise BackupError(f"there is no SQLite database at {path}")
    with tempfile.TemporaryDirectory(prefix="kyrios-backup-") as scratch:
        image = Path(scratch) / "image.db"
        source = sqlite3.connect(path)
        target = sqlite3.connect(image)
        try:
            # One step: a single read transaction, a consistent snapshot while the app keeps writing
            # (WAL). Copying in small steps would start over whenever another connection writes.
            source.backup(target, pages=-1)
        finally:
            target.close()
            source.close()
        total = image.stat().st_size
        done = 0
        with image.open("rb") as data:
            while block := data.read(CHUNK):
                done += len(block)
                if progress is not None:
                    progress(done, total)
                yield block


def _stream(command: list[str], env: dict[str, str], progress: Progress | None) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)  # noqa: S603
        assert process.stdout is not None
        done = 0
        try:
            while block := process.stdout.read(CHUNK):
                done += len(block)
                if progress is not None:
                    progress(done, None)
                yield block
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-2000:]
            raise BackupError(f"{Path(command[0]).name} failed (exit {code}): {message}")


def load(url: URL, dump_file: Path) -> None:
    """Load a dump made by `dump` into the (empty) database at `url`."""
    kind = kind_of(url)
    if kind == "sqlite":
        source = sqlite3.connect(dump_file)
        target = sqlite3.connect(sqlite_path(url))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    args, env = _server_args(url)
    if kind == "postgresql":
        command = [_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *args]
        command += ["--file", str(dump_file)]
    else:
        command = [_tool("mariadb", "mysql"), *args, str(url.database)]
    with dump_file.open("rb") as stdin:
        result = subprocess.run(  # noqa: S603
            command, stdin=stdin, capture_output=True, env=env, check=False
        )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()[-2000:]
        raise BackupError(
            f"{Path(command[0]).name} could not load the dump (exit {result.returncode}): {message}"
        )
