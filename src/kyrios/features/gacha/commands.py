"""Gacha commands: pull, daily, rates, history, collection.

Words go through `ctx.t` / `ctx.tn` / `ctx.pt`; item names are the guild's data, shown as stored.
"""

from __future__ import annotations

from typing import Annotated

from babel.numbers import format_percent

from kyrios.core.features import Feature
from kyrios.features.achievements import service as achievements
from kyrios.features.gacha import service
from kyrios.features.gacha.models import Rarity
from kyrios.features.gacha.service import MAX_PULLS_PER_COMMAND, PullResult
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import page_turner, pager
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.GACHA)

RARITY_COLOUR = {Rarity.N: 0x95A5A6, Rarity.R: 0x3498DB, Rarity.SR: 0x9B59B6, Rarity.SSR: 0xF1C40F}
Page = Annotated[int, Opt("Page", min_value=1, max_value=100_000)]


def wake_announcer(ctx: Context, result: PullResult) -> None:
    """Unlocks are announced by the achievement relay from its outbox; tell it after the commit."""
    if result.unlocked:
        ctx.publish_after_commit(achievements.OUTBOX_WAKE, {"guild_id": ctx.guild_id})


def percent(ctx: Context, value: float) -> str:
    """A chance as the reader's locale writes percentages, two decimals (`12.50%`)."""
    return format_percent(value / 100, "#,##0.00%", locale=ctx.locale)


def tags(ctx: Context, *, free: bool, pity: bool) -> str:
    """` · free · pity` after a pull, in the reader's language."""
    words = [ctx.pt("pull", "free")] if free else []
    words += [ctx.pt("pull", "pity")] if pity else []
    return "".join(f" · {word}" for word in words)


def pull_reply(ctx: Context, result: PullResult) -> Reply:
    """Render pulls as one embed coloured by the rarest item."""
    best = max((p.rarity for p in result.pulls), key=lambda r: r.rank)
    lines = [
        f"`{p.rarity:>3}` {p.rarity.stars} **{p.item_name}**{tags(ctx, free=p.free, pity=p.pity)}"
        for p in result.pulls
    ]
    embed = Embed(
        title=ctx.t("🎲 {name} pulled", name=ctx.inv.actor.name),
        description="\n".join(lines),
        colour=RARITY_COLOUR[best],
    )
    embed.add_field(ctx.t("Spent"), ctx.tn("{n} point", "{n} points", result.points_spent), inline=True)
    embed.add_field(ctx.t("Balance"), ctx.tn("{n} point", "{n} points", result.balance), inline=True)
    if result.pulls_until_pity is not None:
        embed.add_field(
            ctx.t("Pity"),
            ctx.tn(
                "top rarity guaranteed within {n} pull",
                "top rarity guaranteed within {n} pulls",
                result.pulls_until_pity,
            ),
            inline=True,
        )
    if result.next_free_at:
        embed.footer = ctx.t("Daily free pull resets at midnight server time")
        embed.add_field(ctx.t("Next free pull"), ctx.translator.time(result.next_free_at, "R"), inline=True)
    wake_announcer(ctx, result)
    return Reply(embeds=[embed])


@commands.slash("gacha pull", "Pull from the gacha (today's free pull first, then points)")
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
        guild_locale=ctx.inv.guild_locale,
        channel_id=ctx.inv.channel_id,
    )
    return pull_reply(ctx, result)


@commands.slash("gacha daily", "Take today's free pull")
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
        guild_locale=ctx.inv.guild_locale,
        channel_id=ctx.inv.channel_id,
    )
    return pull_reply(ctx, result)


@commands.slash("gacha rates", "Every item's chance, and your pity counter")
async def rates(ctx: Context) -> Reply:
    """Published rates."""
    rules = await service.settings(ctx.session, ctx.guild_id)
    table = await service.rates(ctx.session, ctx.guild_id, ctx.now, guild_locale=ctx.inv.guild_locale)
    embed = Embed(title=ctx.t("Gacha rates"), colour=Colour.INFO)
    for rarity in sorted({r.rarity for r in table}, key=lambda r: -r.rank):
        items = [r for r in table if r.rarity == rarity]
        total = sum(r.percent for r in items)
        embed.add_field(
            f"{rarity.value} {rarity.stars} — {percent(ctx, total)}",
            "\n".join(f"{r.name}: {percent(ctx, r.percent)}" for r in items),
        )
    since = await service.pity_counter(ctx.session, ctx.guild_id, ctx.user_id)
    pity = rules.pity_threshold
    lines = [ctx.tn("A pull costs **{n}** point.", "A pull costs **{n}** points.", rules.pull_cost)]
    if rules.daily_free:
        lines.append(ctx.t("Your first pull each day (server time) is free."))
    if pity > 0:
        lines.append(
            ctx.t(
                "Pity: the top rarity is guaranteed on pull {pity} without one;"
                " you are at **{since}/{pity}**.",
                pity=pity,
                since=since,
            )
        )
    embed.description = "\n".join(lines)
    return Reply.embed(embed)


async def _history_reply(ctx: Context, owner_id: int, page: int) -> Reply:
    result = await service.history(ctx.session, ctx.guild_id, owner_id, page=page)
    lines = []
    for p in result.items:
        cost = ctx.pt("pull", "free") if p.free else ctx.t("{points} pts", points=p.cost_points)
        lines.append(
            f"`{p.rarity:>3}` **{p.item_name}** · {cost}{tags(ctx, free=False, pity=p.pity)}"
            f" · {ctx.translator.time(p.created_at, 'R')}"
        )
    embed = Embed(
        title=ctx.t("Your pulls"),
        description="\n".join(lines) or ctx.t("You have not pulled yet. Try `/gacha pull`."),
        footer=ctx.tn(
            "Page {page}/{pages} · {n} pull",
            "Page {page}/{pages} · {n} pulls",
            result.total,
            page=result.page,
            pages=result.pages,
        ),
    )
    buttons = pager("gacha-history", owner_id, result.page, result.pages, translator=ctx.translator)
    return Reply(embeds=[embed], buttons=buttons, ephemeral=True)


@commands.slash("gacha history", "Your pulls, newest first")
async def history(ctx: Context, page: Page = 1) -> Reply:
    """Paginated pull history."""
    return await _history_reply(ctx, ctx.user_id, page)


page_turner(commands, "gacha-history", _history_reply, private=True)


async def _collection_reply(ctx: Context, owner: int, page: int, name: str | None = None) -> Reply:
    result = await service.collection(ctx.session, ctx.guild_id, owner, page=page)
    number = ctx.translator.number
    lines = [
        f"`{rarity.value:>3}` {rarity.stars} **{item}** ×{number(copies)}"
        for item, rarity, copies in result.items
    ]
    whose = name or f"<@{owner}>"
    embed = Embed(
        title=ctx.t("{name}'s collection", name=whose),
        description="\n".join(lines) or ctx.t("Nothing collected yet."),
        footer=ctx.tn(
            "Page {page}/{pages} · {n} different item",
            "Page {page}/{pages} · {n} different items",
            result.total,
            page=result.page,
            pages=result.pages,
        ),
    )
    buttons = pager("gacha-collection", owner, result.page, result.pages, translator=ctx.translator)
    return Reply(embeds=[embed], buttons=buttons)


@commands.slash("gacha collection", "The items you (or another member) own")
async def collection(
    ctx: Context, user: Annotated[Actor | None, Opt("Whose collection")] = None, page: Page = 1
) -> Reply:
    """Owned items with copy counts."""
    target = user or ctx.inv.actor
    return await _collection_reply(ctx, target.id, page, target.name)


page_turner(commands, "gacha-collection", _collection_reply, private=False)
