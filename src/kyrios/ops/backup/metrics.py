"""The backups' Prometheus metrics (on prometheus-client's default registry, which `/metrics` serves).

`kyrios backup` may run in its own process (a timer) rather than in `kyrios up`: every outcome is
also written to `status.json` in the backup directory, and `load_status` puts the last known values
back into the gauges (`kyrios up` calls it at start and after each scheduled run).
"""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import Gauge

STATUS_FILE = "status.json"

LAST_SUCCESS = Gauge(
    "kyrios_backup_last_success_timestamp_seconds", "When the last successful backup finished (Unix time)."
)
DURATION = Gauge("kyrios_backup_duration_seconds", "How long the last successful backup took.")
SIZE = Gauge("kyrios_backup_size_bytes", "Size of the last successful backup file.")
VERIFY_OK = Gauge(
    "kyrios_backup_verify_ok",
    "1 when the last `kyrios backup verify` restored the newest backup and its invariants held, else 0.",
)

GAUGES = {
    "last_success_timestamp_seconds": LAST_SUCCESS,
    "duration_seconds": DURATION,
    "size_bytes": SIZE,
    "verify_ok": VERIFY_OK,
}


def _save(directory: Path, **values: float) -> None:
    path = directory / STATUS_FILE
    status = json.loads(path.read_text()) if path.exists() else {}
    status.update(values)
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(status, sort_keys=True))
    partial.replace(path)


def record_backup(directory: Path, *, finished_at: float, seconds: float, size: int) -> None:
    """A backup succeeded."""
    LAST_SUCCESS.set(finished_at)
    DURATION.set(seconds)
    SIZE.set(size)
    _save(directory, last_success_timestamp_seconds=finished_at, duration_seconds=seconds, size_bytes=size)


def record_verify(directory: Path, *, ok: bool) -> None:
    """A restore check finished (or failed to)."""
    VERIFY_OK.set(1 if ok else 0)
    _save(directory, verify_ok=1 if ok else 0)


def load_status(directory: Path) -> None:
    """Set the gauges from the last outcomes written to `directory` (any process's)."""
    path = directory / STATUS_FILE
    if not path.exists():
        return
    for key, value in json.loads(path.read_text()).items():
        if key in GAUGES:
            GAUGES[key].set(float(value))
