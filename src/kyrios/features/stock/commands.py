"""`/stock deposit`, `/stock withdraw` and `/stock config`: guild points ⇄ game cash, and where the
market's big moves and members' large trades are announced (`kyrios.features.stock.notify`).

They share the `/stock` group with the exchange's trading commands (`kyrios.exchange.stock`) but
belong to this slice, which may use the economy (the exchange may not: they are siblings). The
exchange is reached only through `ctx.exchange`, whose `*_within` writes join this command's
transaction, fenced by the exchange's lease.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.core.i18n import N_
from kyrios.features.economy.service import MAX_TRANSFER
from kyrios.features.stock import service
from kyrios.features.stock.models import StockSettings
from kyrios.features.stock.service import MAX_DAILY_LIMIT, MAX_RATE_CENTS, MAX_WINDOW_MINUTES, Transfer
from kyrios.slash.invocation import ChannelRef
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.STOCK)

BAD_CASH = N_("A cash amount is positive with at most two decimals, like 250.50; got '{cash}'.")
BAD_PERCENT = N_(
    "A move is a percentage between 0 and 100 with at most two decimals, like 2.5; got '{percent}'."
)


def cash_cents(text: str) -> int:
    """`"250.5"` → 25050, exactly; anything else is refused."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(BAD_CASH, cash=text) from None
    cents = value * 100
    if not value.is_finite() or cents != cents.to_integral_value() or not 0 < cents <= 10**13:
        raise InvalidInput(BAD_CASH, cash=text)
    return int(cents)


def transfer_reply(ctx: Context, title: str, done: Transfer) -> Reply:
    """Both balances after the conversion, and what is left of today's limit."""
    money = ctx.translator.fill
    embed = Embed(title=title, colour=Colour.SUCCESS)
    embed.add_field(ctx.t("Points"), ctx.tn("{n} point", "{n} points", done.points), inline=True)
    embed.add_field(ctx.t("Cash"), money("{c:cents}", {"c": done.cash_cents}), inline=True)
    embed.add_field(ctx.t("Balance"), ctx.tn("{n} point", "{n} points", done.points_after), inline=True)
    embed.add_field(ctx.t("Free cash"), money("{c:cents}", {"c": done.cash_after_cents}), inline=True)
    embed.footer = ctx.tn(
        "{n} point left to convert today this way",
        "{n} points left to convert today this way",
        done.left_today,
    )
    return Reply.embed(embed)


@commands.slash("stock deposit", "Turn server points into game cash for the exchange")
async def deposit(
    ctx: Context, points: Annotated[int, Opt("Points to convert", min_value=1, max_value=MAX_TRANSFER)]
) -> Reply:
    """Points out of the economy, cash into the exchange, in this command's one transaction."""
    done = await service.deposit(
        ctx.session,
        ctx.exchange,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        name=ctx.inv.actor.name,
        points=points,
        now=ctx.now,
        default_timezone=ctx.default_timezone,
        guild_locale=ctx.inv.guild_locale,
    )
    return transfer_reply(ctx, ctx.t("💱 Points converted to cash"), done)


@commands.slash("stock withdraw", "Turn free game cash back into server points")
async def withdraw(
    ctx: Context, cash: Annotated[str, Opt("Cash to convert, e.g. 250.00", max_length=20)]
) -> Reply:
    """Cash out of the exchange, points into the economy, in this command's one transaction."""
    done = await service.withdraw(
        ctx.session,
        ctx.exchange,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        cash_cents=cash_cents(cash),
        now=ctx.now,
        default_timezone=ctx.default_timezone,
        guild_locale=ctx.inv.guild_locale,
    )
    return transfer_reply(ctx, ctx.t("💱 Cash converted to points"), done)


def basis_points(text: str) -> int:
    """`"2.5"` (per cent) → 250; refused unless 0–100 with at most two decimals."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation:
        raise InvalidInput(BAD_PERCENT, percent=text) from None
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= 10_000:
        raise InvalidInput(BAD_PERCENT, percent=text)
    return int(bp)


def cash_or_zero(text: str) -> int:
    """A cash amount, where `0` means "off"."""
    return 0 if text.strip() in ("0", "0.0", "0.00") else cash_cents(text)


@commands.slash(
    "stock config",
    "Set the points to cash rate, the daily limit and market notifications (admins)",
    admin=True,
)
async def config(
    ctx: Context,
    rate: Annotated[str | None, Opt("Cash one point is worth, e.g. 1.00", max_length=20)] = None,
    daily_limit: Annotated[
        int | None,
        Opt("Points a member may convert per day, each way", min_value=0, max_value=MAX_DAILY_LIMIT),
    ] = None,
    notify_channel: Annotated[
        ChannelRef | None, Opt("Channel for big market moves and members' large trades")
    ] = None,
    notify_off: Annotated[bool | None, Opt("True: stop market notifications")] = None,
    move_percent: Annotated[
        str | None, Opt("Announce a move of at least this many percent, e.g. 5 (0: never)", max_length=8)
    ] = None,
    move_window: Annotated[
        int | None,
        Opt(
            "Minutes a move is measured over (also the least time between two)",
            min_value=1,
            max_value=MAX_WINDOW_MINUTES,
        ),
    ] = None,
    trade_alert: Annotated[
        str | None,
        Opt("Announce members' trades worth at least this cash, e.g. 5000 (0: never)", max_length=20),
    ] = None,
) -> Reply:
    """Change any of the settings; shows the rules now in force."""
    changes: dict[str, object] = {}
    if rate is not None:
        cents = cash_cents(rate)
        if cents > MAX_RATE_CENTS:
            raise InvalidInput("The rate is at most {maximum:cents} per point.", maximum=MAX_RATE_CENTS)
        changes["cents_per_point"] = cents
    if daily_limit is not None:
        changes["daily_limit_points"] = daily_limit
    if notify_channel is not None:
        changes["notify_channel_id"] = notify_channel.id
    if notify_off:
        changes["notify_channel_id"] = None
    if move_percent is not None:
        changes["move_alert_bp"] = basis_points(move_percent)
    if move_window is not None:
        changes["move_window_minutes"] = move_window
    if trade_alert is not None:
        changes["trade_alert_cents"] = cash_or_zero(trade_alert)
    rules = (
        await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
        if changes
        else await service.settings(ctx.session, ctx.guild_id)
    )
    lines = [
        ctx.t(
            "One point converts to {rate:cents} of cash; members may convert {limit} points a day each way.",
            rate=rules.cents_per_point,
            limit=rules.daily_limit_points,
        ),
        notification_rules(ctx, rules),
    ]
    return Reply(content="\n".join(lines), ephemeral=True)


def notification_rules(ctx: Context, rules: StockSettings) -> str:
    """Where and what the market announces, in the reader's words."""
    if rules.notify_channel_id is None:
        return ctx.t("Market notifications are off; choose a channel with `notify_channel`.")
    moves = (
        ctx.t(
            "moves of {percent}% or more within {minutes} minutes",
            percent=format(Decimal(rules.move_alert_bp) / 100, "f"),
            minutes=rules.move_window_minutes,
        )
        if rules.move_alert_bp
        else ctx.t("no price moves")
    )
    trades = (
        ctx.t("members' trades worth {cash:cents} or more", cash=rules.trade_alert_cents)
        if rules.trade_alert_cents
        else ctx.t("no trades")
    )
    return ctx.t(
        "Market notifications go to <#{channel_id}>: {moves}; {trades}.",
        channel_id=str(rules.notify_channel_id),
        moves=moves,
        trades=trades,
    )
