"""`/modlog search|case|reason|note` for moderators; `/modlog config|ignore|store|status` for admins.

A new reason or note also updates the case's message in the log channel (see `posts`). Replies
are in the reader's language; event types are named as the options' choices name them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

from kyrios.core.errors import Forbidden, InvalidInput
from kyrios.core.features import Feature
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.modlog import cases, posts, service
from kyrios.features.modlog.cases import MAX_NOTE, MAX_REASON, SearchFilter
from kyrios.features.modlog.embeds import entry_embed, summary_line
from kyrios.features.modlog.models import LogType
from kyrios.slash.invocation import ADMIN_PERMISSIONS, Actor, ChannelRef, Permission
from kyrios.slash.options import DISCORD_MAX_INTEGER, Opt
from kyrios.slash.paging import pager, read_pager_args, require_owner
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Colour, Embed, Reply

commands = CommandSet(Feature.MODLOG)

MODERATOR_PERMISSIONS = (
    ADMIN_PERMISSIONS
    | Permission.VIEW_AUDIT_LOG
    | Permission.MODERATE_MEMBERS
    | Permission.KICK_MEMBERS
    | Permission.BAN_MEMBERS
)
LOG_TYPES = list(LogType)
CaseOpt = Annotated[int, Opt("Case number", min_value=1, max_value=DISCORD_MAX_INTEGER)]


class Switch(StrEnum):
    """On or off."""

    ON = "on"
    OFF = "off"


def require_moderator(ctx: Context) -> None:
    """Logs are for moderators: audit-log viewers, members who can time out, kick or ban, and admins."""
    if not ctx.inv.permissions & MODERATOR_PERMISSIONS:
        raise Forbidden("The moderation log is for moderators (View Audit Log, Timeout, Kick or Ban).")


def parse_day(text: str, what: str) -> date:
    """`YYYY-MM-DD`."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "`{option}` must be a date like 2026-03-01, not `{value}`.", option=what, value=text[:20]
        ) from None


def encode_filter(query: SearchFilter) -> str:
    """A compact token for the pager's custom id (Discord allows 100 characters)."""
    kind = LOG_TYPES.index(query.log_type) + 1 if query.log_type else 0
    since = int(query.since.timestamp()) if query.since else 0
    until = int(query.until.timestamp()) if query.until else 0
    return f"{query.user_id or 0}.{kind}.{since}.{until}"


def decode_filter(token: str) -> SearchFilter:
    """The inverse of `encode_filter`."""
    try:
        user, kind, since, until = (int(part) for part in token.split("."))
        return SearchFilter(
            user_id=user or None,
            log_type=LOG_TYPES[kind - 1] if kind else None,
            since=datetime.fromtimestamp(since, UTC) if since else None,
            until=datetime.fromtimestamp(until, UTC) if until else None,
        )
    except (ValueError, IndexError):
        raise InvalidInput("This button is broken; run the search again.") from None


def event_name(ctx: Context, log_type: LogType) -> str:
    """An event type as the `event` and `type` options' choices call it, in the reader's language."""
    return ctx.pt("choice", log_type.value)


async def _search_reply(ctx: Context, query: SearchFilter, page: int) -> Reply:
    result = await cases.search(ctx.session, ctx.guild_id, query, page=page)
    wanted = []
    if query.user_id:
        wanted.append(f"<@{query.user_id}>")
    if query.log_type:
        wanted.append(event_name(ctx, query.log_type))
    if query.since:
        wanted.append(ctx.t("since {day:d}", day=query.since))
    if query.until:
        wanted.append(ctx.t("before {day:d}", day=query.until))
    title = (
        ctx.t("Moderation log — {filters}", filters=", ".join(wanted)) if wanted else ctx.t("Moderation log")
    )
    embed = Embed(
        title=title,
        description="\n".join(summary_line(ctx.translator, e) for e in result.items)
        or ctx.t("No matching entries."),
        footer=ctx.tn(
            "Page {page}/{pages} · {n} entry · details: /modlog case <number>",
            "Page {page}/{pages} · {n} entries · details: /modlog case <number>",
            result.total,
            page=result.page,
            pages=result.pages,
        ),
    )
    buttons = pager(
        f"modlog-search:{encode_filter(query)}",
        ctx.user_id,
        result.page,
        result.pages,
        translator=ctx.translator,
    )
    return Reply(embeds=[embed], buttons=buttons, ephemeral=True)


@commands.slash("modlog search", "Search the moderation log (moderators)")
async def search(
    ctx: Context,
    user: Annotated[Actor | None, Opt("Entries about this member")] = None,
    type: Annotated[LogType | None, Opt("Only this kind of event")] = None,
    days: Annotated[int | None, Opt("Only the last N days", min_value=1, max_value=365)] = None,
    since: Annotated[str | None, Opt("From this day (YYYY-MM-DD, server time)", max_length=10)] = None,
    until: Annotated[str | None, Opt("Up to and including this day (YYYY-MM-DD)", max_length=10)] = None,
    page: Annotated[int, Opt("Page", min_value=1, max_value=100_000)] = 1,
) -> Reply:
    """Entries by member, type and time range, newest first, with page buttons."""
    require_moderator(ctx)
    zone = guild_settings.zone(await guild_settings.get(ctx.session, ctx.guild_id))
    start = end = None
    if days is not None:
        start = ctx.now - timedelta(days=days)
    if since is not None:
        start = datetime.combine(parse_day(since, "since"), time(0), tzinfo=zone)
    if until is not None:
        end = datetime.combine(parse_day(until, "until") + timedelta(days=1), time(0), tzinfo=zone)
    if start and end and start >= end:
        raise InvalidInput("`since` must be before `until`.")
    query = SearchFilter(user.id if user else None, type, start, end)
    return await _search_reply(ctx, query, page)


@commands.component("modlog-search")
async def search_page(ctx: Context, *args: str) -> Reply:
    """Turn a page of search results."""
    if len(args) < 3:
        raise InvalidInput("This button is broken; run the search again.")
    owner, page = read_pager_args(args[1:])
    require_owner(owner, ctx.user_id)
    reply = await _search_reply(ctx, decode_filter(args[0]), page)
    reply.update = True
    return reply


@commands.slash("modlog case", "Show one case with its notes (moderators)")
async def case(ctx: Context, number: CaseOpt) -> Reply:
    """One case in full."""
    require_moderator(ctx)
    entry = await cases.get_case(ctx.session, ctx.guild_id, number)
    notes = await cases.notes(ctx.session, entry.id)
    return Reply.embed(entry_embed(entry, notes, translator=ctx.translator), ephemeral=True)


def case_changed(ctx: Context, entry_id: int) -> None:
    """Once committed, the gateway bot edits the case's log message to show it."""
    ctx.publish_after_commit(posts.CASE_CHANGED, {"guild_id": ctx.guild_id, "entry_id": entry_id})


@commands.slash("modlog reason", "Set a case's reason (moderators)")
async def reason(
    ctx: Context, case: CaseOpt, text: Annotated[str, Opt("The reason", max_length=MAX_REASON)]
) -> Reply:
    """Replace the reason; the old one stays as a note."""
    require_moderator(ctx)
    entry = await cases.set_reason(ctx.session, ctx.guild_id, case, text, author_id=ctx.user_id, now=ctx.now)
    case_changed(ctx, entry.id)
    reply = ctx.t("✅ Case #{case} reason: {reason}", case=str(entry.id), reason=entry.reason)
    return Reply(content=reply, ephemeral=True)


@commands.slash("modlog note", "Add a note to a case (moderators)")
async def note(
    ctx: Context, case: CaseOpt, text: Annotated[str, Opt("The note", max_length=MAX_NOTE)]
) -> Reply:
    """Add a note; notes never overwrite each other."""
    require_moderator(ctx)
    await cases.add_note(ctx.session, ctx.guild_id, case, author_id=ctx.user_id, text=text, now=ctx.now)
    case_changed(ctx, case)
    return Reply(content=ctx.t("✅ Note added to case #{case}.", case=str(case)), ephemeral=True)


@commands.slash(
    "modlog config", "Switch an event on/off or give it its own channel (admins)", admin=True, always_on=True
)
async def config(
    ctx: Context,
    event: Annotated[LogType, Opt("The kind of event")],
    state: Annotated[Switch, Opt("Log it or not")],
    channel: Annotated[ChannelRef | None, Opt("Post this event here instead of the log channel")] = None,
    bots: Annotated[bool | None, Opt("Also log it when a bot is involved")] = None,
    shared_channel: Annotated[bool | None, Opt("Post it in the server's log channel again")] = None,
) -> Reply:
    """Per-event switch, routing and bot filter."""
    if channel is not None and shared_channel:
        raise InvalidInput("Give either `channel` or `shared_channel`, not both.")
    row = await service.configure_event(
        ctx.session,
        ctx.guild_id,
        event,
        enabled=state == Switch.ON,
        channel_id=channel.id if channel else None,
        clear_channel=bool(shared_channel),
        ignore_bots=None if bots is None else not bots,
    )
    where = await service.route(ctx.session, ctx.guild_id, event)
    name = event_name(ctx, event)
    if not row.enabled:
        return Reply(content=ctx.t("✅ **{event}** is no longer logged.", event=name), ephemeral=True)
    bots_text = ctx.t("ignoring bots") if row.ignore_bots else ctx.t("including bots")
    if where.channel_id:
        channel_mention = ChannelRef(where.channel_id).mention
        content = ctx.t(
            "✅ **{event}** is logged, posted to {channel}, {bots}.",
            event=name,
            channel=channel_mention,
            bots=bots_text,
        )
    else:
        content = ctx.t(
            "✅ **{event}** is logged, kept for /modlog search only, {bots}."
            " Set a log channel with `/settings set log_channel:`.",
            event=name,
            bots=bots_text,
        )
    return Reply(content=content, ephemeral=True)


@commands.slash(
    "modlog ignore", "Ignore a channel's messages, or stop ignoring it (admins)", admin=True, always_on=True
)
async def ignore(ctx: Context, channel: Annotated[ChannelRef, Opt("The channel")]) -> Reply:
    """Toggle an ignored channel."""
    ignored = await service.toggle_ignored_channel(ctx.session, ctx.guild_id, channel.id)
    if ignored:
        content = ctx.t("✅ Messages in {channel} are no longer stored or logged.", channel=channel.mention)
    else:
        content = ctx.t("✅ {channel} is logged again.", channel=channel.mention)
    return Reply(content=content, ephemeral=True)


@commands.slash(
    "modlog store", "Keep message content to log deletes and edits (admins)", admin=True, always_on=True
)
async def store(ctx: Context, state: Annotated[Switch, Opt("on or off")]) -> Reply:
    """Opt in to (or out of) the message store."""
    enabled = state == Switch.ON
    await service.set_message_store(ctx.session, ctx.guild_id, enabled=enabled, now=ctx.now)
    if enabled:
        days = await service.retention_days(ctx.session, ctx.guild_id)
        content = ctx.tn(
            "✅ New messages are stored for {n} day so deletes and edits show their content."
            " The bot needs the Message Content intent for this.",
            "✅ New messages are stored for {n} days so deletes and edits show their content."
            " The bot needs the Message Content intent for this.",
            days,
        )
        return Reply(content=content, ephemeral=True)
    return Reply(content=ctx.t("✅ Messages are no longer stored."), ephemeral=True)


@commands.slash("modlog status", "Which events are logged, and where (admins)", admin=True, always_on=True)
async def status(ctx: Context) -> Reply:
    """Every event's switch and channel, the ignored channels and the message store."""
    routes = await service.event_configs(ctx.session, ctx.guild_id)
    lines = []
    for log_type, route in routes.items():
        where = f"<#{route.channel_id}>" if route.channel_id else ctx.t("search only")
        mark = "✅" if route.enabled else "⛔"
        bots = " · " + ctx.t("bots ignored") if route.ignore_bots else ""
        lines.append(f"{mark} `{event_name(ctx, log_type)}` → {where}{bots}")
    ignored = await service.ignored_channels(ctx.session, ctx.guild_id)
    embed = Embed(title=ctx.t("Moderation log settings"), description="\n".join(lines), colour=Colour.INFO)
    embed.add_field(ctx.t("Ignored channels"), " ".join(f"<#{c}>" for c in ignored) or ctx.t("none"))
    stored = await service.stores_messages(ctx.session, ctx.guild_id)
    store_state = ctx.pt("choice", "on") if stored else ctx.t("off (deletes are not logged with content)")
    embed.add_field(ctx.t("Message store"), store_state)
    return Reply.embed(embed, ephemeral=True)
