"""The daily backup job of `kyrios up`: it waits for `KYRIOS_BACKUP_TIME`, backs up, verifies."""

from __future__ import annotations

import asyncio
import json
import math
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from kyrios.core.clock import FrozenClock
from kyrios.ops.backup import metrics
from kyrios.ops.backup.retention import backup_name
from kyrios.ops.backup.schedule import next_run, run_backup_job
from kyrios.ops.metrics import Metrics
from kyrios.runtime import Runtime
from kyrios.settings import Settings


def test_the_next_run_is_the_next_time_of_day_in_utc() -> None:
    morning = datetime(2026, 3, 20, 2, 59, 59, tzinfo=UTC)
    assert next_run(morning, "03:00") == datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 3, 20, 3, 0, tzinfo=UTC), "03:00") == datetime(
        2026, 3, 21, 3, 0, tzinfo=UTC
    )
    assert next_run(morning, "23:30") == datetime(2026, 3, 20, 23, 30, tzinfo=UTC)


def test_the_schedule_is_off_unless_switched_on() -> None:
    assert Settings(_env_file=None).backup_schedule is False


async def test_the_job_backs_up_and_verifies_at_the_set_time_then_waits_a_day(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    # Frozen a moment before 03:00: the job's first wait is that moment; the next one is a day.
    clock = FrozenClock(datetime(2026, 3, 20, 3, 0, tzinfo=UTC) - timedelta(milliseconds=50))
    configured = settings.model_copy(update={"backup_dir": tmp_path / "backups", "backup_schedule": True})
    stop = asyncio.Event()
    job = asyncio.create_task(run_backup_job(configured, clock, stop=stop))
    status = configured.backup_dir / "status.json"
    try:
        async with asyncio.timeout(60):
            # The job's only trace is the status file it writes (as a timer-run `kyrios backup` would).
            while not (status.exists() and "verify_ok" in json.loads(status.read_text())):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(job, timeout=30)
    assert json.loads(status.read_text())["verify_ok"] == 1
    backups = sorted(p.name for p in configured.backup_dir.glob("*.backup"))
    assert backups == [backup_name(clock.now())]  # once, not again at the same frozen moment


def test_the_gauges_report_a_backup_made_by_another_process(tmp_path: Path) -> None:
    directory = tmp_path / "backups"
    metrics.follow(directory)  # as `kyrios up` does at start
    assert math.isnan(REGISTRY.get_sample_value("kyrios_backup_last_success_timestamp_seconds") or 0.0)
    live = sqlite3.connect(tmp_path / "live.db")
    live.execute("CREATE TABLE t (x INTEGER)")
    live.close()
    env = {
        **os.environ,
        "KYRIOS_DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "KYRIOS_BACKUP_DIR": str(directory),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    subprocess.run(
        [sys.executable, "-m", "kyrios.cli", "backup"], env=env, cwd=tmp_path, check=True, timeout=120
    )
    (made,) = directory.glob("*.backup")
    assert REGISTRY.get_sample_value("kyrios_backup_size_bytes") == made.stat().st_size
    assert math.isnan(REGISTRY.get_sample_value("kyrios_backup_verify_ok") or 0.0)  # never verified
    assert (REGISTRY.get_sample_value("kyrios_backup_last_success_timestamp_seconds") or 0) > 1.7e9
    # A runtime's own registry, the one a served /metrics renders, has the same samples.
    served = {
        sample.name: sample.value
        for family in text_string_to_metric_families(Metrics().render().decode())
        for sample in family.samples
    }
    assert served["kyrios_backup_size_bytes"] == made.stat().st_size
