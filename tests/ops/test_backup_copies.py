"""The second location: a directory, and an S3 bucket on moto's standalone server (a real S3 protocol
endpoint, started here on a free port); retention prunes the copies too. And the CLI's refusals."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from kyrios.cli import app
from kyrios.ops.backup import create_backup
from kyrios.ops.backup.retention import backup_name
from kyrios.runtime import Runtime
from kyrios.settings import Settings

NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on a free port, with made-up credentials."""
    executable = shutil.which("moto_server")
    if executable is None:
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    server = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_each_backup_is_copied_to_an_s3_bucket_and_the_copies_are_pruned(
    runtime: Runtime, settings: Settings, tmp_path: Path, s3_endpoint: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="offsite")
    old = [backup_name(NOW - timedelta(days=d)) for d in (1, 2, 3)]
    for name in old:
        s3.put_object(Bucket="offsite", Key=f"kyrios/{name}", Body=b"old")
    s3.put_object(Bucket="offsite", Key="kyrios/README", Body=b"not a backup")
    configured = settings.model_copy(
        update={
            "backup_dir": tmp_path / "backups",
            "backup_key": SecretStr("k"),
            "backup_copy_to": "s3://offsite/kyrios",
            "backup_s3_endpoint_url": s3_endpoint,
            "backup_keep_daily": 2,
            "backup_keep_weekly": 0,
        }
    )
    made = await create_backup(configured, now=NOW)
    assert made.copied_to == "s3://offsite/kyrios/"
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="offsite")["Contents"])
    assert keys == sorted(["kyrios/README", f"kyrios/{made.path.name}", f"kyrios/{old[0]}"])
    copy = s3.get_object(Bucket="offsite", Key=f"kyrios/{made.path.name}")["Body"].read()
    assert copy == made.path.read_bytes()
    assert f"s3://offsite/kyrios/{old[2]}" in made.removed


async def test_each_backup_is_copied_to_a_second_directory(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    second = tmp_path / "elsewhere"
    configured = settings.model_copy(
        update={"backup_dir": tmp_path / "backups", "backup_copy_to": str(second)}
    )
    made = await create_backup(configured, now=NOW)
    assert made.manifest.encryption is None
    assert (second / made.path.name).read_bytes() == made.path.read_bytes()


def test_the_cli_backs_up_and_refuses_a_wrong_key_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI's own SQLite file: what is tested here is the command line, not the database.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYRIOS_DATABASE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    monkeypatch.setenv("KYRIOS_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("KYRIOS_BACKUP_KEY", "the right key")
    monkeypatch.setenv("COLUMNS", "300")
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    made = runner.invoke(app, ["backup"])
    assert made.exit_code == 0, made.output
    assert "encrypted" in made.output
    (file,) = (tmp_path / "backups").glob("*.backup")
    monkeypatch.setenv("KYRIOS_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setenv("KYRIOS_BACKUP_KEY", "a wrong key")
    refused = runner.invoke(app, ["restore", str(file)])
    assert refused.exit_code == 1
    assert "the key does not open" in refused.output and "nothing was restored" in refused.output
    assert not (tmp_path / "new.db").exists()
    monkeypatch.setenv("KYRIOS_BACKUP_KEY", "the right key")
    restored = runner.invoke(app, ["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    verified = runner.invoke(app, ["backup", "verify"])
    assert verified.exit_code == 0 and "every invariant holds" in verified.output, verified.output
