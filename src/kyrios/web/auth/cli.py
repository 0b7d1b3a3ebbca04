"""`kyrios api-key …`: create and revoke API keys (of BOT accounts, or ADMIN ones) from the command line.

Keys live in the web door's own table, not in exchange state, so no exchange lease is needed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import SystemClock
from kyrios.core.db import Database
from kyrios.exchange import accounts
from kyrios.exchange.cli import run
from kyrios.web.auth import api_keys

app = typer.Typer(
    help="API keys of BOT accounts (the trading bots' credentials) and ADMIN accounts (the admin API).",
    no_args_is_help=True,
)
console = Console()


@app.command("create")
def create(
    user: Annotated[str, typer.Argument(help="The BOT or ADMIN account: username or id")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help="read or trade for a BOT, admin for an ADMIN (repeatable); default: all"
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for")] = "",
) -> None:
    """Create a key and print it: it is shown this once."""

    async def work(db: Database) -> api_keys.NewKey:
        async def unit(session: AsyncSession) -> api_keys.NewKey:
            bot = await accounts.resolve_user(session, user)
            now = SystemClock().now()
            return await api_keys.create_key(
                session, bot, scopes=scope or None, label=label, created_by=None, now=now
            )

        return await db.run(unit)

    new = run(work)
    console.print(f"API key {new.key_id} for {user} ({' '.join(new.scopes)}); shown once, keep it secret:")
    typer.echo(new.key)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (the part after kyr_)")]) -> None:
    """Revoke a key at once."""

    async def work(db: Database) -> None:
        now = SystemClock().now()
        await db.run(lambda session: api_keys.revoke_key(session, key_id, now=now))

    run(work)
    console.print(f"API key {key_id} is revoked")
