"""Point-in-time recovery for the server databases: the settings `kyrios` documents (README,
operations) and its PITR tests use.

A nightly `kyrios backup` restores to the night it was made; to reach any moment in between, the
server keeps its change log — PostgreSQL's WAL archived to a directory, MariaDB's binary log — and
recovery replays it on top of a base backup up to the chosen moment.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def postgres_archive_settings(archive_dir: Path) -> dict[str, str]:
    """postgresql.conf lines that archive every finished WAL segment to `archive_dir`
    (`archive_timeout` bounds how much a lost server can take with it: at most a minute)."""
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": f"test ! -f '{archive_dir}/%f' && cp '%p' '{archive_dir}/%f'",
        "archive_timeout": "60",
    }


def postgres_recovery_settings(archive_dir: Path, target: datetime) -> dict[str, str]:
    """Lines for a restored base backup (with an empty `recovery.signal` beside them) that replay
    the archived WAL up to `target`, excluding later commits, then open the database."""
    return {
        "restore_command": f"cp '{archive_dir}/%f' '%p'",
        "recovery_target_time": target.isoformat(sep=" "),
        "recovery_target_inclusive": "off",
        "recovery_target_action": "promote",
    }


def mariadb_binlog_settings(log_base: Path, server_id: int = 1) -> dict[str, str]:
    """my.cnf `[mariadbd]` lines that keep a binary log (row format: replays exactly) for 14 days."""
    return {
        "server_id": str(server_id),
        "log_bin": str(log_base),
        "binlog_format": "ROW",
        "expire_logs_days": "14",
    }


def conf_lines(settings: dict[str, str], *, quote: bool) -> str:
    """The settings as configuration-file lines (PostgreSQL quotes its values; MariaDB does not)."""
    if quote:
        return "".join(
            f"{key} = '{value.replace(chr(39), chr(39) * 2)}'\n" for key, value in settings.items()
        )
    return "".join(f"{key} = {value}\n" for key, value in settings.items())
