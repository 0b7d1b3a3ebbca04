"""Points commands: balance, history, leaderboard, and the admins' give/take.

Every word goes through `ctx.t` / `ctx.tn` (the reader's language); numbers and times outside a
sentence through `ctx.translator.number` / `ctx.translator.time`.
"""

from __future__ import annotations

from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.core.i18n import N_
from kyrios.features.economy import earning, service
from kyrios.features.economy.service import MAX_TRANSFER, Period, Reason
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import page_turner, pager
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.ECONOMY)

REASON_LABELS = {
    Reason.GRANT: N_("Given by an admin"),
    Reason.REVOKE: N_("Taken by an admin"),
    Reason.GACHA_PULL: N_("Gacha"),
    Reason.RUMBLE_WIN: N_("Rumble win"),
    Reason.RUMBLE_LOSS: N_("Rumble loss"),
    Reason.RUMBLE_STAKE: N_("Rumble stake"),
    Reason.EXCHANGE: N_("Exchange"),
    Reason.DAILY: N_("Daily reward"),
    Reason.PAY_SENT: N_("Paid to"),
    Reason.PAY_RECEIVED: N_("Received from"),
    Reason.MESSAGE_ACTIVITY: N_("Chat activity"),
    Reason.VOICE_ACTIVITY: N_("Voice activity"),
}
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


@commands.slash("points balance", "Show your points (or another member's)")
async def balance(ctx: Context, user: Annotated[Actor | None, Opt("Whose points")] = None) -> Reply:
    """Show a balance."""
    target = user or ctx.inv.actor
    points = await service.balance(ctx.session, ctx.guild_id, target.id)
    rank = await service.rank(ctx.session, ctx.guild_id, target.id)
    embed = Embed(
        title=ctx.t("{name}'s points", name=target.name),
        description=ctx.tn("**{n}** point", "**{n}** points", points),
    )
    if rank:
        embed.footer = ctx.t("Rank #{rank} on this server", rank=rank)
    return Reply.embed(embed)


async def _history_reply(ctx: Context, owner_id: int, page: int) -> Reply:
    result = await service.history(ctx.session, ctx.guild_id, owner_id, page=page)
    number, time = ctx.translator.number, ctx.translator.time
    lines = []
    for row in result.items:
        sign = "+" if row.delta > 0 else "−"
        detail = f" — {row.detail}" if row.detail else ""
        lines.append(
            f"`{sign}{number(abs(row.delta)):>9}` → {number(row.balance_after)}"
            f" · {ctx.t(REASON_LABELS[row.reason])}{detail} · {time(row.created_at, 'R')}"
        )
    embed = Embed(
        title=ctx.t("Your points history"),
        description="\n".join(lines) or ctx.t("No points have moved yet."),
        footer=ctx.tn(
            "Page {page}/{pages} · {n} entry",
            "Page {page}/{pages} · {n} entries",
            result.total,
            page=result.page,
            pages=result.pages,
        ),
    )
    return Reply(
        embeds=[embed],
        buttons=pager("points-history", owner_id, result.page, result.pages, translator=ctx.translator),
        ephemeral=True,
    )


@commands.slash("points history", "Every change of your points, newest first")
async def history(
    ctx: Context, page: Annotated[int, Opt("Page", min_value=1, max_value=100_000)] = 1
) -> Reply:
    """The member's own ledger."""
    return await _history_reply(ctx, ctx.user_id, page)


page_turner(commands, "points-history", _history_reply, private=True)


async def _leaderboard_reply(ctx: Context, period: Period, page: int) -> Reply:
    if period is Period.ALL:
        result = await service.leaderboard(ctx.session, ctx.guild_id, page=page)
        title, empty = ctx.t("Points leaderboard"), ctx.t("Nobody has points yet.")
    else:
        tz = await earning.zone(ctx.session, ctx.guild_id, ctx.default_timezone)
        since = service.period_start(period, ctx.now, tz)
        assert since is not None
        result = await service.earned_leaderboard(ctx.session, ctx.guild_id, since, page=page)
        if period is Period.WEEK:
            title, empty = ctx.t("Points earned this week"), ctx.t("Nobody has earned points this week.")
        else:
            title, empty = ctx.t("Points earned this month"), ctx.t("Nobody has earned points this month.")
    number = ctx.translator.number
    lines = [
        f"{MEDALS.get(rank, f'`#{rank}`')} <@{uid}> — **{number(points)}**"
        for rank, uid, points in result.items
    ]
    embed = Embed(
        title=title,
        description="\n".join(lines) or empty,
        colour=Colour.GOLD,
        footer=ctx.t("Page {page}/{pages}", page=result.page, pages=result.pages),
    )
    buttons = pager(BOARD_BUTTONS[period], 0, result.page, result.pages, translator=ctx.translator)
    return Reply(embeds=[embed], buttons=buttons)


@commands.slash(
    "points leaderboard", "The members with the most points, or who earned most this week or month"
)
async def leaderboard(
    ctx: Context,
    period: Annotated[Period, Opt("week, month or all time (the default)")] = Period.ALL,
    page: Annotated[int, Opt("Page", min_value=1, max_value=100_000)] = 1,
) -> Reply:
    """Points leaderboard: balances for all time, credits from the ledger for a week or month."""
    return await _leaderboard_reply(ctx, period, page)


BOARD_BUTTONS = {Period.ALL: "points-top", Period.WEEK: "points-top-week", Period.MONTH: "points-top-month"}
"""Each board's page buttons (`points-top` as before: buttons already posted keep turning)."""
for _period, _prefix in BOARD_BUTTONS.items():

    async def _turn(ctx: Context, _owner_id: int, page: int, period: Period = _period) -> Reply:
        return await _leaderboard_reply(ctx, period, page)

    page_turner(commands, _prefix, _turn, private=False)


Amount = Annotated[int, Opt("Number of points", min_value=1, max_value=MAX_TRANSFER)]
Why = Annotated[str | None, Opt("Reason, shown in the member's history", max_length=150)]


@commands.slash("give", "Give points to a member (admins)", admin=True)
async def give(
    ctx: Context, user: Annotated[Actor, Opt("Who gets the points")], amount: Amount, reason: Why = None
) -> Reply:
    """Grant points, ledgered with the admin as actor."""
    if user.is_bot:
        raise InvalidInput("Bots cannot hold points.")
    after = await service.credit(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=user.id,
        amount=amount,
        reason=Reason.GRANT,
        detail=reason or "",
        actor_id=ctx.user_id,
        now=ctx.now,
        channel_id=ctx.inv.channel_id,
    )
    return Reply(
        content=ctx.tn(
            "✅ Gave **{n}** point to {user}. New balance: **{balance}**.",
            "✅ Gave **{n}** points to {user}. New balance: **{balance}**.",
            amount,
            user=user.mention,
            balance=after,
        )
    )


@commands.slash("take", "Take points from a member (admins)", admin=True)
async def take(
    ctx: Context, user: Annotated[Actor, Opt("Who loses the points")], amount: Amount, reason: Why = None
) -> Reply:
    """Remove points, never below zero."""
    after = await service.debit(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=user.id,
        amount=amount,
        reason=Reason.REVOKE,
        detail=reason or "",
        actor_id=ctx.user_id,
        now=ctx.now,
    )
    return Reply(
        content=ctx.tn(
            "✅ Took **{n}** point from {user}. New balance: **{balance}**.",
            "✅ Took **{n}** points from {user}. New balance: **{balance}**.",
            amount,
            user=user.mention,
            balance=after,
        )
    )
