"""Gacha commands: pull, daily, rates, history, collection."""

from __future__ import annotations

from typing import Annotated

from kyrios.features.gacha import service
from kyrios.features.gacha.models import Rarity
from kyrios.features.gacha.service import MAX_PULLS_PER_COMMAND, PullResult
from kyrios.features.guild_settings import service as guild_settings
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import page_turner, pager
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet()

RARITY_COLOUR = {Rarity.N: 0x95A5A6, Rarity.R: 0x3498DB, Rarity.SR: 0x9B59B6, Rarity.SSR: 0xF1C40F}
Page = Annotated[int, Opt("Page", min_value=1, max_value=100_000)]


def achievement_embeds(result: PullResult) -> list[Embed]:
    """One announcement per achievement unlocked by this command."""
    return [
        Embed(
            title=f"{a.emoji} Achievement unlocked: {a.name}", description=a.description, colour=Colour.GOLD
        )
        for a in result.unlocked
    ]


def pull_reply(ctx: Context, result: PullResult) -> Reply:
    """Render pulls as one embed coloured by the rarest item."""
    best = max((Rarity(p.rarity) for p in result.pulls), key=lambda r: r.rank)
    lines = []
    for p in result.pulls:
        tags = " · free" if p.free else ""
        tags += " · pity" if p.pity else ""
        lines.append(f"`{p.rarity:>3}` {Rarity(p.rarity).stars} **{p.item_name}**{tags}")
    embed = Embed(
        title=f"🎲 {ctx.inv.actor.name} pulled", description="\n".join(lines), colour=RARITY_COLOUR[best]
    )
    embed.add_field("Spent", f"{result.points_spent:,} points", inline=True)
    embed.add_field("Balance", f"{result.balance:,} points", inline=True)
    if result.pulls_until_pity is not None:
        embed.add_field("Pity", f"top rarity guaranteed within {result.pulls_until_pity} pulls", inline=True)
    if result.next_free_at:
        embed.footer = "Daily free pull resets at midnight server time"
        embed.add_field("Next free pull", f"<t:{int(result.next_free_at.timestamp())}:R>", inline=True)
    return Reply(embeds=[embed, *achievement_embeds(result)])


@commands.slash("gacha pull", "Pull from the gacha (today's free pull first, then points)", feature="gacha")
async def pull(
    ctx: Context,
    count: Annotated[int, Opt("How many pulls", min_value=1, max_value=MAX_PULLS_PER_COMMAND)] = 1,
) -> Reply:
    """Free daily pull if available, otherwise paid pulls."""
    result = await service.pull(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        count=count,
        now=ctx.now,
        rng=ctx.rng,
        default_timezone=ctx.default_timezone,
    )
    return pull_reply(ctx, result)


@commands.slash("gacha daily", "Take today's free pull", feature="gacha")
async def daily(ctx: Context) -> Reply:
    """Only the free pull; says when the next one comes if already taken."""
    result = await service.pull(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        count=1,
        now=ctx.now,
        rng=ctx.rng,
        daily_only=True,
        default_timezone=ctx.default_timezone,
    )
    return pull_reply(ctx, result)


@commands.slash("gacha rates", "Every item's chance, and your pity counter", feature="gacha")
async def rates(ctx: Context) -> Reply:
    """Published rates."""
    settings = await guild_settings.get(ctx.session, ctx.guild_id)
    table = await service.rates(ctx.session, ctx.guild_id, ctx.now)
    embed = Embed(title="Gacha rates", colour=Colour.INFO)
    for rarity in sorted({r.rarity for r in table}, key=lambda r: -r.rank):
        items = [r for r in table if r.rarity == rarity]
        total = sum(r.percent for r in items)
        embed.add_field(
            f"{rarity.value} {rarity.stars} — {total:.2f}%",
            "\n".join(f"{r.name}: {r.percent:.2f}%" for r in items),
        )
    since = await service.pity_counter(ctx.session, ctx.guild_id, ctx.user_id)
    pity = settings.gacha_pity_threshold
    lines = [f"A pull costs **{settings.gacha_pull_cost:,}** points."]
    if settings.gacha_daily_free:
        lines.append("Your first pull each day (server time) is free.")
    if pity > 0:
        lines.append(
            f"Pity: the top rarity is guaranteed on pull {pity} without one; you are at **{since}/{pity}**."
        )
    embed.description = "\n".join(lines)
    return Reply.embed(embed)


async def _history_reply(ctx: Context, owner_id: int, page: int) -> Reply:
    result = await service.history(ctx.session, ctx.guild_id, owner_id, page=page)
    lines = [
        f"`{p.rarity:>3}` **{p.item_name}** · {'free' if p.free else f'{p.cost_points:,} pts'}"
        f"{' · pity' if p.pity else ''} · <t:{int(p.created_at.timestamp())}:R>"
        for p in result.items
    ]
    embed = Embed(
        title="Your pulls",
        description="\n".join(lines) or "You have not pulled yet. Try `/gacha pull`.",
        footer=f"Page {result.page}/{result.pages} · {result.total} pulls",
    )
    return Reply(
        embeds=[embed], buttons=pager("gacha-history", owner_id, result.page, result.pages), ephemeral=True
    )


@commands.slash("gacha history", "Your pulls, newest first", feature="gacha")
async def history(ctx: Context, page: Page = 1) -> Reply:
    """Paginated pull history."""
    return await _history_reply(ctx, ctx.user_id, page)


page_turner(commands, "gacha-history", _history_reply, feature="gacha", private=True)


async def _collection_reply(ctx: Context, owner: int, page: int, name: str | None = None) -> Reply:
    result = await service.collection(ctx.session, ctx.guild_id, owner, page=page)
    lines = [
        f"`{rarity.value:>3}` {rarity.stars} **{item}** ×{copies}" for item, rarity, copies in result.items
    ]
    embed = Embed(
        title=f"{name or f'<@{owner}>'}'s collection",
        description="\n".join(lines) or "Nothing collected yet.",
        footer=f"Page {result.page}/{result.pages} · {result.total} different items",
    )
    return Reply(embeds=[embed], buttons=pager("gacha-collection", owner, result.page, result.pages))


@commands.slash("gacha collection", "The items you (or another member) own", feature="gacha")
async def collection(
    ctx: Context, user: Annotated[Actor | None, Opt("Whose collection")] = None, page: Page = 1
) -> Reply:
    """Owned items with copy counts."""
    target = user or ctx.inv.actor
    return await _collection_reply(ctx, target.id, page, target.name)


page_turner(commands, "gacha-collection", _collection_reply, feature="gacha", private=False)
