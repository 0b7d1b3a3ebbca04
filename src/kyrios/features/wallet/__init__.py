"""The wallet slice: link a crypto wallet (ETH, SOL) by signing a one-time challenge; gate features on it."""

from kyrios.core.features import Feature
from kyrios.features.wallet.commands import commands, require_wallet
from kyrios.features.wallet.models import WalletChallenge, WalletLink, WalletRoleGrant, WalletSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.WALLET,
    command_sets=(commands,),
    cog="kyrios.features.wallet.cog",
    intents=frozenset({"guilds"}),
    models=(WalletSettings, WalletChallenge, WalletLink, WalletRoleGrant),
    settings=WalletSettings,
    migrations="wallet",
    guard=require_wallet,
)
