"""The `kyrios` command line."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

import typer
from rich.console import Console

from kyrios import __version__
from kyrios.exchange.cli import app as exchange_app
from kyrios.settings import Settings
from kyrios.web.auth.cli import app as api_key_app

app = typer.Typer(help="Kyrios: Discord community bot and stock-market game.", no_args_is_help=True)
console = Console()
app.add_typer(exchange_app, name="exchange")
app.add_typer(api_key_app, name="api-key")

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
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ownership = Ownership(standby=standby, lease_seconds=lease_seconds, renew_seconds=renew_seconds)
    code = asyncio.run(
        serve(settings, host=host or settings.host, port=port or settings.port, ownership=ownership)
    )
    raise typer.Exit(code)


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
    """Delete moderation-log entries and stored messages older than each guild's retention."""
    from rich.progress import Progress

    from kyrios.features.modlog.retention import purge_all
    from kyrios.runtime import build_runtime

    async def _main() -> tuple[int, int, int]:
        runtime = build_runtime()
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("purging old log entries", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, total=total, completed=done)

                results = await purge_all(runtime.db, now=runtime.clock.now(), progress=advance)
        finally:
            await runtime.aclose()
        return len(results), sum(r.entries for r in results), sum(r.messages for r in results)

    guilds, entries, messages = asyncio.run(_main())
    console.print(
        f"[green]removed {entries} log entries and {messages} stored messages in {guilds} guilds[/green]"
    )


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
