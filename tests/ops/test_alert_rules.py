"""deploy/prometheus/alerts.yml: valid for Prometheus, and every rule unit-tested both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES, TESTS = PROMETHEUS / "alerts.yml", PROMETHEUS / "alerts_test.yml"

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool comes with Debian's prometheus package"
)


def promtool(*args: str) -> str:
    done = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "rules", str(RULES))


def test_every_rule_passes_its_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", str(TESTS))


def test_every_alert_is_tested_firing_and_quiet() -> None:
    rules: dict[str, Any] = yaml.safe_load(RULES.read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests: dict[str, Any] = yaml.safe_load(TESTS.read_text())
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests["tests"]:
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert alerts - firing == set(), "never seen firing"
    assert alerts - quiet == set(), "never seen quiet"


def test_the_seeds_alarms_all_have_a_rule() -> None:
    """The design documents' alarms, by the metric each rule must watch."""
    text = RULES.read_text()
    for metric in (
        'kyrios_commands_total{outcome="error"}',  # error rate > 1 %
        "kyrios_command_seconds_bucket",  # latency > 5 s
        "kyrios_db_retries_total",  # throttling / lock-wait or retry storms
        "kyrios_db_lock_wait_seconds_bucket",
        "kyrios_discord_rate_limited_total",  # Discord 429s
        "kyrios_discord_ratelimit_remaining",  # a budget near its limit
        "process_cpu_seconds_total",  # CPU > 80 %
        "process_resident_memory_bytes",  # memory > 80 %
        "kyrios_backup_last_success_timestamp_seconds",  # a backup missing for 26 h
        "kyrios_backup_verify_ok",  # a failed restore check
        "kyrios_exchange_lease_held",  # the exchange lease lost
        "kyrios_ws_dropped_total",  # WebSocket drops
    ):
        assert metric in text, metric


def test_the_deployment_s_prometheus_config_is_valid() -> None:
    assert "SUCCESS" in promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
