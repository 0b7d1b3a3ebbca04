"""`/stock deposit`, `/stock withdraw` and `/stock config`: guild points ⇄ game cash.

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
from kyrios.features.stock.service import MAX_DAILY_LIMIT, MAX_RATE_CENTS, Transfer
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.STOCK)

BAD_CASH = N_("A cash amount is positive with at most two decimals, like 250.50; got '{cash}'.")


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


@commands.slash("stock config", "Set the points to cash rate and the daily limit (admins)", admin=True)
async def config(
    ctx: Context,
    rate: Annotated[str | None, Opt("Cash one point is worth, e.g. 1.00", max_length=20)] = None,
    daily_limit: Annotated[
        int | None,
        Opt("Points a member may convert per day, each way", min_value=0, max_value=MAX_DAILY_LIMIT),
    ] = None,
) -> Reply:
    """Change the rate and/or the limit; shows the rules now in force."""
    changes: dict[str, object] = {}
    if rate is not None:
        cents = cash_cents(rate)
        if cents > MAX_RATE_CENTS:
            raise InvalidInput("The rate is at most {maximum:cents} per point.", maximum=MAX_RATE_CENTS)
        changes["cents_per_point"] = cents
    if daily_limit is not None:
        changes["daily_limit_points"] = daily_limit
    rules = (
        await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
        if changes
        else await service.settings(ctx.session, ctx.guild_id)
    )
    return Reply(
        content=ctx.t(
            "One point converts to {rate:cents} of cash; members may convert {limit} points a day each way.",
            rate=rules.cents_per_point,
            limit=rules.daily_limit_points,
        ),
        ephemeral=True,
    )
