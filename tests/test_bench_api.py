"""`bench/api.py --smoke` runs end to end and prints its figures (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import kyrios

BENCH = Path(__file__).resolve().parents[1] / "bench" / "api.py"
NUMBERS = (
    "trivial_req_per_s",
    "orders_accepted_per_s",
    "ratio_percent",
    "order_p50_ms",
    "order_p99_ms",
    "server_cpu_us_per_order",
    "subscribers",
    "fanout_trades",
    "fanout_frames",
    "fanout_p50_ms",
    "fanout_p99_ms",
    "order_to_frame_p50_ms",
    "order_to_frame_p99_ms",
)


def test_smoke_run_prints_every_figure() -> None:
    source = str(Path(kyrios.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--smoke"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for name in NUMBERS:
        assert isinstance(figures[name], int | float) and figures[name] > 0, (name, figures)
    assert figures["order_statuses"].get("201", 0) == sum(figures["order_statuses"].values())
    assert figures["dropped_slow_consumers"] >= 0 and figures["missing_frames"] >= 0
