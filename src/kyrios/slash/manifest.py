"""A slice's manifest: everything the rest of Kyrios needs to know about it, in one value.

Each slice's `__init__.py` exports `MANIFEST`; `kyrios.slices` lists them and derives every
registry from that list: the commands, the tables, the gateway cogs and intents, the feature
switches. Nothing here imports discord: the cog is named, and only the gateway imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase

from kyrios.core.features import ALWAYS_ON, Feature, require_feature
from kyrios.slash.registry import CommandGuard, CommandSet


@dataclass(frozen=True)
class SliceManifest:
    """One slice: its name, commands, gateway listeners and intents, tables and settings table."""

    feature: Feature
    command_sets: tuple[CommandSet, ...] = ()
    cog: str | None = None
    """Dotted module with `async def setup(bot)` adding its discord.py cog (imported by the gateway only)."""
    intents: frozenset[str] = frozenset()
    """discord.py intent flag names its cog needs (`members`, `message_content`, …)."""
    models: tuple[type[DeclarativeBase], ...] = ()
    """Its tables, the settings table included."""
    settings: type[DeclarativeBase] | None = None
    """Its per-guild settings table (one row per guild, keyed by `guild_id`), if it has settings."""
    migrations: str | None = None
    """The Alembic branch label its revisions carry (docs/migrations.md)."""
    guard: CommandGuard | None = None
    """A rule it imposes on other slices' switchable commands (the runtime's registry runs every one)."""

    def __post_init__(self) -> None:
        require_feature(self.feature)
        for command_set in self.command_sets:
            if command_set.feature is not self.feature:
                raise ValueError(
                    f"the {self.feature} manifest lists a command set of {command_set.feature}:"
                    f" declare it as CommandSet(Feature.{self.feature.name})"
                )
        if self.intents and self.cog is None:
            raise ValueError(f"the {self.feature} manifest asks for intents but has no cog to use them")
        if self.settings is not None and self.settings not in self.models:
            raise ValueError(f"the {self.feature} manifest's settings table is not among its models")
        if self.models and self.migrations is None:
            raise ValueError(f"the {self.feature} manifest has tables but names no migration branch")

    @property
    def toggleable(self) -> bool:
        """Whether `/settings feature` can switch it off in a guild."""
        return self.feature not in ALWAYS_ON

    @property
    def tables(self) -> tuple[Table, ...]:
        """Its tables, as SQLAlchemy `Table`s."""
        return tuple(model.__table__ for model in self.models)  # type: ignore[misc]
