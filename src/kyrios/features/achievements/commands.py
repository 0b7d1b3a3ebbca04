"""`/achievements`: every achievement, and which ones a member has unlocked when."""

from __future__ import annotations

from typing import Annotated

from kyrios.core.features import Feature
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import CATALOGUE
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Embed, Reply

commands = CommandSet(Feature.ACHIEVEMENTS)


@commands.slash("achievements", "Every achievement and which ones you have")
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
