"""The wallet slice (no commands yet): whether members must link a wallet, and on which chains."""

from kyrios.core.features import Feature
from kyrios.features.wallet.models import WalletSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.WALLET,
    models=(WalletSettings,),
    settings=WalletSettings,
    migrations="wallet",
)
