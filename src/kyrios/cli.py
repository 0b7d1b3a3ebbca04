"""The `kyrios` command line."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from kyrios import __version__
from kyrios.exchange.cli import app as exchange_app
from kyrios.ops.backup.cli import app as backup_app
from kyrios.ops.backup.cli import restore_command
from kyrios.ops.logs import configure_from
from kyrios.settings import Settings
from kyrios.web.auth.cli import app as api_key_app

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from kyrios.bots.provision import Mix

app = typer.Typer(help="Kyrios: Discord community bot and stock-market game.", no_args_is_help=True)
console = Console()
app.add_typer(exchange_app, name="exchange")
app.add_typer(api_key_app, name="api-key")
app.add_typer(backup_app, name="backup")
app.command("restore")(restore_command)

KEY_LABEL = "kyrios bots"
GuildOpt = Annotated[int, typer.Option("--guild", help="Guild id to act in")]
UserOpt = Annotated[int, typer.Option("--user", help="Your user id")]


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"kyrios {__version__}")


@app.command()
def migrate(revision: str = "heads") -> None:
    """Bring the database schema up to date."""
    from kyrios.core.migrate import upgrade_sync

    settings = Settings()
    upgrade_sync(settings.database_url, revision)
    console.print(f"[green]database migrated to {revision}[/green]")


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby", help="If another process runs the exchange, wait and take over when it stops or dies"
        ),
    ] = False,
    lease_seconds: Annotated[
        float,
        typer.Option(
            envvar="KYRIOS_EXCHANGE_LEASE_SECONDS",
            help="How long the exchange lease lasts unrenewed: a standby takes over this long after a crash",
        ),
    ] = 10.0,
    renew_seconds: Annotated[
        float,
        typer.Option(envvar="KYRIOS_EXCHANGE_RENEW_SECONDS", help="How often the lease is renewed"),
    ] = 3.0,
) -> None:
    """Migrate, take the exchange lease, then run the exchange and serve the HTTP interactions
    endpoint (and the gateway bot when a token is set)."""
    from kyrios.serve import Ownership, serve

    settings = Settings()
    configure_from(settings)
    if problems := settings.production_problems():
        typer.echo("KYRIOS_MODE=production refuses to start:", err=True)
        for problem in problems:
            typer.echo(f"- {problem}", err=True)
        raise typer.Exit(2)
    ownership = Ownership(standby=standby, lease_seconds=lease_seconds, renew_seconds=renew_seconds)
    code = asyncio.run(
        serve(settings, host=host or settings.host, port=port or settings.port, ownership=ownership)
    )
    raise typer.Exit(code)


@app.command("api")
def api_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int, typer.Option(min=1, help="API worker processes")] = 2,
    graceful_seconds: Annotated[
        int, typer.Option(help="How long a retiring worker may finish its requests before it is stopped")
    ] = 30,
) -> None:
    """Serve the web API and the interactions endpoint from worker processes, without the exchange
    or the gateway bot (`kyrios up` runs those). Run `kyrios migrate` first; SIGHUP replaces the
    workers one by one without dropping a request."""
    import uvicorn

    from kyrios.web.draining import DrainingHttpProtocol

    settings = Settings()
    configure_from(settings)
    # The supervisor binds the socket once and hands it to every worker; on SIGHUP it starts a new
    # worker, waits until it serves, then stops an old one, which finishes its requests first.
    uvicorn.run(
        "kyrios.web.main:app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        http=DrainingHttpProtocol,  # a retiring worker answers the requests already sent to it
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=graceful_seconds,
        timeout_worker_healthcheck=60,  # how long a new worker may take to start before the old one stays
    )


@app.command("bots")
def bots_command(
    url: Annotated[str, typer.Option(help="The exchange's base URL")] = "http://127.0.0.1:8000",
    seed: Annotated[int | None, typer.Option(help="Seed of the run's fair values and agents")] = None,
    minutes: Annotated[float, typer.Option(help="How long to run; 0: until stopped")] = 0.0,
    market_makers: Annotated[int, typer.Option(help="Market makers per symbol")] = 1,
    value: Annotated[int, typer.Option(help="Value traders per symbol")] = 3,
    momentum: Annotated[int, typer.Option(help="Momentum traders per symbol")] = 2,
    noise: Annotated[int, typer.Option(help="Noise traders per symbol")] = 4,
    whales: Annotated[int, typer.Option(help="Whales per symbol")] = 0,
    speed: Annotated[float, typer.Option(help="Wake the agents this many times as often")] = 1.0,
    cash: Annotated[int, typer.Option(help="Cash in cents each bot account is topped up to")] = 10**9,
    admin_key: Annotated[
        str | None,
        typer.Option(
            envvar="KYRIOS_ADMIN_KEY",
            help="An ADMIN account's API key: opens and funds the accounts through the admin API "
            "when another process runs the exchange",
        ),
    ] = None,
) -> None:
    """Run the trading bots against an exchange over its REST API, each agent with its own BOT
    account and API key (opened, funded and keyed here; the keys are revoked when it stops)."""
    import random

    from kyrios.bots.provision import Mix

    mix = Mix(market_makers, value, momentum, noise, whales, speed)
    run_seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    raise typer.Exit(asyncio.run(_run_bots(url, mix, run_seed, minutes * 60 or None, cash, admin_key)))


async def _run_bots(
    url: str, mix: Mix, seed: int, seconds: float | None, cash: int, admin_key: str | None = None
) -> int:
    """Set up the accounts and keys, run the bots with a live status table, revoke the keys."""
    import signal

    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if main is not None:  # SIGTERM (`kyrios up` stopping its bots) ends the run like Ctrl-C: keys revoked
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        return await _bots_session(url, mix, seed, seconds, cash, admin_key)
    finally:
        if main is not None:
            loop.remove_signal_handler(signal.SIGTERM)


async def _bots_session(
    url: str, mix: Mix, seed: int, seconds: float | None, cash: int, admin_key: str | None
) -> int:
    """`_run_bots` under its signal handler."""
    import httpx
    from rich.live import Live
    from rich.table import Table

    from kyrios.bots.provision import account_name, fair_value_model, listed_assets, open_accounts
    from kyrios.bots.runner import RunStats, run_live
    from kyrios.core.clock import SystemClock
    from kyrios.core.db import Database
    from kyrios.core.errors import DomainError
    from kyrios.core.migrate import upgrade
    from kyrios.exchange import accounts
    from kyrios.web.auth import api_keys

    try:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
            assets = await listed_assets(http, wait=60.0)
    except httpx.HTTPError as error:
        console.print(f"[red]the exchange at {url} does not answer: {error}[/red]")
        return 1
    if not assets:
        console.print("[red]no symbol is trading: list one with `kyrios exchange create-asset`[/red]")
        return 1
    model = fair_value_model(assets, seed)
    placed = [(agent, spec.symbol) for spec in assets for agent in mix.agents(seed, spec.symbol)]
    names = [account_name(symbol, agent) for agent, symbol in placed]
    db = Database(Settings().database_url)
    key_ids: list[str] = []
    try:
        await upgrade(db)
        try:
            await open_accounts(db, SystemClock(), names, cash, url=url, admin_key=admin_key)
        except DomainError as error:
            console.print(f"[red]{error.message}[/red]")
            console.print(
                "Open the bots' accounts while the exchange is stopped, let `kyrios up` start them, "
                "or pass --admin-key (an ADMIN account's API key) to fund them through the admin API."
            )
            return 1

        async def make_keys(session: AsyncSession) -> list[api_keys.NewKey]:
            now = SystemClock().now()
            made = []
            for name in names:
                bot = await accounts.resolve_user(session, name)
                made.append(
                    await api_keys.create_key(
                        session,
                        bot,
                        scopes=None,
                        label="kyrios bots",
                        created_by=None,
                        now=now,
                    )
                )
            return made

        keys = await db.run(make_keys)
        key_ids = [key.key_id for key in keys]
        placements = [(agent, symbol, key.key) for (agent, symbol), key in zip(placed, keys, strict=True)]
        started = asyncio.get_running_loop().time()

        def status(stats: RunStats) -> Table:
            table = Table(title=f"kyrios bots — seed {seed}, {len(placements)} agents, {url}")
            for column in ("elapsed s", "wakes", "actions", "refused", "errors", "fair values"):
                table.add_column(column)
            fair = ", ".join(f"{s}: {model.price(s) / 100:,.2f}" for s in model.symbols)
            elapsed = asyncio.get_running_loop().time() - started
            table.add_row(
                f"{elapsed:.0f}",
                str(stats.wakes),
                str(stats.actions),
                str(sum(stats.refusals.values())),
                str(stats.errors),
                fair,
            )
            return table

        with Live(status(RunStats()), console=console, refresh_per_second=2) as live:
            try:
                stats = await run_live(
                    url, model, placements, seconds=seconds, on_step=lambda s: live.update(status(s))
                )
            except asyncio.CancelledError:
                return 0
        console.print(f"[green]bots stopped: {stats.actions} actions, {stats.errors} failed calls[/green]")
        return 0
    finally:

        async def revoke(session: AsyncSession) -> None:
            for key_id in key_ids:
                await api_keys.revoke_key(session, key_id, now=SystemClock().now())

        try:
            if key_ids:
                await db.run(revoke)
        finally:
            await db.dispose()


@app.command("console")
def console_command(
    line: Annotated[
        str | None, typer.Argument(help='One command, e.g. "/gacha pull"; omit for a prompt')
    ] = None,
    guild: GuildOpt = 1,
    user: UserOpt = 42,
    admin: Annotated[bool, typer.Option("--admin", help="Act as a server admin")] = False,
    name: Annotated[str, typer.Option(help="Your display name")] = "console user",
    locale: Annotated[
        str | None, typer.Option("--locale", help="Your language: en or ja (default: the guild's)")
    ] = None,
) -> None:
    """Run slash commands locally against the same database and print the replies."""
    from kyrios.console import ConsoleSession, render_reply
    from kyrios.core.migrate import upgrade
    from kyrios.runtime import build_runtime

    async def _main() -> int:
        runtime = build_runtime()
        try:
            await upgrade(runtime.db)
            await runtime.start()
            session = ConsoleSession(
                runtime, guild_id=guild, user_id=user, admin=admin, name=name, locale=locale
            )
            if line is not None:
                reply = await session.run(line)
                render_reply(console, reply, await session.translator())
                return 1 if reply.is_error else 0
            tr = await session.translator()
            console.print(
                tr.t(
                    "{title} — type a command like {example}; {help} lists them, {quit} leaves.",
                    title="[bold]Kyrios console[/bold]",
                    example="[cyan]/gacha pull[/cyan]",
                    help="[cyan]help[/cyan]",
                    quit="[cyan]quit[/cyan]",
                )
            )
            while True:
                try:
                    typed = await asyncio.to_thread(console.input, "[bold cyan]> [/bold cyan]")
                except (EOFError, KeyboardInterrupt):
                    return 0
                typed = typed.strip()
                if typed in ("quit", "exit"):
                    return 0
                if typed == "help":
                    tr = await session.translator()
                    for command in runtime.registry.commands.values():
                        console.print(f"  [cyan]/{command.path}[/cyan] — {tr.t(command.description)}")
                    continue
                if typed:
                    reply = await session.run(typed)
                    render_reply(console, reply, await session.translator())
        finally:
            await runtime.aclose()

    raise typer.Exit(asyncio.run(_main()))


@app.command()
def cleanup() -> None:
    """Delete moderation-log entries, stored messages and avatar history older than each guild's
    retention, and the archived avatar images nothing names any more."""
    from rich.progress import Progress

    from kyrios.features.avatars.archive import ArchiveLimits
    from kyrios.features.avatars.retention import ArchivePurged, purge_archive
    from kyrios.features.modlog.retention import purge_all
    from kyrios.runtime import build_runtime

    async def _main() -> tuple[int, int, int, ArchivePurged]:
        runtime = build_runtime()
        settings = runtime.settings
        limits = ArchiveLimits(settings.avatar_image_max_bytes, settings.avatar_archive_max_bytes)
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("purging old log entries", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, total=total, completed=done)

                results = await purge_all(runtime.db, now=runtime.clock.now(), progress=advance)
            avatars = await purge_archive(runtime.db, now=runtime.clock.now(), limits=limits)
        finally:
            await runtime.aclose()
        entries = sum(r.entries for r in results)
        return len(results), entries, sum(r.messages for r in results), avatars

    guilds, entries, messages, avatars = asyncio.run(_main())
    console.print(
        f"[green]removed {entries} log entries and {messages} stored messages in {guilds} guilds[/green]"
    )
    images = avatars.unreferenced + avatars.over_limit
    console.print(f"[green]removed {avatars.history} avatar changes and {images} archived images[/green]")


@app.command("commands")
def commands_json() -> None:
    """Print the command set as Discord's application-command JSON."""
    from kyrios.runtime import build_runtime

    runtime = build_runtime()
    typer.echo(json.dumps(runtime.registry.discord_commands(), indent=2))


@app.command("sync-commands")
def sync_commands(
    guild: Annotated[int | None, typer.Option(help="Register in one guild only (instant)")] = None,
) -> None:
    """Register (bulk-overwrite) the command set with Discord."""
    from kyrios.gateway.registration import register_commands
    from kyrios.runtime import build_runtime

    runtime = build_runtime()
    count = asyncio.run(register_commands(runtime, guild_id=guild))
    console.print(f"[green]registered {count} top-level commands[/green]")


if __name__ == "__main__":
    app()
