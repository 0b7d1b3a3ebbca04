"""The command sets of every feature, in the order they are registered."""

from __future__ import annotations

from kyrios.features.avatars.commands import commands as avatar_commands
from kyrios.features.economy.commands import commands as economy_commands
from kyrios.features.gacha.admin import commands as gacha_admin_commands
from kyrios.features.gacha.commands import commands as gacha_commands
from kyrios.features.guild_settings.commands import commands as guild_settings_commands
from kyrios.features.modlog.commands import commands as modlog_commands
from kyrios.features.profile.commands import commands as profile_commands
from kyrios.slash.registry import CommandSet

COMMAND_SETS: tuple[CommandSet, ...] = (
    economy_commands,
    gacha_commands,
    gacha_admin_commands,
    profile_commands,
    guild_settings_commands,
    modlog_commands,
    avatar_commands,
)
