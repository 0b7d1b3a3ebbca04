"""`kyrios up`: migrate, take the exchange lease, then run the exchange, the web server and (with a
token) the gateway bot in one loop.

One process per database runs the exchange. A second `kyrios up` on a database whose exchange is
run by another process exits at once naming the holder (two would also run two gateway bots and
two retention jobs); with `--standby` it waits, saying who holds the lease, and starts once that
process stopped (it gives the lease up) or died (its lease expired). A process that loses its lease
stops taking orders at once and shuts down with exit code 1, so a supervisor can start it again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from types import FrameType

import uvicorn

from kyrios.core.errors import DomainError
from kyrios.core.features import Feature
from kyrios.core.migrate import upgrade
from kyrios.exchange.owner import DEFAULT_LEASE_SECONDS, DEFAULT_RENEW_SECONDS, ExchangeLease, LeaseHeld
from kyrios.features.avatars.archive import ArchiveLimits
from kyrios.features.avatars.retention import run_archive_job
from kyrios.features.modlog.retention import run_retention_job
from kyrios.ops.backup import metrics as backup_metrics
from kyrios.ops.backup.schedule import run_backup_job
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.web.main import create_app

log = logging.getLogger(__name__)


class Terminated(Exception):
    """The process got SIGTERM (after the server shut down gracefully)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@dataclass(frozen=True)
class Ownership:
    """How `kyrios up` takes the exchange lease."""

    standby: bool = False
    """Wait for the lease instead of exiting when another process holds it."""
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    renew_seconds: float = DEFAULT_RENEW_SECONDS


async def serve(settings: Settings, *, host: str, port: int, ownership: Ownership | None = None) -> int:
    """Serve until interrupted (exit code 0), or until the exchange lease is lost or held (1)."""
    ownership = ownership or Ownership()
    runtime = build_runtime(settings)
    try:
        await upgrade(runtime.db)
        lease = ExchangeLease(
            runtime.db,
            program="kyrios up",
            lease_seconds=ownership.lease_seconds,
            renew_seconds=ownership.renew_seconds,
        )
        try:
            await (lease.wait() if ownership.standby else lease.acquire())
        except LeaseHeld as held:
            log.error(
                "%s Stop it first, or start this one with --standby to take over after it.", held.message
            )
            return 1
        await runtime.start()
        restored = await runtime.run_exchange(lease)  # rebuild every order book before taking orders
        log.info("exchange: books recovered with %d resting orders", restored)
        gc.freeze()  # the recovered books and everything loaded so far live for good
        return await _serve_until_stopped(runtime, settings, lease, host=host, port=port)
    finally:
        await runtime.aclose()


async def _serve_until_stopped(
    runtime: Runtime, settings: Settings, lease: ExchangeLease, *, host: str, port: int
) -> int:
    app = create_app(runtime, inline_replies=True)  # uvicorn lets a reply path run on after its response
    config = uvicorn.Config(  # log_config=None: uvicorn's lines go through Kyrios's handler (ops.logs)
        app, host=host, port=port, log_level=settings.log_level.lower(), log_config=None
    )
    server = uvicorn.Server(config)
    lost: list[str] = []

    def stop_on_loss(reason: str) -> None:
        lost.append(reason)
        server.should_exit = True

    lease.on_lost.append(stop_on_loss)
    log.info(
        "Kyrios on http://%s:%d (database %s)",
        host,
        port,
        runtime.db.url.render_as_string(hide_password=True),
    )
    if not settings.discord_public_key:
        log.warning("KYRIOS_DISCORD_PUBLIC_KEY is unset: POST /interactions answers 503 until it is set")
    if any(m.feature is Feature.MUSIC for m in runtime.manifests) and shutil.which(settings.ffmpeg) is None:
        log.warning(
            "FFmpeg (%s) is not installed: music is unavailable, everything else works"
            " (Debian: apt-get install ffmpeg)",
            settings.ffmpeg,
        )
    stop_jobs = asyncio.Event()
    retention = asyncio.create_task(run_retention_job(runtime.db, runtime.clock, stop=stop_jobs))
    limits = ArchiveLimits(settings.avatar_image_max_bytes, settings.avatar_archive_max_bytes)
    avatar_archive = asyncio.create_task(run_archive_job(runtime.db, runtime.clock, limits, stop=stop_jobs))
    jobs = [retention, avatar_archive]
    backup_metrics.follow(settings.backup_dir)  # also what a timer-run `kyrios backup` records
    if settings.backup_schedule:
        log.info("daily backup at %s UTC into %s", settings.backup_time, settings.backup_dir)
        jobs.append(asyncio.create_task(run_backup_job(settings, runtime.clock, stop=stop_jobs)))
    bots = await _start_bots(runtime, settings, host=host, port=port)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turned into an exception, it lets the
    # exchange close and give its lease up (a standby then takes over at once, not after expiry).
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        if settings.discord_token is None:
            log.info("KYRIOS_DISCORD_TOKEN is unset: no gateway bot (HTTP interactions and the console work)")
            await server.serve()
        else:
            await _serve_with_bot(runtime, settings, server)
    except Terminated:
        log.info("stopped by SIGTERM")
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_jobs.set()
        await asyncio.gather(*jobs, _stop_bots(bots), return_exceptions=True)
    if lost:
        log.error("stopped: the exchange lease was lost (%s)", lost[0])
        return 1
    return 0


async def _start_bots(
    runtime: Runtime, settings: Settings, *, host: str, port: int
) -> asyncio.subprocess.Process | None:
    """With `settings.bots`: list the default symbols on an empty exchange, open and fund the bots'
    accounts (this process owns the exchange), then start `kyrios bots` against this server."""
    if not settings.bots:
        return None
    from kyrios.bots.provision import Mix, prepare_local_market

    try:
        count = await prepare_local_market(runtime.exchange, Mix())
    except DomainError as error:
        log.warning("bots not started: %s", error.message)
        return None
    local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - a listen address, not a bind
    url = f"http://{'[' + local + ']' if ':' in local else local}:{port}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kyrios.cli",
        "bots",
        "--url",
        url,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "KYRIOS_DATABASE_URL": settings.database_url},
    )
    log.info(
        "bots: %d agents trading against %s (pid %d; KYRIOS_BOTS=0 turns them off)", count, url, process.pid
    )
    return process


async def _stop_bots(process: asyncio.subprocess.Process | None) -> None:
    """Stop the bots' process (SIGTERM: they revoke their keys), killing it after 10 s."""
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _serve_with_bot(runtime: Runtime, settings: Settings, server: uvicorn.Server) -> None:
    from kyrios.gateway.bot import KyriosBot
    from kyrios.gateway.intents import gateway_slices, intents_of, privileged_notice

    assert settings.discord_token is not None
    intents = intents_of(gateway_slices(runtime.manifests))  # what the slices it runs listen for
    notice = privileged_notice(intents, settings.discord_application_id, runtime.manifests)
    if notice:
        log.warning(notice)
    runtime.gateway_expected = True  # not ready until the bot is connected
    bot = KyriosBot(runtime, intents=intents)
    bot_task = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
    try:
        await server.serve()
    finally:
        await bot.close()
        await asyncio.gather(bot_task, return_exceptions=True)
