"""`/avatar history` and `/avatar stats`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from kyrios.features.avatars import service
from kyrios.features.avatars.models import AvatarHistory, AvatarKind
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import pager, read_pager_args
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet()

FEATURE = service.FEATURE
Whose = Annotated[Actor | None, Opt("Whose avatars (you if empty)")]
LABELS = {
    AvatarKind.AVATAR_CHANGE: "🖼️ avatar",
    AvatarKind.BANNER_CHANGE: "🏳️ banner",
    AvatarKind.SERVER_AVATAR_CHANGE: "🏠 server avatar",
}


def _link(url: str | None, label: str) -> str:
    return f"[{label}]({url})" if url else f"*no {label}*"


def history_line(row: AvatarHistory) -> str:
    """One change: when, what, old → new, colour, format and size."""
    parts = [f"<t:{int(row.changed_at.timestamp())}:f>", LABELS[AvatarKind(row.kind)]]
    parts.append(f"{_link(row.old_url, 'old')} → {_link(row.new_url, 'new')}")
    if row.dominant_color:
        parts.append(f"`{row.dominant_color}`")
    if row.image_format:
        size = f" {row.image_size / 1024:.1f} KB" if row.image_size else ""
        parts.append(f"{row.image_format}{size}")
    return " · ".join(parts)


async def _history_reply(ctx: Context, user_id: int, page: int) -> Reply:
    result = await service.history(ctx.session, user_id, ctx.guild_id, page=page)
    latest = result.items[0] if result.items and result.page == 1 else None
    colour = int(latest.dominant_color[1:], 16) if latest and latest.dominant_color else Colour.INFO
    embed = Embed(
        title="Avatar history",
        description=f"<@{user_id}>\n"
        + ("\n".join(history_line(r) for r in result.items) or "No changes seen yet."),
        colour=colour,
        footer=f"Page {result.page}/{result.pages} · {result.total} changes",
        thumbnail_url=latest.new_url if latest else None,
    )
    return Reply(embeds=[embed], buttons=pager("avatar-history", user_id, result.page, result.pages))


@commands.slash("avatar history", "Past avatars, banners and server avatars of a member", feature=FEATURE)
async def history(
    ctx: Context, user: Whose = None, page: Annotated[int, Opt("Page", min_value=1)] = 1
) -> Reply:
    """Paginated change history, newest first."""
    return await _history_reply(ctx, (user or ctx.inv.actor).id, page)


@commands.component("avatar-history", feature=FEATURE)
async def history_page(ctx: Context, *args: str) -> Reply:
    """Turn a page (anyone may: avatars are public)."""
    user_id, page = read_pager_args(args)
    reply = await _history_reply(ctx, user_id, page)
    reply.update = True
    return reply


@commands.slash("avatar stats", "How often a member changes avatar and banner", feature=FEATURE)
async def stats(ctx: Context, user: Whose = None) -> Reply:
    """Counts, first seen, last changes, favourite format, average interval."""
    target = user or ctx.inv.actor
    row = await service.stats_of(ctx.session, target.id)
    if row is None:
        return Reply(content=f"No avatar changes of <@{target.id}> seen yet.", ephemeral=True)

    def when(moment: datetime | None) -> str:
        return f"<t:{int(moment.timestamp())}:R>" if moment else "never"

    embed = Embed(title="Avatar stats", description=f"<@{target.id}>", colour=Colour.INFO)
    embed.add_field("Avatar changes", str(row.total_avatar_changes), inline=True)
    embed.add_field("Server avatar changes", str(row.total_server_avatar_changes), inline=True)
    embed.add_field("Banner changes", str(row.total_banner_changes), inline=True)
    embed.add_field("First seen", when(row.first_seen_at), inline=True)
    embed.add_field("Last avatar change", when(row.last_avatar_change_at), inline=True)
    embed.add_field("Last banner change", when(row.last_banner_change_at), inline=True)
    embed.add_field("Most used format", row.most_used_format or "unknown", inline=True)
    interval = row.average_change_interval_days
    embed.add_field(
        "Average time between changes",
        f"{interval:.1f} days" if interval is not None else "needs two changes",
        inline=True,
    )
    return Reply.embed(embed)
