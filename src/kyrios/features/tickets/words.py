"""The ticket vocabulary in the reader's language (commands, the intro message, the sweeper's notices)."""

from __future__ import annotations

from kyrios.core.i18n import Translator
from kyrios.features.tickets.models import TicketCategory, TicketPriority, TicketStatus


def category_name(words: Translator, category: TicketCategory) -> str:
    """A category in the reader's language."""
    names = {
        TicketCategory.TECHNICAL: words.t("Technical"),
        TicketCategory.MODERATION: words.t("Moderation"),
        TicketCategory.GENERAL: words.t("General"),
        TicketCategory.OTHER: words.t("Other"),
    }
    return names[category]


def priority_name(words: Translator, priority: int) -> str:
    """A priority in the reader's language."""
    names = {
        TicketPriority.LOW: words.t("Low"),
        TicketPriority.MEDIUM: words.t("Medium"),
        TicketPriority.HIGH: words.t("High"),
        TicketPriority.URGENT: words.t("Urgent"),
    }
    return names[TicketPriority(priority)]


def status_name(words: Translator, status: TicketStatus) -> str:
    """A status in the reader's language."""
    names = {
        TicketStatus.OPEN: words.t("Open"),
        TicketStatus.IN_PROGRESS: words.t("In progress"),
        TicketStatus.CLOSED: words.t("Closed"),
        TicketStatus.ARCHIVED: words.t("Archived"),
    }
    return names[status]
