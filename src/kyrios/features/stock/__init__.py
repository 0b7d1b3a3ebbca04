"""The stock bank slice: guild points ⇄ exchange game cash (`/stock deposit|withdraw|config`), and
the market's notifications to a guild channel (its cog runs `notify.MarketNotifier`)."""

from kyrios.core.features import Feature
from kyrios.features.stock.commands import commands
from kyrios.features.stock.models import StockSettings, StockTransfer
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.STOCK,
    command_sets=(commands,),
    cog="kyrios.features.stock.cog",
    models=(StockSettings, StockTransfer),
    settings=StockSettings,
    migrations="stock",
)
