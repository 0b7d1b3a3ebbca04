"""The exchange as a slice: its tables, migration branch and the `/stock` commands.

Kept out of `kyrios/exchange/__init__.py` so that importing the pure `engine` stays light.
"""

from kyrios.core.features import Feature
from kyrios.exchange.models import (
    ExchangeAsset,
    ExchangeCandle,
    ExchangeCash,
    ExchangeCashLedger,
    ExchangeExecution,
    ExchangeNetWorth,
    ExchangeOrder,
    ExchangePosition,
    ExchangeSettings,
    ExchangeUser,
)
from kyrios.exchange.owner import ExchangeOwner
from kyrios.exchange.stock import commands as stock_commands
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.EXCHANGE,
    command_sets=(stock_commands,),
    models=(
        ExchangeUser,
        ExchangeSettings,
        ExchangeAsset,
        ExchangeOrder,
        ExchangeExecution,
        ExchangeCandle,
        ExchangePosition,
        ExchangeCash,
        ExchangeCashLedger,
        ExchangeNetWorth,
        ExchangeOwner,
    ),
    migrations="exchange",
)
