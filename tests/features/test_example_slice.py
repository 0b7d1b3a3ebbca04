"""What adding a slice takes, shown with a tiny one: music with one command, one table and a cog.

A real slice touches exactly:
- its folder `src/kyrios/features/<name>/`: `__init__.py` exporting `MANIFEST` (below), `models.py`,
  `service.py`, `commands.py`, and `cog.py` if it listens to the gateway;
- one member of `Feature` in `src/kyrios/core/features.py`;
- one line in `MANIFESTS` in `src/kyrios/slices.py`;
- one migration on its own labelled branch in `src/kyrios/migrations/versions/` (docs/migrations.md);
- and, like every change with words in it, `scripts/i18n-extract` plus the Japanese translations.
Commands, tables, the cog, its intents and its `/settings feature` switch follow from the manifest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from sqlalchemy import MetaData, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kyrios.core.clock import FrozenClock
from kyrios.core.features import Feature
from kyrios.core.models import NAMING_CONVENTION, Snowflake
from kyrios.core.rng import RandomSource
from kyrios.gateway.intents import intents_for, intents_of
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.slash.manifest import SliceManifest
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Reply
from kyrios.slices import MANIFESTS, check, cog_modules
from tests.helpers import invoke


class ExampleBase(DeclarativeBase):
    """Kept out of `Base.metadata`: the real schema has no such table, and must not get one here."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# models.py
class MusicQueue(ExampleBase):
    """A track waiting to be played in a guild."""

    __tablename__ = "music_queue"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    track: Mapped[str] = mapped_column(String(100), primary_key=True)


# commands.py
commands = CommandSet(Feature.MUSIC)


@commands.slash("music queue", "Queue a track")
async def queue(ctx: Context, track: Annotated[str, Opt("The track", max_length=100)]) -> Reply:
    """Add a track to the guild's queue."""
    ctx.session.add(MusicQueue(guild_id=ctx.guild_id, track=track))
    return Reply(content=f"Queued {track}.")


# __init__.py
MANIFEST = SliceManifest(
    Feature.MUSIC,
    command_sets=(commands,),
    cog="kyrios.features.music.cog",  # named, never imported here: only the gateway imports cogs
    intents=frozenset({"guilds", "voice_states"}),
    models=(MusicQueue,),
    migrations="music",
)

# slices.py: the one line (here: in place of the real music manifest, to show a tiny one)
WITH_MUSIC = tuple(MANIFEST if manifest.feature is Feature.MUSIC else manifest for manifest in MANIFESTS)


@pytest.fixture
async def music_runtime(settings: Settings, clock: FrozenClock, runtime: Runtime) -> AsyncIterator[Runtime]:
    """A runtime answering the slices of `WITH_MUSIC`, with the music table in the test database."""
    rt = build_runtime(settings, clock=clock, rng=RandomSource(1), manifests=WITH_MUSIC)
    async with rt.db.engine.begin() as connection:  # what the slice's migration would do
        await connection.run_sync(ExampleBase.metadata.create_all)
    try:
        yield rt
    finally:
        async with rt.db.engine.begin() as connection:
            await connection.run_sync(ExampleBase.metadata.drop_all)
        await rt.aclose()


async def queued(rt: Runtime) -> int:
    async with rt.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(MusicQueue)) or 0)


async def test_a_new_slice_is_answered_switched_and_listened_for_from_its_manifest(
    music_runtime: Runtime,
) -> None:
    check(WITH_MUSIC)
    reply = await invoke(music_runtime, "music queue", track="Clair de Lune")
    assert reply.content == "Queued Clair de Lune." and await queued(music_runtime) == 1

    off = await invoke(music_runtime, "settings feature", admin=True, name="music", state="off")
    assert not off.is_error, off.content
    refused = await invoke(music_runtime, "music queue", track="Gymnopédie No.1")
    assert refused.is_error and "music feature is disabled" in (refused.content or "")
    assert await queued(music_runtime) == 1

    assert "kyrios.features.music.cog" in cog_modules(WITH_MUSIC)
    # Voice states come with a listening slice: the economy's (voice minutes), now also music's.
    without_economy = [manifest for manifest in WITH_MUSIC if manifest.feature is not Feature.ECONOMY]
    assert intents_of(without_economy).voice_states and intents_for().voice_states
    assert not intents_of(
        manifest for manifest in MANIFESTS if manifest.feature not in (Feature.ECONOMY, Feature.MUSIC)
    ).voice_states
