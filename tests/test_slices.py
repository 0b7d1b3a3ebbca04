"""The list of slices: each registry derives from it, and a name or declaration that does not fit fails
at import, not at run time."""

from __future__ import annotations

import importlib
import inspect

import pytest
from alembic.script import ScriptDirectory

from kyrios.core.features import ALWAYS_ON, SWITCHABLE, Feature
from kyrios.core.migrate import alembic_config
from kyrios.core.models import Base
from kyrios.features.economy import MANIFEST as ECONOMY
from kyrios.features.economy.models import EconomyAccount
from kyrios.gateway.intents import gateway_slices, intents_for, intents_of
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.slash.manifest import SliceManifest
from kyrios.slash.registry import CommandSet, Context, Registry
from kyrios.slash.reply import Reply
from kyrios.slices import MANIFESTS, check, cog_modules, command_sets, manifest_of, tables
from kyrios.web.auth.tables import MIGRATION_BRANCH as AUTH_BRANCH


def without(*features: Feature) -> tuple[SliceManifest, ...]:
    return tuple(manifest for manifest in MANIFESTS if manifest.feature not in features)


def test_a_feature_that_is_not_a_member_fails_where_it_is_declared() -> None:
    # Wrong types on purpose (`type: ignore`): the check at run time is under test.
    with pytest.raises(ValueError, match="unknown feature 'poker'"):
        CommandSet("poker")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"plain string: use Feature\.GACHA"):
        CommandSet("gacha")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown feature"):
        CommandSet(Feature.PROFILE, switched_by="economy ")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown feature"):
        SliceManifest("karaoke")  # type: ignore[arg-type]


def test_the_registry_refuses_a_command_set_whose_feature_is_not_a_member(runtime: Runtime) -> None:
    tampered = CommandSet(Feature.MUSIC)
    tampered.feature = "music"  # type: ignore[assignment]  # a plain string on purpose
    registry = Registry(runtime.db, runtime.clock, runtime.rng)
    with pytest.raises(ValueError, match=r"use Feature\.MUSIC"):
        registry.include(tampered)


def test_a_manifest_holds_only_its_own_commands_and_consistent_parts() -> None:
    gacha_commands = CommandSet(Feature.GACHA)
    with pytest.raises(ValueError, match="lists a command set of gacha"):
        SliceManifest(Feature.MUSIC, command_sets=(gacha_commands,))
    with pytest.raises(ValueError, match="no cog"):
        SliceManifest(Feature.MUSIC, intents=frozenset({"voice_states"}))
    with pytest.raises(ValueError, match="names no migration branch"):
        SliceManifest(Feature.MUSIC, models=(EconomyAccount,))
    with pytest.raises(ValueError, match="settings table is not among its models"):
        SliceManifest(Feature.MUSIC, settings=EconomyAccount, migrations="music")


def test_every_feature_has_exactly_one_manifest() -> None:
    check(MANIFESTS)
    assert {manifest.feature for manifest in MANIFESTS} == set(Feature)
    with pytest.raises(ValueError, match="economy has no manifest"):
        check(without(Feature.ECONOMY))
    with pytest.raises(ValueError, match="economy has 2 manifests"):
        check((*MANIFESTS, ECONOMY))


def test_two_slices_cannot_declare_the_same_command() -> None:
    clash = CommandSet(Feature.MUSIC)

    @clash.slash("points balance", "Someone else's balance")
    async def balance(ctx: Context) -> Reply:
        return Reply(content="")

    music = SliceManifest(Feature.MUSIC, command_sets=(clash,))
    with pytest.raises(ValueError, match="command /points balance is declared 2 times"):
        check((*without(Feature.MUSIC), music))


def test_a_command_can_only_be_switched_by_a_switchable_feature() -> None:
    wrong = CommandSet(Feature.MUSIC, switched_by=Feature.GUILD_SETTINGS)

    @wrong.slash("music now", "What is playing")
    async def now(ctx: Context) -> Reply:
        return Reply(content="")

    music = SliceManifest(Feature.MUSIC, command_sets=(wrong,))
    with pytest.raises(ValueError, match="switched by guild_settings, which cannot be switched"):
        check((*without(Feature.MUSIC), music))


def test_every_table_belongs_to_exactly_one_slice() -> None:
    names = [table.name for table in tables()]
    assert len(names) == len(set(names))
    assert set(names) == set(Base.metadata.tables)
    for manifest in MANIFESTS:
        if manifest.settings is not None:
            assert "guild_id" in manifest.settings.__table__.columns, manifest.feature


def test_the_runtime_answers_exactly_the_manifests_commands(runtime: Runtime) -> None:
    declared = {command.path for cs in command_sets() for command in cs.commands}
    assert set(runtime.registry.commands) == declared
    assert {"achievements", "profile", "settings feature", "gacha pull"} <= declared


def test_commands_are_switched_off_with_their_slice_unless_declared_otherwise(runtime: Runtime) -> None:
    commands = runtime.registry.commands
    assert commands["gacha pull"].switch is Feature.GACHA
    assert commands["achievements"].switch is Feature.ACHIEVEMENTS
    assert commands["profile"].switch is Feature.ECONOMY  # it shows points
    assert commands["modlog search"].switch is Feature.MODLOG
    assert commands["modlog config"].switch is None  # admins set modlog up while it is off
    settings = ("settings show", "settings set", "settings feature")
    assert all(commands[path].switch is None for path in settings)
    assert runtime.registry.components["points-history"].switch is Feature.ECONOMY


def test_settings_feature_offers_exactly_the_switchable_slices(runtime: Runtime) -> None:
    toggleable = tuple(manifest.feature for manifest in MANIFESTS if manifest.toggleable)
    assert set(toggleable) == set(SWITCHABLE) and not set(SWITCHABLE) & ALWAYS_ON
    name = next(o for o in runtime.registry.commands["settings feature"].options if o.name == "name")
    assert name.choices == tuple(feature.value for feature in SWITCHABLE)
    assert not manifest_of(Feature.GUILD_SETTINGS).toggleable


def test_the_gateway_loads_the_cog_of_every_slice_that_has_one() -> None:
    assert cog_modules() == tuple(manifest.cog for manifest in gateway_slices())
    assert set(cog_modules()) == {
        "kyrios.features.economy.cog",
        "kyrios.features.achievements.cog",
        "kyrios.features.modlog.cog",
        "kyrios.features.avatars.cog",
        "kyrios.features.auto_role.cog",
        "kyrios.features.wallet.cog",
        "kyrios.features.stock.cog",
        "kyrios.features.tickets.cog",
        "kyrios.features.music.cog",
        "kyrios.gateway.prefix",
    }
    for name in cog_modules():
        assert inspect.iscoroutinefunction(importlib.import_module(name).setup), name


def test_intents_are_the_union_of_the_running_slices_and_leave_with_their_cog() -> None:
    every = intents_for()
    assert every == intents_of(MANIFESTS)
    for manifest in gateway_slices():
        assert all(getattr(every, flag) for flag in manifest.intents), manifest.feature
    assert not every.presences  # nobody asks for it
    assert every.voice_states and intents_of(without(Feature.ECONOMY, Feature.MUSIC)).voice_states is False
    # Without the modlog's cog, message content is left to the prefix door, moderation to nobody.
    no_modlog = intents_of(without(Feature.MODLOG))
    assert no_modlog.message_content and not no_modlog.moderation
    no_content = intents_of(without(Feature.MODLOG, Feature.GUILD_SETTINGS, Feature.TICKETS))
    assert not no_content.message_content and no_content.members
    assert no_content.guild_messages  # the economy counts messages without reading them
    assert not intents_of(
        without(Feature.MODLOG, Feature.GUILD_SETTINGS, Feature.ECONOMY, Feature.TICKETS)
    ).guild_messages
    no_members = intents_of(without(Feature.MODLOG, Feature.AVATARS, Feature.AUTO_ROLE))
    assert not no_members.members and no_members.message_content
    assert intents_of([]) == intents_for([])  # the base: guilds only


def test_every_slice_with_tables_has_its_migration_branch_and_every_head_a_slice() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    labels = {manifest.migrations for manifest in MANIFESTS if manifest.migrations is not None}
    assert {manifest.feature.value for manifest in MANIFESTS if manifest.models} == labels
    for label in labels:
        assert script.get_revisions(f"{label}@head"), label
    for head in script.get_revisions(script.get_heads()):  # or the web door's own tables
        assert head is not None and head.branch_labels & (labels | {AUTH_BRANCH}), head


async def test_a_deployment_without_the_member_slices_asks_for_no_members_intent(settings: Settings) -> None:
    quiet = settings.model_copy(update={"disabled_features": "modlog,avatars,auto_role"})
    runtime = build_runtime(quiet)
    try:
        running_features = {manifest.feature for manifest in runtime.manifests}
        assert running_features == set(Feature) - {Feature.MODLOG, Feature.AVATARS, Feature.AUTO_ROLE}
        assert runtime.registry.find("modlog search") is None and runtime.registry.find("gacha pull")
        intents = intents_of(gateway_slices(runtime.manifests))
        assert not intents.members and intents.message_content  # the prefix door still reads messages
        assert set(cog_modules(runtime.manifests)) == {
            "kyrios.features.economy.cog",
            "kyrios.features.achievements.cog",
            "kyrios.features.stock.cog",
            "kyrios.features.wallet.cog",
            "kyrios.features.tickets.cog",
            "kyrios.features.music.cog",
            "kyrios.gateway.prefix",
        }
    finally:
        await runtime.aclose()
