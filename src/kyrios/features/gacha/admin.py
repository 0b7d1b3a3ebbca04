"""Admin commands for the gacha table and its costs (words through `ctx.t`, names as stored)."""

from __future__ import annotations

from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.features.gacha import service
from kyrios.features.gacha.commands import percent
from kyrios.features.gacha.models import Rarity
from kyrios.features.gacha.service import MAX_WEIGHT
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Embed, Reply

commands = CommandSet(Feature.GACHA)

ItemName = Annotated[str, Opt("Item name", max_length=64)]
MAX_PULL_COST = 1_000_000
MAX_PITY = 1_000


@commands.slash("gacha item add", "Add an item to this server's gacha (admins)", admin=True)
async def item_add(
    ctx: Context,
    name: ItemName,
    rarity: Annotated[Rarity, Opt("Rarity")],
    weight: Annotated[int, Opt("Relative weight (higher = more common)", min_value=1, max_value=MAX_WEIGHT)],
) -> Reply:
    """Add or re-activate an item."""
    item = await service.add_item(
        ctx.session,
        ctx.guild_id,
        name=name,
        rarity=rarity,
        weight=weight,
        now=ctx.now,
        guild_locale=ctx.inv.guild_locale,
    )
    return Reply(
        content=ctx.t(
            "✅ Added **{name}** ({rarity}, weight {weight}). See `/gacha rates`.",
            name=item.name,
            rarity=item.rarity,
            weight=item.weight,
        )
    )


@commands.slash("gacha item remove", "Remove an item from this server's gacha (admins)", admin=True)
async def item_remove(ctx: Context, name: ItemName) -> Reply:
    """Deactivate an item; history keeps it."""
    item = await service.remove_item(
        ctx.session, ctx.guild_id, name=name, now=ctx.now, guild_locale=ctx.inv.guild_locale
    )
    return Reply(
        content=ctx.t("✅ Removed **{name}** from the gacha. Pulls already made keep it.", name=item.name)
    )


@commands.slash("gacha item list", "List this server's gacha items with weights (admins)", admin=True)
async def item_list(ctx: Context) -> Reply:
    """Items with their weights and chances."""
    table = await service.rates(ctx.session, ctx.guild_id, ctx.now, guild_locale=ctx.inv.guild_locale)
    lines = [
        f"`{r.rarity.value:>3}` **{r.name}** — "
        + ctx.t("weight {weight} ({chance})", weight=r.weight, chance=percent(ctx, r.percent))
        for r in table
    ]
    embed = Embed(title=ctx.t("Gacha items"), description="\n".join(lines) or ctx.t("No items."))
    return Reply.embed(embed, ephemeral=True)


@commands.slash("gacha config", "Set pull cost, pity and the daily free pull (admins)", admin=True)
async def config(
    ctx: Context,
    cost: Annotated[int | None, Opt("Points per paid pull", min_value=1, max_value=MAX_PULL_COST)] = None,
    pity: Annotated[
        int | None, Opt("Pulls until the top rarity is guaranteed (0 = off)", min_value=0, max_value=MAX_PITY)
    ] = None,
    daily_free: Annotated[bool | None, Opt("Whether the first pull each day is free")] = None,
) -> Reply:
    """Change gacha settings."""
    changes: dict[str, object] = {}
    if cost is not None:
        changes["pull_cost"] = cost
    if pity is not None:
        changes["pity_threshold"] = pity
    if daily_free is not None:
        changes["daily_free"] = daily_free
    if not changes:
        raise InvalidInput("Give at least one of `cost`, `pity`, `daily_free`.")
    rules = await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
    threshold = rules.pity_threshold
    pity_text = (
        ctx.tn("every {n} pull", "every {n} pulls", threshold) if threshold else ctx.pt("choice", "off")
    )
    return Reply(
        content=ctx.tn(
            "✅ Gacha settings: cost **{n}** point, pity {pity}, daily free pull {daily_free}.",
            "✅ Gacha settings: cost **{n}** points, pity {pity}, daily free pull {daily_free}.",
            rules.pull_cost,
            pity=pity_text,
            daily_free=ctx.pt("choice", "on") if rules.daily_free else ctx.pt("choice", "off"),
        )
    )
