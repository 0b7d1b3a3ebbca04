"""`/profile` and `/achievements`: a member's standing across the economy, gacha and achievements."""

from __future__ import annotations

from typing import Annotated

from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import CATALOGUE
from kyrios.features.economy import service as economy
from kyrios.features.gacha import service as gacha
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet()

Whose = Annotated[Actor | None, Opt("Whose profile")]


@commands.slash("profile", "Points, pulls, rarest items and achievements", feature="economy")
async def profile(ctx: Context, user: Whose = None) -> Reply:
    """A member's profile card."""
    target = user or ctx.inv.actor
    guild_id = ctx.guild_id
    points = await economy.balance(ctx.session, guild_id, target.id)
    rank = await economy.rank(ctx.session, guild_id, target.id)
    pulls = await gacha.total_pulls(ctx.session, guild_id, target.id)
    owned = await gacha.collection(ctx.session, guild_id, target.id, page=1, per_page=3)
    unlocked = await achievements.unlocked(ctx.session, guild_id, target.id)
    number = ctx.translator.number
    embed = Embed(title=ctx.t("{name}'s profile", name=target.name), colour=Colour.INFO)
    standing = ctx.t("{points} (#{rank})", points=points, rank=rank) if rank else number(points)
    embed.add_field(ctx.t("Points"), standing, inline=True)
    embed.add_field(ctx.t("Gacha pulls"), number(pulls), inline=True)
    embed.add_field(ctx.t("Items"), ctx.t("{n} different", n=owned.total), inline=True)
    embed.add_field(
        ctx.t("Rarest items"),
        "\n".join(f"`{rarity.value}` {name} ×{number(copies)}" for name, rarity, copies in owned.items)
        or "—",
    )
    embed.add_field(
        ctx.t("Achievements ({have}/{total})", have=len(unlocked), total=len(CATALOGUE)),
        " ".join(f"{a.emoji} {ctx.t(a.name)}" for a, _ in unlocked) or "—",
    )
    return Reply.embed(embed)


@commands.slash("achievements", "Every achievement and which ones you have", feature="achievements")
async def achievement_list(
    ctx: Context, user: Annotated[Actor | None, Opt("Whose achievements")] = None
) -> Reply:
    """The achievement catalogue with unlock dates."""
    target = user or ctx.inv.actor
    have = {a.code: at for a, at in await achievements.unlocked(ctx.session, ctx.guild_id, target.id)}
    lines = []
    for a in CATALOGUE.values():
        when = have.get(a.code)
        mark = f"✅ {ctx.translator.time(when, 'd')}" if when else "🔒"
        lines.append(f"{a.emoji} **{ctx.t(a.name)}** — {ctx.t(a.description)} {mark}")
    title = ctx.t("{name}'s achievements", name=target.name)
    return Reply.embed(Embed(title=title, description="\n".join(lines)))
