"""`kyrios backup`, `kyrios restore` and `kyrios backup verify` as functions of the settings.

The blocking parts (dump, compression, encryption, the command-line tools) run in a worker
thread, so `kyrios up` can run a backup without stalling its event loop.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL

from kyrios.core.db import Database
from kyrios.exchange import invariants
from kyrios.features.economy import service as economy
from kyrios.ops.backup import archive, databases, dumpers, metrics
from kyrios.ops.backup.archive import BackupError, Manifest
from kyrios.ops.backup.dumpers import Progress
from kyrios.ops.backup.locations import DirectoryLocation, Location, location
from kyrios.ops.backup.retention import backup_name, made_at, to_delete
from kyrios.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class BackupResult:
    """A finished backup."""

    path: Path
    manifest: Manifest
    seconds: float
    copied_to: str | None = None
    removed: list[str] = field(default_factory=list)
    """Backups retention deleted (in the backup directory and the second location)."""


@dataclass
class VerifyResult:
    """The outcome of restoring the newest backup into a scratch database."""

    path: Path
    manifest: Manifest
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _key(settings: Settings) -> str | None:
    return settings.backup_key.get_secret_value() if settings.backup_key else None


async def create_backup(
    settings: Settings, *, now: datetime, progress: Progress | None = None
) -> BackupResult:
    """Dump the database into a new backup file, copy it to the second location, apply retention."""
    url = databases.parse(settings.database_url)
    kind = dumpers.kind_of(url)
    started = time.monotonic()
    manifest = Manifest(kind=kind, schema_heads=await databases.schema_heads(url), created_at=now.isoformat())
    settings.backup_dir.mkdir(parents=True, exist_ok=True)
    target = settings.backup_dir / backup_name(now)
    if target.exists():
        raise BackupError(f"{target} already exists: one backup per second")
    manifest = await asyncio.to_thread(
        archive.write, dumpers.dump(url, progress), target, manifest, passphrase=_key(settings)
    )
    result = BackupResult(target, manifest, time.monotonic() - started)
    places: list[Location] = [DirectoryLocation(settings.backup_dir)]
    if settings.backup_copy_to:
        second = location(settings.backup_copy_to, s3_endpoint_url=settings.backup_s3_endpoint_url)
        await asyncio.to_thread(second.put, target)
        result.copied_to = second.describe()
        places.append(second)
    for place in places:
        result.removed += await asyncio.to_thread(_prune, place, settings)
    metrics.record_backup(
        settings.backup_dir,
        finished_at=time.time(),
        seconds=result.seconds,
        size=target.stat().st_size,
    )
    return result


def _prune(place: Location, settings: Settings) -> list[str]:
    removed = to_delete(place.names(), daily=settings.backup_keep_daily, weekly=settings.backup_keep_weekly)
    for name in removed:
        place.delete(name)
    return [f"{place.describe().rstrip('/')}/{name}" for name in removed]


async def restore(
    settings: Settings,
    file: Path,
    *,
    force: bool = False,
    into: URL | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Check `file` whole, then load it into the configured database (or `into`).

    Refuses — changing nothing — a damaged file, a wrong or missing key, a backup of another kind
    of database, and (without `force`) a database that already holds data.
    """
    url = into or databases.parse(settings.database_url)
    if not await asyncio.to_thread(file.is_file):
        raise BackupError(f"there is no backup at {file}")
    manifest = archive.read_manifest(file)
    kind = dumpers.kind_of(url)
    if manifest.kind != kind:
        raise BackupError(f"{file} is a {manifest.kind} backup: it cannot be restored into {kind}")
    filled = await databases.tables_with_rows(url)
    if filled and not force:
        shown = ", ".join(filled[:5]) + (", …" if len(filled) > 5 else "")
        raise BackupError(
            f"the database {url.render_as_string(hide_password=True)} already holds data ({shown}): "
            "restore into an empty database, or pass --force to replace everything in it"
        )
    with tempfile.TemporaryDirectory(prefix="kyrios-restore-") as scratch:
        dump_file = Path(scratch) / "dump"

        def bytes_done(count: int, _state: list[int] = [0]) -> None:  # noqa: B006
            _state[0] += count
            if progress is not None:
                progress(_state[0], manifest.stored_bytes)

        await asyncio.to_thread(
            archive.extract, file, dump_file, passphrase=_key(settings), on_bytes=bytes_done
        )
        if kind != "sqlite":  # the SQLite backup API replaces the whole file by itself
            await databases.drop_all(url)
        await asyncio.to_thread(dumpers.load, url, dump_file)
    return manifest


def newest_backup(directory: Path) -> Path | None:
    """The most recent backup file in `directory`."""
    if not directory.is_dir():
        return None
    dated = [(when, p) for p in directory.iterdir() if (when := made_at(p.name)) is not None]
    return max(dated)[1] if dated else None


async def invariant_problems(url: URL) -> list[str]:
    """Every broken invariant of the database at `url`: points against the ledger, the exchange's books."""
    db = Database(url.render_as_string(hide_password=False))
    try:
        async with db.read() as session:
            problems = [
                f"guild {guild} user {user}: {points} points but the ledger sums to {total}"
                for guild, user, points, total in await economy.unbalanced_accounts(session)
            ]
            problems += await invariants.check(session)
    finally:
        await db.dispose()
    return problems


async def verify_newest(settings: Settings) -> VerifyResult:
    """Restore the newest backup into a scratch database, check its invariants, record the outcome."""
    newest = newest_backup(settings.backup_dir)
    if newest is None:
        metrics.record_verify(settings.backup_dir, ok=False)
        raise BackupError(f"there is no backup in {settings.backup_dir} to verify")
    url = databases.parse(settings.database_url)
    ok = False
    try:
        with tempfile.TemporaryDirectory(prefix="kyrios-verify-") as scratch_dir:
            scratch = databases.new_scratch_url(url, Path(scratch_dir))
            await databases.create_database(scratch)
            try:
                manifest = await restore(settings, newest, into=scratch)
                problems = await invariant_problems(scratch)
            finally:
                await databases.drop_database(scratch)
        ok = not problems
        return VerifyResult(newest, manifest, problems)
    finally:
        metrics.record_verify(settings.backup_dir, ok=ok)
