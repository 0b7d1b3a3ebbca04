"""The list of slices. Every registry is derived from it: the commands a runtime answers, the tables
`Base.metadata` holds (Alembic and the tests use it), the gateway's cogs and intents, the feature
switches. Adding a slice: its folder with a `MANIFEST`, a `Feature` member, one line here, and a
migration on its own labelled branch (docs/migrations.md).

The list is checked at import: every `Feature` has exactly one manifest, no command path, button
prefix or table belongs to two slices, and a command is only switched off by a switchable feature.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import Table

from kyrios.core.features import Feature
from kyrios.exchange.manifest import MANIFEST as EXCHANGE
from kyrios.features import (
    achievements,
    auto_role,
    avatars,
    economy,
    gacha,
    guild_settings,
    modlog,
    music,
    profile,
    rumble,
    stock,
    tickets,
    wallet,
)
from kyrios.slash.manifest import SliceManifest
from kyrios.slash.registry import CommandSet

MANIFESTS: tuple[SliceManifest, ...] = (
    economy.MANIFEST,
    gacha.MANIFEST,
    achievements.MANIFEST,
    profile.MANIFEST,
    guild_settings.MANIFEST,
    modlog.MANIFEST,
    avatars.MANIFEST,
    auto_role.MANIFEST,
    tickets.MANIFEST,
    rumble.MANIFEST,
    wallet.MANIFEST,
    music.MANIFEST,
    EXCHANGE,
    stock.MANIFEST,
)


def check(manifests: Sequence[SliceManifest]) -> None:
    """Raise ValueError naming the problem when the list does not describe each slice exactly once."""
    problems: list[str] = []
    features = Counter(manifest.feature for manifest in manifests)
    problems += [f"{feature} has {n} manifests" for feature, n in features.items() if n > 1]
    problems += [f"{feature} has no manifest" for feature in Feature if feature not in features]
    commands = [command for cs in command_sets(manifests) for command in cs.commands]
    buttons = [component for cs in command_sets(manifests) for component in cs.components]
    problems += _duplicates("command /", (command.path for command in commands))
    problems += _duplicates("button prefix ", (component.prefix for component in buttons))
    problems += _duplicates("table ", (table.name for table in tables(manifests)))
    switchable = {manifest.feature for manifest in manifests if manifest.toggleable}
    for command in commands:
        if command.switch is not None and command.switch not in switchable:
            problems.append(f"/{command.path} is switched by {command.switch}, which cannot be switched")
    for component in buttons:
        if component.switch is not None and component.switch not in switchable:
            problems.append(f"button {component.prefix} is switched by {component.switch}, which cannot be")
    if problems:
        raise ValueError("the list of slices is inconsistent: " + "; ".join(problems))


def _duplicates(label: str, names: Iterable[str]) -> list[str]:
    return [f"{label}{name} is declared {n} times" for name, n in Counter(names).items() if n > 1]


def command_sets(manifests: Iterable[SliceManifest] = MANIFESTS) -> tuple[CommandSet, ...]:
    """Every command set, in the order of the list (the order Discord shows nothing depends on)."""
    return tuple(command_set for manifest in manifests for command_set in manifest.command_sets)


def tables(manifests: Iterable[SliceManifest] = MANIFESTS) -> tuple[Table, ...]:
    """Every slice's tables."""
    return tuple(table for manifest in manifests for table in manifest.tables)


def cog_modules(manifests: Iterable[SliceManifest] = MANIFESTS) -> tuple[str, ...]:
    """The modules whose `setup(bot)` adds a slice's discord.py cog."""
    return tuple(manifest.cog for manifest in manifests if manifest.cog is not None)


def running(disabled: Iterable[Feature] = ()) -> tuple[SliceManifest, ...]:
    """The slices a deployment runs: all but the `disabled` ones (`KYRIOS_DISABLED_FEATURES`)."""
    off = set(disabled)
    return tuple(manifest for manifest in MANIFESTS if manifest.feature not in off)


def manifest_of(feature: Feature, manifests: Iterable[SliceManifest] = MANIFESTS) -> SliceManifest:
    """The manifest of one slice."""
    return next(manifest for manifest in manifests if manifest.feature is feature)


check(MANIFESTS)
