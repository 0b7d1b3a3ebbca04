"""deploy/systemd: every unit passes `systemd-analyze verify`, and a broken copy does not.

verify insists each ExecStart= binary exists and is executable, so the test verifies copies whose
`/opt/kyrios/venv/bin/kyrios` points at a stub it creates. Any warning counts as a failure:
verify exits 0 on an unknown key or a bad value (it ignores the line), which would hide typos.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
BINARY = "/opt/kyrios/venv/bin/kyrios"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze comes with Debian's systemd"
)


def verify(units: Path) -> str:
    """What `systemd-analyze verify` says about every unit in `units` ("" when all is well)."""
    stub = units / "kyrios"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    for unit in units.glob("kyrios*.*"):
        unit.write_text(unit.read_text().replace(BINARY, str(stub)))
    paths = sorted(str(unit) for unit in units.glob("kyrios*.*") if unit.suffix in (".service", ".timer"))
    command = ["systemd-analyze", "verify", "--man=no", *paths]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return (done.stdout + done.stderr).strip() or ("" if done.returncode == 0 else f"exit {done.returncode}")


def copy(tmp_path: Path) -> Path:
    units = tmp_path / "units"
    shutil.copytree(SYSTEMD, units)
    return units


def test_every_unit_verifies(tmp_path: Path) -> None:
    assert verify(copy(tmp_path)) == ""


@pytest.mark.parametrize(
    ("unit", "old", "new"),
    [
        ("kyrios-bots.service", "ExecStart=", "ExecStrat="),  # an unknown key: no command left
        ("kyrios.service", "Restart=always", "Restart=sometimes"),  # a bad value, silently ignored
        ("kyrios-backup.timer", "OnCalendar=*-*-* 03:00:00 UTC", "OnCalendar=daily at three"),
    ],
)
def test_a_broken_unit_fails(tmp_path: Path, unit: str, old: str, new: str) -> None:
    units = copy(tmp_path)
    text = (units / unit).read_text()
    assert old in text
    (units / unit).write_text(text.replace(old, new))
    assert verify(units) != ""


def test_the_backup_runs_then_verifies_daily() -> None:
    service = (SYSTEMD / "kyrios-backup.service").read_text()
    assert f"ExecStart={BINARY} backup\nExecStart={BINARY} backup verify\n" in service
    assert "Type=oneshot" in service
    assert "OnCalendar=" in (SYSTEMD / "kyrios-backup.timer").read_text()
    assert {p.name for p in SYSTEMD.iterdir()} >= {
        "kyrios.service",
        "kyrios-bots.service",
        "kyrios-backup.service",
        "kyrios-backup.timer",
    }
