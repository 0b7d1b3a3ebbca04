"""`/achievements`: every achievement and which ones a member has unlocked when;
`/achievement role`: the role a guild grants with one (admins)."""

from __future__ import annotations

from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import CATALOGUE
from kyrios.slash.invocation import Actor, RoleRef
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


@commands.slash("achievement role", "Grant a role with an achievement (admins)", admin=True)
async def achievement_role(
    ctx: Context,
    achievement: Annotated[str, Opt("The achievement's code, e.g. rumble_master")],
    role: Annotated[RoleRef | None, Opt("The role to grant")] = None,
    no_role: Annotated[bool | None, Opt("Stop granting a role with it")] = None,
) -> Reply:
    """Set or clear the role granted with an achievement from now on."""
    if (role is None) == (not no_role):
        raise InvalidInput("Give either `role` or `no_role`.")
    found = await achievements.set_role(ctx.session, ctx.guild_id, achievement, role.id if role else None)
    name = ctx.t(found.name)
    if role is None:
        return Reply(content=ctx.t("✅ **{name}** grants no role any more.", name=name))
    return Reply(content=ctx.t("✅ **{name}** now grants {role}.", name=name, role=role.mention))
