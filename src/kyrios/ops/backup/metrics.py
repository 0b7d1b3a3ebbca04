"""The backups' Prometheus metrics: on prometheus-client's default registry, and on every runtime's
(`Metrics` attaches `families`, so a served `/metrics` has them too).

A backup may run in another process than the one scraped (`kyrios backup` from a timer, beside
`kyrios up`), so the outcomes live in `status.json` in the backup directory and the gauges read
that file when scraped: whichever process ran the backup, the scraped one reports it. A value never
recorded reads NaN (no series value an alert rule could mistake for a failure or a success).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import Gauge
from prometheus_client.metrics_core import Metric

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

_followed: list[Path] = []
"""The backup directory whose status the gauges report (the last one followed or written to)."""


def _status() -> dict[str, float]:
    if not _followed:
        return {}
    try:
        return {
            key: float(value) for key, value in json.loads((_followed[0] / STATUS_FILE).read_text()).items()
        }
    except (OSError, ValueError):
        return {}


def _reader(key: str) -> Callable[[], float]:
    return lambda: _status().get(key, math.nan)


for _key, _gauge in {
    "last_success_timestamp_seconds": LAST_SUCCESS,
    "duration_seconds": DURATION,
    "size_bytes": SIZE,
    "verify_ok": VERIFY_OK,
}.items():
    _gauge.set_function(_reader(_key))


def follow(directory: Path) -> None:
    """Report the outcomes recorded in `directory` (`kyrios up` follows its KYRIOS_BACKUP_DIR)."""
    _followed[:] = [directory]


def _save(directory: Path, **values: float) -> None:
    path = directory / STATUS_FILE
    status = json.loads(path.read_text()) if path.exists() else {}
    status.update(values)
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(status, sort_keys=True))
    partial.replace(path)
    follow(directory)


def record_backup(directory: Path, *, finished_at: float, seconds: float, size: int) -> None:
    """A backup succeeded."""
    _save(directory, last_success_timestamp_seconds=finished_at, duration_seconds=seconds, size_bytes=size)


def record_verify(directory: Path, *, ok: bool) -> None:
    """A restore check finished (or failed to)."""
    _save(directory, verify_ok=1 if ok else 0)


def families() -> Iterator[Metric]:
    """The four gauges' current samples, for a runtime's own registry."""
    for gauge in (LAST_SUCCESS, DURATION, SIZE, VERIFY_OK):
        yield from gauge.collect()
