"""`/avatar history` and `/avatar stats`, in the reader's language (times as the door shows them).

The history links each image to its archived copy on our web app (`/avatars/<sha256>.<ext>`) when
the archive holds it, and to the CDN URL otherwise (which Discord may no longer serve).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from kyrios.core.features import Feature
from kyrios.core.i18n import N_
from kyrios.features.avatars import archive, service
from kyrios.features.avatars.models import AvatarHistory, AvatarKind
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import pager, read_pager_args
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.AVATARS)

Whose = Annotated[Actor | None, Opt("Whose avatars (you if empty)")]
LABELS = {
    AvatarKind.AVATAR_CHANGE: N_("🖼️ avatar"),
    AvatarKind.BANNER_CHANGE: N_("🏳️ banner"),
    AvatarKind.SERVER_AVATAR_CHANGE: N_("🏠 server avatar"),
}


def _link(ctx: Context, url: str | None, *, old: bool) -> str:
    label = ctx.t("old") if old else ctx.t("new")
    if url:
        return f"[{label}]({url})"
    return ctx.t("*no {label}*", label=label)


def image_url(ctx: Context, url: str | None, sha256: str | None, archived: Mapping[str, str]) -> str | None:
    """Our archived copy of an image if we have it (`archived`: sha256 → content type), else `url`."""
    if sha256 and sha256 in archived:
        return archive.archive_url(ctx.site_url, sha256, archived[sha256])
    return url


def history_line(ctx: Context, row: AvatarHistory, archived: Mapping[str, str] | None = None) -> str:
    """One change: when, what, old → new (archived copies where kept), colour, format and size."""
    kept = archived or {}
    old = image_url(ctx, row.old_url, row.old_sha256, kept)
    new = image_url(ctx, row.new_url, row.new_sha256, kept)
    parts = [ctx.translator.time(row.changed_at, "f"), ctx.t(LABELS[row.kind])]
    parts.append(f"{_link(ctx, old, old=True)} → {_link(ctx, new, old=False)}")
    if row.dominant_color:
        parts.append(f"`{row.dominant_color}`")
    if row.image_format:
        size = " " + ctx.t("{kb:.1f} KB", kb=row.image_size / 1024) if row.image_size else ""
        parts.append(f"{row.image_format}{size}")
    return " · ".join(parts)


async def _history_reply(ctx: Context, user_id: int, page: int) -> Reply:
    result = await service.history(ctx.session, user_id, ctx.guild_id, page=page)
    archived = await archive.existing(
        ctx.session, [sha for r in result.items for sha in (r.old_sha256, r.new_sha256)]
    )
    latest = result.items[0] if result.items and result.page == 1 else None
    colour = int(latest.dominant_color[1:], 16) if latest and latest.dominant_color else Colour.INFO
    lines = "\n".join(history_line(ctx, r, archived) for r in result.items) or ctx.t("No changes seen yet.")
    embed = Embed(
        title=ctx.t("Avatar history"),
        description=f"<@{user_id}>\n{lines}",
        colour=colour,
        footer=ctx.tn(
            "Page {page}/{pages} · {n} change",
            "Page {page}/{pages} · {n} changes",
            result.total,
            page=result.page,
            pages=result.pages,
        ),
        thumbnail_url=image_url(ctx, latest.new_url, latest.new_sha256, archived) if latest else None,
    )
    buttons = pager("avatar-history", user_id, result.page, result.pages, translator=ctx.translator)
    return Reply(embeds=[embed], buttons=buttons)


@commands.slash("avatar history", "Past avatars, banners and server avatars of a member")
async def history(
    ctx: Context, user: Whose = None, page: Annotated[int, Opt("Page", min_value=1)] = 1
) -> Reply:
    """Paginated change history, newest first."""
    return await _history_reply(ctx, (user or ctx.inv.actor).id, page)


@commands.component("avatar-history")
async def history_page(ctx: Context, *args: str) -> Reply:
    """Turn a page (anyone may: avatars are public)."""
    user_id, page = read_pager_args(args)
    reply = await _history_reply(ctx, user_id, page)
    reply.update = True
    return reply


@commands.slash("avatar stats", "How often a member changes avatar and banner")
async def stats(ctx: Context, user: Whose = None) -> Reply:
    """Counts, first seen, last changes, favourite format, average interval."""
    target = user or ctx.inv.actor
    row = await service.stats_of(ctx.session, target.id)
    if row is None:
        return Reply(
            content=ctx.t("No avatar changes of {user} seen yet.", user=target.mention), ephemeral=True
        )

    def when(moment: datetime | None) -> str:
        return ctx.translator.time(moment, "R") if moment else ctx.t("never")

    number = ctx.translator.number
    embed = Embed(title=ctx.t("Avatar stats"), description=target.mention, colour=Colour.INFO)
    embed.add_field(ctx.t("Avatar changes"), number(row.total_avatar_changes), inline=True)
    embed.add_field(ctx.t("Server avatar changes"), number(row.total_server_avatar_changes), inline=True)
    embed.add_field(ctx.t("Banner changes"), number(row.total_banner_changes), inline=True)
    embed.add_field(ctx.t("First seen"), when(row.first_seen_at), inline=True)
    embed.add_field(ctx.t("Last avatar change"), when(row.last_avatar_change_at), inline=True)
    embed.add_field(ctx.t("Last banner change"), when(row.last_banner_change_at), inline=True)
    embed.add_field(ctx.t("Most used format"), row.most_used_format or ctx.t("unknown"), inline=True)
    interval = row.average_change_interval_days
    average = ctx.t("{days:.1f} days", days=interval) if interval is not None else ctx.t("needs two changes")
    embed.add_field(ctx.t("Average time between changes"), average, inline=True)
    return Reply.embed(embed)
