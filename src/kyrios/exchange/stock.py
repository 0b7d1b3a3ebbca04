"""`/stock`: the exchange from Discord, in every door (gateway, HTTP interactions, console).

The same Discord user is the same trader as on the web page: the account keyed by their Discord
id, opened as a PLAYER at first use. Every command reaches the exchange through the runtime's
`ExchangeClient` (`ctx.exchange`) and runs without a unit of work of its own (`unit_of_work=False`):
the exchange commits in its own transactions, fenced by its lease, and a process that does not run
the exchange refuses writes with the client's own message. Amounts are integer cents, shown with
`{…:cents}`; prices are typed as decimals (`101.5`) and parsed exactly.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.core.i18n import N_
from kyrios.core.ports import Upload
from kyrios.exchange import chart
from kyrios.exchange.engine import OrderType, RejectCode, Side
from kyrios.exchange.engine.risk import MarginStatus
from kyrios.exchange.models import AssetStatus, OrderStatus
from kyrios.exchange.net_worth import LEADERBOARD_PERIODS, Period
from kyrios.exchange.refusals import order_refusal
from kyrios.exchange.schemas import OrderRequest, OrderView, UserView
from kyrios.slash.options import DISCORD_MAX_INTEGER, Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.EXCHANGE)

MAX_PRICE_CENTS = 10**13
LEADERBOARD_SIZE = 10
Symbol = Annotated[str, Opt("Ticker symbol, e.g. ACME", max_length=16)]
Quantity = Annotated[int, Opt("How many shares", min_value=1, max_value=DISCORD_MAX_INTEGER)]
Price = Annotated[str | None, Opt("Limit price (e.g. 101.50); leave out for a market order", max_length=20)]

STATUS_LABELS = {
    OrderStatus.OPEN: N_("open"),
    OrderStatus.PARTIALLY_FILLED: N_("partially filled"),
    OrderStatus.FILLED: N_("filled"),
    OrderStatus.CANCELED: N_("canceled"),
    OrderStatus.REJECTED: N_("rejected"),
}
SIDE_LABELS = {Side.BUY: N_("Buy"), Side.SELL: N_("Sell")}
LEADERBOARD_TITLES = {
    Period.ALL: N_("Exchange leaderboard"),
    Period.DAY: N_("Exchange leaderboard: P&L over the last 24 hours"),
    Period.WEEK: N_("Exchange leaderboard: P&L over the last 7 days"),
}
INTERVAL_LABELS = {
    "1m": N_("1-minute bars"),
    "5m": N_("5-minute bars"),
    "1h": N_("hourly bars"),
    "1d": N_("daily bars"),
}
BAD_PRICE = N_("A price is a positive amount with at most two decimals, like 101.50; got '{price}'.")


def price_cents(text: str) -> int:
    """`"101.5"` → 10150; anything that is not a positive amount with at most two decimals is refused."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(BAD_PRICE, price=text) from None
    cents = value * 100
    if not value.is_finite() or cents != cents.to_integral_value() or not 0 < cents <= MAX_PRICE_CENTS:
        raise InvalidInput(BAD_PRICE, price=text)
    return int(cents)


def money(ctx: Context, cents: int, *, signed: bool = False) -> str:
    """An amount of cents as the reader's locale writes it (`+1,234.50` when `signed`)."""
    text = ctx.translator.fill("{cents:cents}", {"cents": cents})
    return f"+{text}" if signed and cents > 0 else text


async def trader(ctx: Context) -> UserView:
    """The invoking Discord user's exchange account, opened at first use."""
    return await ctx.exchange.trader(ctx.user_id, ctx.inv.actor.name)


def order_line(ctx: Context, order: OrderView) -> str:
    """`#12 · Buy 10 ACME @ 101.50 · 4/10 filled · partially filled`."""
    price = ctx.t("market") if order.type is OrderType.MARKET else money(ctx, order.price_cents or 0)
    return ctx.t(
        "`#{id}` {side} **{quantity}** {symbol} @ {price} · {filled}/{quantity} filled · {status}",
        id=str(order.id),
        side=ctx.t(SIDE_LABELS[order.side]),
        quantity=order.quantity,
        symbol=order.symbol,
        price=price,
        filled=order.filled_quantity,
        status=ctx.t(STATUS_LABELS[order.status]),
    )


async def place(ctx: Context, side: Side, symbol: str, quantity: int, price: str | None) -> Reply:
    """Submit a limit order (with a price) or a market order (without); answer once it is durable."""
    request = OrderRequest(
        symbol=symbol.strip().upper(),
        side=side,
        type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=quantity,
        price_cents=None if price is None else price_cents(price),
    )
    account = await trader(ctx)
    order = await ctx.exchange.submit_order(account.id, request)
    if order.status is OrderStatus.REJECTED and order.reject_reason == RejectCode.BOOK_HALTED:
        raise order_refusal(RejectCode.BOOK_HALTED, symbol=order.symbol)  # halted after intake's check
    title = ctx.t("📈 Order placed") if side is Side.BUY else ctx.t("📉 Order placed")
    colour = Colour.ERROR if order.status is OrderStatus.REJECTED else Colour.SUCCESS
    embed = Embed(title=title, description=order_line(ctx, order), colour=colour)
    cash = (await ctx.exchange.portfolio(account.id)).cash_cents
    embed.add_field(ctx.t("Free cash"), money(ctx, cash), inline=True)
    return Reply.embed(embed)


@commands.slash(
    "stock buy", "Buy shares: a limit order with a price, a market order without", unit_of_work=False
)
async def buy(ctx: Context, symbol: Symbol, quantity: Quantity, price: Price = None) -> Reply:
    """A buy order."""
    return await place(ctx, Side.BUY, symbol, quantity, price)


@commands.slash(
    "stock sell", "Sell shares: a limit order with a price, a market order without", unit_of_work=False
)
async def sell(ctx: Context, symbol: Symbol, quantity: Quantity, price: Price = None) -> Reply:
    """A sell order."""
    return await place(ctx, Side.SELL, symbol, quantity, price)


@commands.slash("stock orders", "Your open orders", unit_of_work=False)
async def orders(ctx: Context) -> Reply:
    """The invoker's open orders, newest first."""
    account = await trader(ctx)
    open_orders = await ctx.exchange.orders(account.id, open_only=True, limit=20)
    embed = Embed(
        title=ctx.t("Your open orders"),
        description="\n".join(order_line(ctx, o) for o in open_orders) or ctx.t("You have no open orders."),
        colour=Colour.INFO,
    )
    return Reply.embed(embed, ephemeral=True)


@commands.slash("stock cancel", "Cancel one of your open orders", unit_of_work=False)
async def cancel(
    ctx: Context, order_id: Annotated[int, Opt("The order's number (see /stock orders)", min_value=1)]
) -> Reply:
    """Cancel by order id; another user's order is refused like an unknown one."""
    account = await trader(ctx)
    order = await ctx.exchange.cancel_order(account.id, order_id=order_id)
    embed = Embed(title=ctx.t("Order canceled"), description=order_line(ctx, order), colour=Colour.SUCCESS)
    return Reply.embed(embed)


MARGIN_STATUS = {
    MarginStatus.OK: N_("OK: equity {equity}, initial margin {requirement}"),
    MarginStatus.WARNING: N_(
        "Warning: equity {equity} is below the initial margin {requirement} (maintenance {maintenance})"
    ),
    MarginStatus.RESTRICTED: N_(
        "Restricted: equity {equity} is below the maintenance margin {maintenance}; only orders that"
        " reduce risk are accepted"
    ),
}


@commands.slash("stock portfolio", "Your cash, positions and profit and loss", unit_of_work=False)
async def portfolio(ctx: Context) -> Reply:
    """Cash, reserved cash, positions at the last price, P&L, net worth."""
    account = await trader(ctx)
    view = await ctx.exchange.portfolio(account.id)
    embed = Embed(title=ctx.t("{name}'s portfolio", name=ctx.inv.actor.name), colour=Colour.INFO)
    embed.add_field(ctx.t("Free cash"), money(ctx, view.cash_cents), inline=True)
    embed.add_field(ctx.t("Reserved for orders"), money(ctx, view.reserved_cents), inline=True)
    embed.add_field(ctx.t("Net worth"), money(ctx, view.equity_cents), inline=True)
    if view.margin.short_value_cents:
        state = view.margin
        embed.add_field(
            ctx.t("Margin"),
            ctx.t(
                MARGIN_STATUS[state.status],
                equity=money(ctx, state.equity_cents),
                requirement=money(ctx, state.requirement_cents),
                maintenance=money(ctx, state.maintenance_cents),
            ),
            inline=False,
        )
    lines = [
        ctx.t(
            "**{symbol}** {quantity} @ {average:cents} · last {last:cents} · value {value:cents}"
            " · P&L {unrealized} (realized {realized})",
            symbol=p.symbol,
            quantity=p.quantity,
            average=p.average_price_cents,
            last=p.last_price_cents,
            value=p.market_value_cents,
            unrealized=money(ctx, p.unrealized_pnl_cents, signed=True),
            realized=money(ctx, p.realized_pnl_cents, signed=True),
        )
        for p in view.positions
    ]
    embed.description = "\n".join(lines) or ctx.t("No positions yet. Try `/stock buy`.")
    return Reply.embed(embed, ephemeral=True)


@commands.slash(
    "stock price", "A symbol's last price, 24-hour change and best bid and ask", unit_of_work=False
)
async def price(ctx: Context, symbol: Symbol) -> Reply:
    """Last price, change over 24 hours, best bid/ask with their sizes."""
    quote = await ctx.exchange.quote(symbol.strip().upper())
    depth = await ctx.exchange.depth(quote.symbol, 1)
    embed = Embed(title=ctx.t("{symbol} · {name}", symbol=quote.symbol, name=quote.name), colour=Colour.INFO)
    embed.add_field(ctx.t("Last"), money(ctx, quote.last_price_cents), inline=True)
    change = quote.change_cents
    if change is not None and quote.reference_price_cents:
        percent = Decimal(change * 100) / Decimal(quote.reference_price_cents)
        rounded = format(percent, "+.2f")
        text = ctx.t("{change} ({percent}%)", change=money(ctx, change, signed=True), percent=rounded)
    else:
        text = ctx.t("no trades yet")
    embed.add_field(ctx.t("24h change"), text, inline=True)
    none = ctx.t("none")
    bid = ctx.t("{p:cents} × {q}", p=depth.bids[0][0], q=depth.bids[0][1]) if depth.bids else none
    ask = ctx.t("{p:cents} × {q}", p=depth.asks[0][0], q=depth.asks[0][1]) if depth.asks else none
    embed.add_field(ctx.t("Best bid"), bid, inline=True)
    embed.add_field(ctx.t("Best ask"), ask, inline=True)
    footer = []
    if quote.status is not AssetStatus.TRADING:
        footer.append(ctx.t("Trading is halted; only cancels are accepted."))
    reply = Reply.embed(embed)
    window = await chart.recent_window(ctx.session, quote.symbol, ctx.now)
    if window is not None:
        png = await asyncio.to_thread(
            chart.render_png, quote.symbol, window, quote.last_price_cents, quote.change_cents
        )
        filename = f"{quote.symbol.lower()}-{window.interval.value}.png"
        description = ctx.t(
            "{symbol}: the last {count} {bars}, times in UTC",
            symbol=quote.symbol,
            count=chart.BARS,
            bars=ctx.t(INTERVAL_LABELS[window.interval.value]),
        )
        reply.files.append(Upload(filename, png, "image/png", description))
        embed.image_url = f"attachment://{filename}"
        footer.append(description)
    else:
        footer.append(ctx.t("No chart yet: nobody has traded {symbol}.", symbol=quote.symbol))
    embed.footer = "\n".join(footer)
    return reply


@commands.slash("stock leaderboard", "Top traders: net worth, or P&L in a day or week", unit_of_work=False)
async def leaderboard(
    ctx: Context,
    period: Annotated[
        Period | None, Opt("all: net worth; day or week: trading P&L in it", choices=LEADERBOARD_PERIODS)
    ] = None,
) -> Reply:
    """All time: net worth (cash plus positions at the last price), richest first. A day or a week:
    trading P&L over it (deposits and withdrawals left out), best first."""
    chosen = period or Period.ALL
    ranked = await ctx.exchange.leaderboard(LEADERBOARD_SIZE, chosen)
    lines = []
    for rank, change in enumerate(ranked, start=1):
        worth = money(ctx, change.valuation.net_worth_cents)
        if chosen is Period.ALL:
            lines.append(
                ctx.t(
                    "**{rank}.** <@{discord_id}> · {worth}",
                    rank=rank,
                    discord_id=str(change.valuation.discord_id),
                    worth=worth,
                )
            )
            continue
        percent = "" if change.change_percent is None else f" ({change.change_percent:+.2f}%)"
        lines.append(
            ctx.t(
                "**{rank}.** <@{discord_id}> · {change}{percent} · net worth {worth}",
                rank=rank,
                discord_id=str(change.valuation.discord_id),
                change=money(ctx, change.change_cents, signed=True),
                percent=percent,
                worth=worth,
            )
        )
    embed = Embed(
        title=ctx.t(LEADERBOARD_TITLES[chosen]),
        description="\n".join(lines) or ctx.t("Nobody trades yet."),
        colour=Colour.GOLD,
    )
    return Reply.embed(embed)
