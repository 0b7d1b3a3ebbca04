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
    embed = Embed(title=f"{target.name}'s profile", colour=Colour.INFO)
    embed.add_field("Points", f"{points:,}" + (f" (#{rank})" if rank else ""), inline=True)
    embed.add_field("Gacha pulls", f"{pulls:,}", inline=True)
    embed.add_field("Items", f"{owned.total} different", inline=True)
    embed.add_field(
        "Rarest items",
        "\n".join(f"`{rarity.value}` {name} ×{copies}" for name, rarity, copies in owned.items) or "—",
    )
    embed.add_field(
        f"Achievements ({len(unlocked)}/{len(CATALOGUE)})",
        " ".join(f"{a.emoji} {a.name}" for a, _ in unlocked) or "—",
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
        mark = f"✅ <t:{int(when.timestamp())}:d>" if when else "🔒"
        lines.append(f"{a.emoji} **{a.name}** — {a.description} {mark}")
    return Reply.embed(Embed(title=f"{target.name}'s achievements", description="\n".join(lines)))
