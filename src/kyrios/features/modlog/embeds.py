"""How a log entry reads: one embed with who, what, before/after, attachments, moderator and reason."""

from __future__ import annotations

from collections.abc import Sequence

from kyrios.features.modlog.models import Attribution, LogType, ModlogEntry, ModlogNote
from kyrios.slash.reply import Colour, Embed

MAX_QUOTE = 1000

TITLES: dict[LogType, tuple[str, int]] = {
    LogType.MESSAGE_DELETE: ("🗑️ Message deleted", Colour.ERROR),
    LogType.MESSAGE_EDIT: ("✏️ Message edited", Colour.WARNING),
    LogType.MEMBER_JOIN: ("📥 Member joined", Colour.SUCCESS),
    LogType.MEMBER_LEAVE: ("📤 Member left", 0x95A5A6),
    LogType.MEMBER_BAN: ("🔨 Member banned", Colour.ERROR),
    LogType.MEMBER_UNBAN: ("🕊️ Member unbanned", Colour.SUCCESS),
    LogType.MEMBER_KICK: ("👢 Member kicked", 0xE67E22),
    LogType.MEMBER_TIMEOUT: ("⏳ Member timed out", 0xE67E22),
    LogType.ROLE_ADD: ("➕ Role added", Colour.INFO),
    LogType.ROLE_REMOVE: ("➖ Role removed", Colour.INFO),
    LogType.CHANNEL_CREATE: ("📁 Channel created", Colour.SUCCESS),
    LogType.CHANNEL_DELETE: ("🗂️ Channel deleted", Colour.ERROR),
    LogType.SYSTEM_EVENT: ("⚙️ System event", 0x95A5A6),
}


def quote(text: str | None) -> str:
    """Message content as a block that cannot ping or break the embed."""
    if text is None:
        return "*unknown (not in the message store; `/modlog store on` keeps content)*"
    if not text:
        return "*no text*"
    clipped = text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"
    return ">>> " + clipped.replace("`", "ˋ")


def moderator_line(entry: ModlogEntry) -> str | None:
    """`@mod`, or `likely @mod` when the audit log only suggests it."""
    if entry.moderator_id is None:
        return None
    if entry.attribution == Attribution.LIKELY:
        return f"likely by <@{entry.moderator_id}> (audit log: same author and channel, moments apart)"
    return f"<@{entry.moderator_id}>"


def entry_embed(entry: ModlogEntry, notes: Sequence[ModlogNote] = ()) -> Embed:
    """The log embed for one entry."""
    log_type = LogType(entry.log_type)
    title, colour = TITLES[log_type]
    embed = Embed(title=title, colour=colour, timestamp=entry.created_at)
    lines = []
    if entry.user_id is not None:
        lines.append(f"**User:** <@{entry.user_id}> (`{entry.user_id}`)")
    if entry.channel_id is not None:
        lines.append(f"**Channel:** <#{entry.channel_id}>")
    if entry.role_id is not None:
        lines.append(f"**Role:** <@&{entry.role_id}>")
    if entry.detail:
        lines.append(entry.detail)
    moderator = moderator_line(entry)
    if moderator:
        lines.append(f"**By:** {moderator}")
    embed.description = "\n".join(lines)
    if log_type == LogType.MESSAGE_EDIT:
        embed.add_field("Before", quote(entry.before))
        embed.add_field("After", quote(entry.after))
    elif log_type == LogType.MESSAGE_DELETE:
        embed.add_field("Content", quote(entry.before))
    elif entry.before is not None or entry.after is not None:
        embed.add_field("Before", entry.before or "—", inline=True)
        embed.add_field("After", entry.after or "—", inline=True)
    if entry.attachments:
        embed.add_field("Attachments", "\n".join(entry.attachments.split("\n")[:10]))
    if entry.reason:
        embed.add_field("Reason", entry.reason)
    for note in notes[-5:]:
        embed.add_field("Note", f"{note.text}\n— <@{note.author_id}>")
    embed.footer = f"Case #{entry.id}" + (f" · message {entry.message_id}" if entry.message_id else "")
    return embed


def summary_line(entry: ModlogEntry) -> str:
    """One line of a search result."""
    title = TITLES[LogType(entry.log_type)][0]
    parts = [f"`#{entry.id}` {title}", f"<t:{int(entry.created_at.timestamp())}:f>"]
    if entry.user_id is not None:
        parts.append(f"<@{entry.user_id}>")
    moderator = moderator_line(entry)
    if moderator:
        parts.append(f"by {moderator.split(' (')[0]}")
    if entry.reason:
        parts.append(f"— {entry.reason[:60]}")
    return " · ".join(parts)
