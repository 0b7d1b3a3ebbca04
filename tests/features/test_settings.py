"""`/settings show|set|feature` through the registry: admin-only, validated, readable."""

from __future__ import annotations

from typing import Any

from kyrios.features.guild_settings.commands import Panel, read_panel
from kyrios.runtime import Runtime
from tests.helpers import invoke, text_of


async def current(rt: Runtime, guild_id: int = 1) -> Panel:
    """Every value `/settings` shows, as stored (each in the table of the slice that owns it)."""
    async with rt.db.read() as session:
        return await read_panel(session, guild_id)


async def test_show_lists_every_setting_with_defaults(runtime: Runtime) -> None:
    reply = await invoke(runtime, "settings show", admin=True)
    text = text_of(reply)
    assert reply.ephemeral
    for label in ("Log channel: not set", "Auto role: not set", "Prefix: none", "Log retention: 30 days"):
        assert label in text
    assert "✅ modlog" in text and "✅ gacha" in text


async def test_members_cannot_see_or_change_settings(runtime: Runtime) -> None:
    requests: list[tuple[str, dict[str, Any]]] = [("settings show", {}), ("settings set", {"prefix": "!"})]
    for command, options in requests:
        reply = await invoke(runtime, command, **options)
        assert reply.is_error and "server admins" in (reply.content or "")
    assert (await current(runtime)).shared.prefix is None


async def test_set_saves_channels_roles_prefix_zone_and_retention(runtime: Runtime) -> None:
    reply = await invoke(
        runtime,
        "settings set",
        admin=True,
        log_channel="<#555>",
        ticket_category="600",
        archive_category="601",
        auto_role="<@&77>",
        prefix="k!",
        timezone="Europe/Berlin",
        retention_days=90,
    )
    assert not reply.is_error, reply.content
    saved = await current(runtime)
    assert saved.shared.log_channel_id == 555
    assert (saved.ticket_category_id, saved.archive_category_id) == (600, 601)
    assert (saved.auto_role_id, saved.shared.prefix, saved.shared.timezone, saved.retention_days) == (
        77,
        "k!",
        "Europe/Berlin",
        90,
    )
    text = text_of(await invoke(runtime, "settings show", admin=True))
    assert "<#555>" in text and "<@&77>" in text and "`k!`" in text and "90 days" in text


async def test_clear_removes_one_setting(runtime: Runtime) -> None:
    await invoke(runtime, "settings set", admin=True, prefix="!", auto_role="77")
    reply = await invoke(runtime, "settings set", admin=True, clear="prefix")
    assert not reply.is_error, reply.content
    saved = await current(runtime)
    assert saved.shared.prefix is None and saved.auto_role_id == 77
    await invoke(runtime, "settings set", admin=True, clear="auto_role")
    await invoke(runtime, "settings set", admin=True, clear="ticket_category", archive_category="601")
    saved = await current(runtime)
    assert (saved.auto_role_id, saved.ticket_category_id, saved.archive_category_id) == (None, None, 601)


async def test_bad_values_are_refused_with_the_reason(runtime: Runtime) -> None:
    cases: list[tuple[dict[str, Any], str]] = [  # options of `invoke`, as it takes them
        ({"timezone": "Mars/Olympus"}, "is not a time zone"),
        ({"retention_days": 0}, "at least 1"),
        ({"retention_days": 366}, "at most 365"),
        ({"prefix": "x" * 26}, "too long"),
        ({"prefix": "a b"}, "without spaces"),
        ({"prefix": "/x"}, "cannot start with `/`"),
        ({}, "at least one setting"),
        ({"prefix": "!", "clear": "prefix"}, "choose one"),
    ]
    for options, message in cases:
        reply = await invoke(runtime, "settings set", admin=True, **options)
        assert reply.is_error and message in (reply.content or ""), (options, reply.content)
    assert (await current(runtime)).shared.prefix is None


async def test_a_disabled_feature_says_it_is_disabled(runtime: Runtime) -> None:
    off = await invoke(runtime, "settings feature", admin=True, name="gacha", state="off")
    assert not off.is_error, off.content
    blocked = await invoke(runtime, "gacha pull")
    assert blocked.is_error and "gacha feature is disabled" in (blocked.content or "")
    assert "⛔ gacha" in text_of(await invoke(runtime, "settings show", admin=True))
    await invoke(runtime, "settings feature", admin=True, name="gacha", state="on")
    assert not (await invoke(runtime, "gacha pull")).is_error
    unknown = await invoke(runtime, "settings feature", admin=True, name="poker", state="on")
    assert unknown.is_error and "`name` must be one of: economy, gacha," in (unknown.content or "")
    always_on = await invoke(runtime, "settings feature", admin=True, name="guild_settings", state="off")
    assert always_on.is_error and "must be one of" in (always_on.content or "")
