"""The economy slice: points, their ledger, `/points`, `/give` and `/take`."""

from kyrios.core.features import Feature
from kyrios.features.economy.commands import commands
from kyrios.features.economy.models import EconomyAccount, EconomyLedger
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.ECONOMY,
    command_sets=(commands,),
    models=(EconomyAccount, EconomyLedger),
    migrations="economy",
)
