"""`kyrios exchange …`: list and manage symbols, users and cash; show a book; check the invariants.

Every command talks to the exchange through an `ExchangeClient`. Reads come from the database.
A write takes the exchange lease for the moment of the command when no process runs the
exchange (and gives it back after); while another process (`kyrios up`) runs it, writes are
refused with a message naming it and change nothing: nothing writes behind the owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kyrios.core.clock import SystemClock
from kyrios.core.db import Database
from kyrios.core.errors import DomainError
from kyrios.core.migrate import upgrade
from kyrios.exchange import invariants
from kyrios.exchange.client import DetachedClient, ExchangeClient, briefly_owned
from kyrios.exchange.models import AssetStatus, AssetType, Role
from kyrios.exchange.rules import TUNABLE, ExchangeRules
from kyrios.exchange.schemas import AssetListing, PortfolioView
from kyrios.settings import Settings

app = typer.Typer(
    help="The stock exchange: symbols, users, cash, books and invariants.", no_args_is_help=True
)
console = Console()
T = TypeVar("T")


def money(cents: int) -> str:
    """Cents as a readable amount."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the configured database (migrated), run `work`, turn domain errors into a clear exit."""

    async def main() -> T:
        db = Database(Settings().database_url)
        try:
            await upgrade(db)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None


def read(work: Callable[[ExchangeClient], Awaitable[T]]) -> T:
    """Run `work` with a client that reads (from the database)."""

    async def main(db: Database) -> T:
        return await work(DetachedClient(db, SystemClock()))

    return run(main)


def write(command: str, work: Callable[[ExchangeClient], Awaitable[T]]) -> T:
    """Run `work` with a client that may write: under the exchange lease, taken for this command
    if nobody holds it; refused (exit 1) while another process runs the exchange."""

    async def main(db: Database) -> T:
        async with briefly_owned(db, SystemClock(), program=f"kyrios exchange {command}") as client:
            return await work(client)

    return run(main)


@app.command("assets")
def list_assets() -> None:
    """List every symbol."""
    rows = read(lambda client: client.assets())
    table = Table("symbol", "name", "type", "sector", "tick", "last", "supply", "status", title="Assets")
    for a in rows:
        status = f"[green]{a.status}[/green]" if a.status == AssetStatus.TRADING else f"[red]{a.status}[/red]"
        table.add_row(
            a.symbol,
            a.name,
            a.type,
            a.sector,
            money(a.tick_size_cents),
            money(a.last_price_cents),
            f"{a.issued_supply:,}",
            status,
        )
    console.print(table)


@app.command("create-asset")
def create_asset(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. OMNI")],
    name: Annotated[str, typer.Option(help="Full name")],
    supply: Annotated[int, typer.Option(help="Units issued to the market account")],
    price: Annotated[int, typer.Option(help="First price in cents")] = 10_000,
    asset_type: Annotated[AssetType, typer.Option("--type", help="STOCK, BOND or FOREX")] = AssetType.STOCK,
    tick: Annotated[int, typer.Option(help="Tick size in cents")] = 1,
    sector: Annotated[str, typer.Option(help="Sector")] = "",
    max_quantity: Annotated[int, typer.Option(help="Largest order in units")] = 1_000_000,
    max_notional: Annotated[int, typer.Option(help="Largest order value in cents")] = 10**12,
) -> None:
    """List a new symbol; the market account holds its whole supply."""
    listing = AssetListing(
        symbol=symbol,
        name=name,
        type=asset_type,
        tick_size_cents=tick,
        supply=supply,
        price_cents=price,
        sector=sector,
        max_quantity=max_quantity,
        max_notional_cents=max_notional,
    )
    write("create-asset", lambda client: client.create_asset(listing))
    console.print(f"[green]listed {symbol}: {supply:,} units at {money(price)}[/green]")


def _set_status(command: str, symbol: str, status: AssetStatus) -> None:
    write(command, lambda client: client.set_status(symbol, status))
    console.print(f"[green]{symbol} is now {status.value}[/green]")


@app.command()
def halt(symbol: str) -> None:
    """Stop new orders in a symbol (cancels still work)."""
    _set_status("halt", symbol, AssetStatus.HALTED)


@app.command()
def resume(symbol: str) -> None:
    """Let a halted symbol trade again."""
    _set_status("resume", symbol, AssetStatus.TRADING)


def _print_rules(rules: ExchangeRules) -> None:
    table = Table("rule", "value", "meaning")
    for name, (_, _, meaning) in TUNABLE.items():
        table.add_row(
            name,
            f"{int(getattr(rules, name)) if name == 'liquidation_enabled' else getattr(rules, name):g}",
            meaning,
        )
    console.print(table)


@app.command("rules")
def show_rules() -> None:
    """The risk and pacing rules in force (`set-rules` changes them)."""

    _print_rules(read(lambda client: client.rules()))


@app.command("set-rules")
def set_rules(
    max_short: Annotated[int | None, typer.Option(help="Units below zero a user may hold (margin)")] = None,
    collar_bps: Annotated[int | None, typer.Option(help="Market order collar, basis points")] = None,
    orders_per_second: Annotated[float | None, typer.Option(help="New orders per user per second")] = None,
    burst: Annotated[int | None, typer.Option(help="New orders a user may send at once")] = None,
    initial_margin_bps: Annotated[
        int | None, typer.Option(help="Free cash a short sell holds, bps of its notional (15000 = 150 %)")
    ] = None,
    maintenance_margin_bps: Annotated[
        int | None, typer.Option(help="Equity below this share of the shorts' value restricts (bps)")
    ] = None,
    liquidation: Annotated[
        bool | None, typer.Option("--liquidation/--no-liquidation", help="Buy back shorts below maintenance")
    ] = None,
) -> None:
    """Change risk and pacing rules; a running exchange applies them from its next batch."""

    changes = {
        "max_short_quantity": max_short,
        "market_collar_bps": collar_bps,
        "orders_per_second": orders_per_second,
        "order_burst": burst,
        "initial_margin_bps": initial_margin_bps,
        "maintenance_margin_bps": maintenance_margin_bps,
        "liquidation_enabled": liquidation,
    }
    _print_rules(write("set-rules", lambda client: client.change_rules(**changes)))


@app.command("create-user")
def create_user(
    username: str,
    role: Annotated[Role, typer.Option(help="ADMIN, PLAYER or BOT")] = Role.PLAYER,
    discord_id: Annotated[int | None, typer.Option(help="Discord user id")] = None,
) -> None:
    """Open an exchange account."""

    async def work(client: ExchangeClient) -> int:
        return (await client.create_user(username, role=role, discord_id=discord_id)).id

    user_id = write("create-user", work)
    console.print(f"[green]created {username} (id {user_id})[/green]")


@app.command()
def deposit(user: Annotated[str, typer.Argument(help="Username or id")], cents: int) -> None:
    """Give a user game cash (ledgered)."""

    async def work(client: ExchangeClient) -> int:
        account = await client.find_user(user)
        return await client.deposit(account.id, cents, detail="admin deposit")

    free = write("deposit", work)
    console.print(f"[green]deposited {money(cents)}; {user} now has {money(free)} free[/green]")


@app.command()
def withdraw(user: Annotated[str, typer.Argument(help="Username or id")], cents: int) -> None:
    """Take free game cash from a user (ledgered)."""

    async def work(client: ExchangeClient) -> int:
        account = await client.find_user(user)
        return await client.withdraw(account.id, cents, detail="admin")

    free = write("withdraw", work)
    console.print(f"[green]withdrew {money(cents)}; {user} now has {money(free)} free[/green]")


@app.command()
def users() -> None:
    """List every account with its cash."""
    rows = read(lambda client: client.users())
    table = Table("id", "username", "role", "discord id", "cash", "reserved", title="Exchange users")
    for user in rows:
        table.add_row(
            str(user.id),
            user.username,
            user.role,
            str(user.discord_id or ""),
            money(user.cash_cents),
            money(user.reserved_cents),
        )
    console.print(table)


@app.command()
def portfolio(user: Annotated[str, typer.Argument(help="Username or id")]) -> None:
    """Show a user's cash, positions and P&L."""

    async def work(client: ExchangeClient) -> PortfolioView:
        return await client.portfolio((await client.find_user(user)).id)

    view = read(work)
    console.print(
        f"[bold]{view.username}[/bold]: cash {money(view.cash_cents)}, "
        f"reserved {money(view.reserved_cents)}, equity {money(view.equity_cents)}"
    )
    table = Table("symbol", "quantity", "avg price", "last", "realised", "unrealised", "reserved")
    for p in view.positions:
        table.add_row(
            p.symbol,
            f"{p.quantity:,}",
            money(p.average_price_cents),
            money(p.last_price_cents),
            money(p.realized_pnl_cents),
            money(p.unrealized_pnl_cents),
            f"{p.reserved_quantity:,}",
        )
    console.print(table)


@app.command()
def book(symbol: str, levels: Annotated[int, typer.Option(help="Price levels per side")] = 10) -> None:
    """Show the depth of a symbol's book (resting orders, from the database)."""

    bids, asks = read(lambda client: client.book(symbol, levels))
    table = Table("orders", "bid qty", "bid", "ask", "ask qty", "orders", title=f"{symbol} book")
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        table.add_row(
            str(bid.orders) if bid else "",
            f"{bid.quantity:,}" if bid else "",
            f"[green]{money(bid.price_cents)}[/green]" if bid else "",
            f"[red]{money(ask.price_cents)}[/red]" if ask else "",
            f"{ask.quantity:,}" if ask else "",
            str(ask.orders) if ask else "",
        )
    console.print(table)


@app.command("rebuild-candles")
def rebuild_candles(
    symbol: Annotated[str | None, typer.Option(help="Only this symbol (default: every symbol)")] = None,
) -> None:
    """Recompute the candles from the executions (e.g. after `check` reported a wrong bar)."""
    written = write("rebuild-candles", lambda client: client.rebuild_candles(symbol))
    console.print(f"[green]wrote {written:,} candles[/green]")


@app.command()
def check() -> None:
    """Check every exchange invariant; exit 1 if any is broken."""

    async def work(db: Database) -> list[str]:
        async with db.read() as session:
            return await invariants.check(session)

    problems = run(work)
    if problems:
        for problem in problems:
            console.print(f"[red]✗ {problem}[/red]")
        raise typer.Exit(1)
    console.print("[green]✓ all exchange invariants hold[/green]")
