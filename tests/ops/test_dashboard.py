"""deploy/grafana/kyrios.json: every query is valid PromQL over metrics Kyrios exports, and the
dashboard shows the signals the issue lists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "kyrios.json"
SOURCES = [ROOT / "src" / "kyrios" / p for p in ("ops/metrics.py", "web/ops.py", "web/ws/__init__.py")]
BACKUP_METRICS = {"kyrios_backup_last_success_timestamp_seconds", "kyrios_backup_verify_ok"}
"""Exported by the backup job (another part of issue 12)."""
METRIC = re.compile(r"\b(kyrios_[a-z_]+|process_[a-z_]+)\b")
SUFFIX = re.compile(r"_(total|bucket|sum|count)$")


def queries() -> list[str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_query_uses_metrics_kyrios_exports() -> None:
    exported = {name for path in SOURCES for name in re.findall(r'"(kyrios_[a-z_]+)"', path.read_text())}
    exported |= BACKUP_METRICS | {"kyrios_interactions_rejected"}
    used = {SUFFIX.sub("", name) for expr in queries() for name in METRIC.findall(expr)}
    unknown = {name for name in used if name.startswith("kyrios_")} - exported
    assert unknown == set()


def test_the_issue_s_signals_are_on_the_dashboard() -> None:
    text = "\n".join(queries())
    for metric in (
        "kyrios_commands_total",
        'outcome="error"',
        "kyrios_command_seconds_bucket",
        "kyrios_discord_ratelimit_remaining",
        "kyrios_discord_rate_limited_total",
        "kyrios_exchange_orders_total",
        "kyrios_ws_clients",
        "kyrios_ws_dropped_total",
        "kyrios_backup_last_success_timestamp_seconds",
        "kyrios_backup_verify_ok",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ):
        assert metric in text, metric


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool comes with Debian's prometheus package"
)
def test_every_query_parses(tmp_path: Path) -> None:
    """promtool checks each query as a recording rule (Grafana's variables filled in)."""
    filled = [
        expr.replace("$__rate_interval", "1m").replace("$job", "kyrios").replace("$instance", ".*")
        for expr in queries()
    ]
    rules = [{"record": f"dashboard:query{i}", "expr": expr} for i, expr in enumerate(filled)]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
