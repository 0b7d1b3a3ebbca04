"""A ticket's transcript as a self-contained HTML file (what the opener gets by DM on close)."""

from __future__ import annotations

from html import escape

from kyrios.core.i18n import Translator
from kyrios.features.tickets.models import Ticket, TicketMessage

STYLE = (
    "body{font-family:sans-serif;max-width:52rem;margin:2rem auto;color:#222}"
    ".m{border-bottom:1px solid #ddd;padding:.4rem 0}.sys{color:#666;font-style:italic}"
    ".who{font-weight:bold}.at{color:#888;font-size:.8rem;margin-left:.5rem}"
)


def _attachments(row: TicketMessage) -> str:
    links = []
    for line in row.attachments.splitlines():
        name, _, url = line.partition("\t")
        links.append(f'<li><a href="{escape(url)}">{escape(name)}</a></li>')
    return f"<ul>{''.join(links)}</ul>" if links else ""


def render(ticket: Ticket, rows: list[TicketMessage], words: Translator) -> str:
    """The transcript page: the ticket's facts, then every line oldest first (system lines greyed)."""
    title = words.t("Ticket #{id}: {title}", id=ticket.id, title=ticket.title)
    facts = [
        words.t("Opened by {user} at {at}", user=ticket.opener_id, at=ticket.created_at.isoformat()),
        words.t("Closed: {reason}", reason=ticket.close_reason or "-"),
    ]
    lines = []
    for row in rows:
        who = escape(row.author_name or str(row.author_id))
        body = escape(row.content).replace("\n", "<br>")
        kind = "m sys" if row.is_system else "m"
        lines.append(
            f'<div class="{kind}"><span class="who">{who}</span>'
            f'<span class="at">{row.created_at.isoformat()}</span><div>{body}</div>{_attachments(row)}</div>'
        )
    return (
        f'<!doctype html><html lang="{escape(words.locale)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>{''.join(f'<p>{escape(f)}</p>' for f in facts)}"
        f"{''.join(lines)}</body></html>"
    )
