"""The tickets slice: support tickets in private channels, with their own transcripts, a panel and stats."""

from kyrios.core.features import Feature
from kyrios.features.tickets.commands import commands
from kyrios.features.tickets.models import Ticket, TicketBlacklist, TicketMessage, TicketsSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.TICKETS,
    command_sets=(commands,),
    cog="kyrios.features.tickets.cog",
    intents=frozenset({"guilds", "guild_messages", "message_content"}),
    models=(TicketsSettings, Ticket, TicketMessage, TicketBlacklist),
    settings=TicketsSettings,
    migrations="tickets",
)
