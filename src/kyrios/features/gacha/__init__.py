"""The gacha slice: pulls, the daily free pull, pity, the item table and its admin commands."""

from kyrios.core.features import Feature
from kyrios.features.gacha.admin import commands as admin_commands
from kyrios.features.gacha.commands import commands
from kyrios.features.gacha.models import (
    GachaDailyClaim,
    GachaItem,
    GachaOwnedItem,
    GachaPull,
    GachaSettings,
    GachaStats,
)
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.GACHA,
    command_sets=(commands, admin_commands),
    models=(GachaSettings, GachaItem, GachaPull, GachaStats, GachaDailyClaim, GachaOwnedItem),
    settings=GachaSettings,
    migrations="gacha",
)
