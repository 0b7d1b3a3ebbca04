"""Imports every table so `Base.metadata` is complete (Alembic and tests use this)."""

import kyrios.exchange.models  # noqa: F401  (the exchange tables)
from kyrios.exchange.owner import ExchangeOwner
from kyrios.features.achievements.models import AchievementUnlock
from kyrios.features.avatars.models import AvatarHistory, AvatarStats
from kyrios.features.economy.models import EconomyAccount, EconomyLedger
from kyrios.features.gacha.models import GachaDailyClaim, GachaItem, GachaPull, GachaStats
from kyrios.features.guild_settings.models import AdminNotice, GuildSettings
from kyrios.features.modlog.models import (
    ModlogEntry,
    ModlogEventConfig,
    ModlogGuild,
    ModlogIgnoredChannel,
    ModlogMessage,
    ModlogNote,
    ModlogPost,
)

__all__ = [
    "AchievementUnlock",
    "AdminNotice",
    "AvatarHistory",
    "AvatarStats",
    "EconomyAccount",
    "EconomyLedger",
    "ExchangeOwner",
    "GachaDailyClaim",
    "GachaItem",
    "GachaPull",
    "GachaStats",
    "GuildSettings",
    "ModlogEntry",
    "ModlogEventConfig",
    "ModlogGuild",
    "ModlogIgnoredChannel",
    "ModlogMessage",
    "ModlogNote",
    "ModlogPost",
]
