"""The daily backup inside `kyrios up` (when `KYRIOS_BACKUP_SCHEDULE` is on): back up at
`KYRIOS_BACKUP_TIME` (UTC), then restore the new backup into a scratch database and check it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from kyrios.core.clock import Clock
from kyrios.ops.backup.flows import create_backup, verify_newest
from kyrios.settings import Settings

log = logging.getLogger(__name__)


def next_run(after: datetime, at: str) -> datetime:
    """The first `HH:MM` (UTC) strictly after `after`."""
    hour, minute = (int(part) for part in at.split(":"))
    slot = after.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return slot if slot > after else slot + timedelta(days=1)


async def run_backup_job(settings: Settings, clock: Clock, *, stop: asyncio.Event) -> None:
    """Back up and verify once a day until `stop` is set; a failure is logged (and shows in the
    metrics: no new success time, `kyrios_backup_verify_ok` 0) and the next day tries again."""
    done: datetime | None = None
    while not stop.is_set():
        now = clock.now()
        slot = next_run(max(now, done) if done else now, settings.backup_time)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max((slot - now).total_seconds(), 0.0))
            return
        done = slot
        try:
            made = await create_backup(settings, now=clock.now())
            log.info("backup: %s (%d bytes)", made.path, made.path.stat().st_size)
            verified = await verify_newest(settings)
            if verified.ok:
                log.info("backup: %s restores and its invariants hold", verified.path)
            else:
                log.error("backup: %s restores but: %s", verified.path, "; ".join(verified.problems))
        except Exception:
            log.exception("backup failed; the next one runs at %s UTC tomorrow", settings.backup_time)
