"""`/profile`: a member's standing across the economy, gacha, rumble and achievements (it follows the
economy's switch: it shows points)."""

from __future__ import annotations

from typing import Annotated

from kyrios.core.features import Feature
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import CATALOGUE
from kyrios.features.economy import service as economy
from kyrios.features.gacha import service as gacha
from kyrios.features.rumble import service as rumble
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.PROFILE, switched_by=Feature.ECONOMY)

Whose = Annotated[Actor | None, Opt("Whose profile")]


@commands.slash("profile", "Points, pulls, rarest items and achievements")
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
    fighter = await rumble.player(ctx.session, guild_id, target.id)
    wins, losses, rating = (fighter.wins, fighter.losses, fighter.rating) if fighter else (0, 0, 1000)
    embed.add_field(
        ctx.t("Rumble"),
        ctx.t("{wins}W {losses}L · rating {rating}", wins=wins, losses=losses, rating=rating),
        inline=True,
    )
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
