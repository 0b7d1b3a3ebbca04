"""The exchange as a slice: its tables and migration branch (no slash commands yet).

Kept out of `kyrios/exchange/__init__.py` so that importing the pure `engine` stays light.
"""

from kyrios.core.features import Feature
from kyrios.exchange.models import (
    ExchangeAsset,
    ExchangeCandle,
    ExchangeCash,
    ExchangeCashLedger,
    ExchangeExecution,
    ExchangeOrder,
    ExchangePosition,
    ExchangeSettings,
    ExchangeUser,
)
from kyrios.exchange.owner import ExchangeOwner
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.EXCHANGE,
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
        ExchangeOwner,
    ),
    migrations="exchange",
)
