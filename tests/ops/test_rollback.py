"""Rollback: the previous release (`deploy/previous-release`) runs against a database the current
code migrated, because every migration since it is additive; a newer schema does not stop a start."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import text

from kyrios.core.db import Database
from kyrios.core.migrate import upgrade
from kyrios.runtime import Runtime
from tests.helpers import balance

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = "src/kyrios/migrations/versions"
GUILD = 912_000  # a guild of its own in the shared test database
DESTRUCTIVE = {"drop_column", "drop_table", "drop_constraint", "alter_column", "rename_table"}
KNOWN_SAFE: dict[str, str] = {
    # "<file name>": "why the previous release still works with it",
}
"""Migrations after the previous release whose destructive-looking step is known to be safe."""

DRIVER = """
import asyncio, io, json
from rich.console import Console
from kyrios.console import ConsoleSession, render_reply
from kyrios.runtime import build_runtime

async def main():
    runtime = build_runtime()
    replies = []
    try:
        await runtime.start()
        admin = ConsoleSession(runtime, guild_id={guild}, user_id=1, admin=True)
        member = ConsoleSession(runtime, guild_id={guild}, user_id=2, admin=False)
        for session, line in [
            (admin, "/give user:2 amount:500"),
            (member, "/gacha pull"),
            (member, "/points balance"),
        ]:
            reply = await session.run(line)
            out = Console(record=True, width=200, file=io.StringIO())
            render_reply(out, reply, await session.translator())
            replies.append({{"line": line, "error": reply.is_error, "text": out.export_text()}})
    finally:
        await runtime.aclose()
    print(json.dumps(replies))

asyncio.run(main())
"""


def previous_release() -> str:
    return (ROOT / "deploy" / "previous-release").read_text().strip()


def git(*args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr.decode()} (CI needs the full history)"
    return done.stdout


def destructive_steps(source: str) -> list[str]:
    """The destructive operations (`op.drop_table(...)`, `batch_op.alter_column(...)`, …) that a
    migration's `upgrade()` runs."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in DESTRUCTIVE
                ):
                    found.append(f"{call.func.attr} (line {call.lineno})")
    return sorted(found)


def test_the_additivity_check_sees_a_destructive_upgrade_but_not_a_downgrade() -> None:
    source = """
def upgrade():
    op.add_column("t", sa.Column("new", sa.Integer()))
    with op.batch_alter_table("t") as batch_op:
        batch_op.alter_column("old", nullable=False)
    op.drop_table("gone")

def downgrade():
    op.drop_column("t", "new")
"""
    assert destructive_steps(source) == ["alter_column (line 5)", "drop_table (line 6)"]


def test_every_migration_since_the_previous_release_is_additive() -> None:
    before = set(git("ls-tree", "-r", "--name-only", previous_release(), VERSIONS).decode().split())
    since = sorted(p for p in (ROOT / VERSIONS).glob("*.py") if f"{VERSIONS}/{p.name}" not in before)
    problems = {
        path.name: steps
        for path in since
        if path.name not in KNOWN_SAFE and (steps := destructive_steps(path.read_text()))
    }
    assert problems == {}, (
        "these migrations change or remove what the previous release uses; split them into an expand"
        " release and a contract release (README, Operations), or allowlist them in KNOWN_SAFE with why"
    )


async def test_the_previous_release_reads_and_writes_the_migrated_schema(
    database_url: str, runtime: Runtime, tmp_path: Path
) -> None:
    """The session's database is at the current heads (conftest); the previous release's own code
    gives points, pulls and reads a balance in it, and the current code sees the same balance."""
    archive = git("archive", "--format=tar", previous_release(), "src")
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYRIOS_")}
    env |= {"KYRIOS_DATABASE_URL": database_url, "PYTHONPATH": str(tmp_path / "src")}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", DRIVER.format(guild=GUILD)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    replies = json.loads(done.stdout.strip().splitlines()[-1])
    assert [r for r in replies if r["error"]] == []
    assert "pulled" in replies[1]["text"]
    points = await balance(runtime, user_id=2, guild_id=GUILD)
    assert 0 < points <= 500
    assert str(points) in replies[2]["text"]  # what the previous release read is what this one reads


async def test_a_schema_newer_than_the_code_is_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Once this release is the previous one, rolling back to it must not stop at its own
    `upgrade()`: Alembic fails on the newer release's revisions it cannot find."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}")
    try:
        await upgrade(db)
        async with db.engine.begin() as connection:
            await connection.execute(text("INSERT INTO alembic_version VALUES ('9999_from_the_future')"))
        with caplog.at_level(logging.WARNING, logger="kyrios.core.migrate"):
            await upgrade(db)
        assert "9999_from_the_future" in caplog.text
        async with db.engine.connect() as connection:
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars()
            assert "9999_from_the_future" in set(versions)
    finally:
        await db.dispose()
