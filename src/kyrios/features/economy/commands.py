"""Points commands: balance, history, leaderboard, and the admins' give/take."""

from __future__ import annotations

from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.features.economy import service
from kyrios.features.economy.service import MAX_TRANSFER, Reason
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import page_turner, pager
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet()

REASON_LABELS = {
    Reason.GRANT: "Given by an admin",
    Reason.REVOKE: "Taken by an admin",
    Reason.GACHA_PULL: "Gacha",
    Reason.RUMBLE_WIN: "Rumble win",
    Reason.RUMBLE_LOSS: "Rumble loss",
    Reason.EXCHANGE: "Exchange",
}


@commands.slash("points balance", "Show your points (or another member's)", feature="economy")
async def balance(ctx: Context, user: Annotated[Actor | None, Opt("Whose points")] = None) -> Reply:
    """Show a balance."""
    target = user or ctx.inv.actor
    points = await service.balance(ctx.session, ctx.guild_id, target.id)
    rank = await service.rank(ctx.session, ctx.guild_id, target.id)
    embed = Embed(title=f"{target.name}'s points", description=f"**{points:,}** points")
    if rank:
        embed.footer = f"Rank #{rank} on this server"
    return Reply.embed(embed)


async def _history_reply(ctx: Context, owner_id: int, page: int) -> Reply:
    result = await service.history(ctx.session, ctx.guild_id, owner_id, page=page)
    lines = []
    for row in result.items:
        sign = "+" if row.delta > 0 else "−"
        label = REASON_LABELS.get(row.reason, row.reason)  # type: ignore[call-overload]
        detail = f" — {row.detail}" if row.detail else ""
        when = f"<t:{int(row.created_at.timestamp())}:R>"
        lines.append(f"`{sign}{abs(row.delta):>9,}` → {row.balance_after:,} · {label}{detail} · {when}")
    embed = Embed(
        title="Your points history",
        description="\n".join(lines) or "No points have moved yet.",
        footer=f"Page {result.page}/{result.pages} · {result.total} entries",
    )
    return Reply(
        embeds=[embed],
        buttons=pager("points-history", owner_id, result.page, result.pages),
        ephemeral=True,
    )


@commands.slash("points history", "Every change of your points, newest first", feature="economy")
async def history(
    ctx: Context, page: Annotated[int, Opt("Page", min_value=1, max_value=100_000)] = 1
) -> Reply:
    """The member's own ledger."""
    return await _history_reply(ctx, ctx.user_id, page)


page_turner(commands, "points-history", _history_reply, feature="economy", private=True)


async def _leaderboard_reply(ctx: Context, _owner_id: int, page: int) -> Reply:
    result = await service.leaderboard(ctx.session, ctx.guild_id, page=page)
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    lines = [
        f"{medals.get(rank, f'`#{rank}`')} <@{uid}> — **{points:,}**" for rank, uid, points in result.items
    ]
    embed = Embed(
        title="Points leaderboard",
        description="\n".join(lines) or "Nobody has points yet.",
        colour=Colour.GOLD,
        footer=f"Page {result.page}/{result.pages}",
    )
    return Reply(embeds=[embed], buttons=pager("points-top", 0, result.page, result.pages))


@commands.slash("points leaderboard", "The richest members of this server", feature="economy")
async def leaderboard(
    ctx: Context, page: Annotated[int, Opt("Page", min_value=1, max_value=100_000)] = 1
) -> Reply:
    """Points leaderboard."""
    return await _leaderboard_reply(ctx, 0, page)


page_turner(commands, "points-top", _leaderboard_reply, feature="economy", private=False)


Amount = Annotated[int, Opt("Number of points", min_value=1, max_value=MAX_TRANSFER)]
Why = Annotated[str | None, Opt("Reason, shown in the member's history", max_length=150)]


@commands.slash("give", "Give points to a member (admins)", feature="economy", admin=True)
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
    )
    return Reply(content=f"✅ Gave **{amount:,}** points to {user.mention}. New balance: **{after:,}**.")


@commands.slash("take", "Take points from a member (admins)", feature="economy", admin=True)
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
    return Reply(content=f"✅ Took **{amount:,}** points from {user.mention}. New balance: **{after:,}**.")
