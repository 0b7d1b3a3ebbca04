"""How a log entry reads: one embed with who, what, before/after, attachments, moderator and reason.

Rendered with a translator: the reader's for `/modlog case` and search results, the guild's
(`guild_settings.guild_translator`) for what is posted in a log channel.
"""

from __future__ import annotations

from collections.abc import Sequence

from kyrios.core.i18n import N_, Translator
from kyrios.features.modlog.models import Attribution, LogType, ModlogEntry, ModlogNote
from kyrios.features.modlog.stored_text import shown
from kyrios.slash.reply import Colour, Embed

MAX_QUOTE = 1000

TITLES: dict[LogType, tuple[str, int]] = {
    LogType.MESSAGE_DELETE: (N_("🗑️ Message deleted"), Colour.ERROR),
    LogType.MESSAGE_EDIT: (N_("✏️ Message edited"), Colour.WARNING),
    LogType.MEMBER_JOIN: (N_("📥 Member joined"), Colour.SUCCESS),
    LogType.MEMBER_LEAVE: (N_("📤 Member left"), 0x95A5A6),
    LogType.MEMBER_BAN: (N_("🔨 Member banned"), Colour.ERROR),
    LogType.MEMBER_UNBAN: (N_("🕊️ Member unbanned"), Colour.SUCCESS),
    LogType.MEMBER_KICK: (N_("👢 Member kicked"), 0xE67E22),
    LogType.MEMBER_TIMEOUT: (N_("⏳ Member timed out"), 0xE67E22),
    LogType.ROLE_ADD: (N_("➕ Role added"), Colour.INFO),
    LogType.ROLE_REMOVE: (N_("➖ Role removed"), Colour.INFO),
    LogType.CHANNEL_CREATE: (N_("📁 Channel created"), Colour.SUCCESS),
    LogType.CHANNEL_DELETE: (N_("🗂️ Channel deleted"), Colour.ERROR),
    LogType.SYSTEM_EVENT: (N_("⚙️ System event"), 0x95A5A6),
}


def quote(t: Translator, text: str | None) -> str:
    """Message content as a block that cannot ping or break the embed."""
    if text is None:
        return t.t("*unknown (not in the message store; `/modlog store on` keeps content)*")
    if not text:
        return t.t("*no text*")
    clipped = text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"
    return ">>> " + clipped.replace("`", "ˋ")


def moderator_line(t: Translator, entry: ModlogEntry) -> str | None:
    """`@mod`, or `likely by @mod` and why when the audit log only suggests it."""
    if entry.moderator_id is None:
        return None
    moderator = f"<@{entry.moderator_id}>"
    if entry.attribution is not Attribution.LIKELY:
        return moderator
    return t.t(
        "likely by {moderator} (audit log: same author and channel, moments apart)", moderator=moderator
    )


def entry_embed(entry: ModlogEntry, notes: Sequence[ModlogNote] = (), *, translator: Translator) -> Embed:
    """The log embed for one entry, in the translator's language."""
    t = translator.t
    title, colour = TITLES[entry.log_type]
    embed = Embed(title=t(title), colour=colour, timestamp=entry.created_at)
    lines = []
    if entry.user_id is not None:
        user = f"<@{entry.user_id}>"  # mentions are built outside messages (Babel skips f-strings)
        lines.append(t("**User:** {user} (`{id}`)", user=user, id=str(entry.user_id)))
    if entry.channel_id is not None:
        channel = f"<#{entry.channel_id}>"
        lines.append(t("**Channel:** {channel}", channel=channel))
    if entry.role_id is not None:
        role = f"<@&{entry.role_id}>"
        lines.append(t("**Role:** {role}", role=role))
    detail = shown(entry.detail, translator)
    if detail:
        lines.append(detail)
    moderator = moderator_line(translator, entry)
    if moderator:
        lines.append(t("**By:** {moderator}", moderator=moderator))
    embed.description = "\n".join(lines)
    if entry.log_type is LogType.MESSAGE_EDIT:
        embed.add_field(t("Before"), quote(translator, entry.before))
        embed.add_field(t("After"), quote(translator, entry.after))
    elif entry.log_type is LogType.MESSAGE_DELETE:
        embed.add_field(t("Content"), quote(translator, entry.before))
    elif entry.before is not None or entry.after is not None:  # Kyrios's words (a timeout's states)
        embed.add_field(t("Before"), shown(entry.before, translator) or "—", inline=True)
        embed.add_field(t("After"), shown(entry.after, translator) or "—", inline=True)
    if entry.attachments:
        embed.add_field(t("Attachments"), "\n".join(entry.attachments.split("\n")[:10]))
    if entry.reason:
        embed.add_field(t("Reason"), entry.reason)
    for note in notes[-5:]:
        embed.add_field(t("Note"), f"{shown(note.text, translator)}\n— <@{note.author_id}>")
    if entry.message_id:
        embed.footer = t(
            "Case #{case} · message {message}", case=str(entry.id), message=str(entry.message_id)
        )
    else:
        embed.footer = t("Case #{case}", case=str(entry.id))
    return embed


def summary_line(translator: Translator, entry: ModlogEntry) -> str:
    """One line of a search result."""
    title = translator.t(TITLES[entry.log_type][0])
    parts = [f"`#{entry.id}` {title}", translator.time(entry.created_at, "f")]
    if entry.user_id is not None:
        parts.append(f"<@{entry.user_id}>")
    if entry.moderator_id is not None:
        moderator = f"<@{entry.moderator_id}>"
        if entry.attribution is Attribution.LIKELY:
            parts.append(translator.t("likely by {moderator}", moderator=moderator))
        else:
            parts.append(translator.t("by {moderator}", moderator=moderator))
    if entry.reason:
        parts.append(f"— {entry.reason[:60]}")
    return " · ".join(parts)
