"""The economy slice: points, their ledger, `/points`, `/give`, `/take`, and earning (`/daily`, `/pay`,
activity through its cog, role multipliers)."""

from kyrios.core.features import Feature
from kyrios.features.economy.commands import commands
from kyrios.features.economy.earn_commands import commands as earn_commands
from kyrios.features.economy.models import (
    EconomyAccount,
    EconomyLedger,
    EconomyMember,
    EconomyRoleMultiplier,
    EconomySettings,
)
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.ECONOMY,
    command_sets=(commands, earn_commands),
    cog="kyrios.features.economy.cog",
    intents=frozenset({"guilds", "guild_messages", "voice_states"}),
    models=(EconomyAccount, EconomyLedger, EconomySettings, EconomyRoleMultiplier, EconomyMember),
    settings=EconomySettings,
    migrations="economy",
)
