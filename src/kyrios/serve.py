"""`kyrios up`: migrate, then run the web server and (with a token) the gateway bot in one loop."""

from __future__ import annotations

import asyncio
import gc
import logging

import uvicorn

from kyrios.core.migrate import upgrade
from kyrios.features.modlog.retention import run_retention_job
from kyrios.runtime import build_runtime
from kyrios.settings import Settings
from kyrios.web.main import create_app

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, host: str, port: int) -> None:
    """Serve until interrupted."""
    runtime = build_runtime(settings)
    await upgrade(runtime.db)
    await runtime.start()
    restored = await runtime.exchange.start()  # rebuild every order book before taking orders
    log.info("exchange: %d books recovered, %d resting orders", len(runtime.exchange.sequencers), restored)
    gc.freeze()  # the recovered books and everything loaded so far live for good: spare them full collections
    app = create_app(runtime)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower()))
    log.info(
        "Kyrios on http://%s:%d (database %s)",
        host,
        port,
        runtime.db.url.render_as_string(hide_password=True),
    )
    if not settings.discord_public_key:
        log.warning("KYRIOS_DISCORD_PUBLIC_KEY is unset: POST /interactions answers 503 until it is set")
    stop_jobs = asyncio.Event()
    retention = asyncio.create_task(run_retention_job(runtime.db, runtime.clock, stop=stop_jobs))
    try:
        if settings.discord_token is None:
            log.info("KYRIOS_DISCORD_TOKEN is unset: no gateway bot (HTTP interactions and the console work)")
            await server.serve()
            return
        from kyrios.gateway.bot import KyriosBot
        from kyrios.gateway.intents import intents_for, privileged_notice

        intents = intents_for()
        notice = privileged_notice(intents, settings.discord_application_id)
        if notice:
            log.warning(notice)
        bot = KyriosBot(runtime, intents=intents)
        bot_task = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        try:
            await server.serve()
        finally:
            await bot.close()
            await asyncio.gather(bot_task, return_exceptions=True)
    finally:
        stop_jobs.set()
        await asyncio.gather(retention, return_exceptions=True)
        await runtime.aclose()
