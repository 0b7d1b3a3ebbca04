"""What Kyrios tells a guild on its own (admin notices, modlog system events, audit-log reasons)
reads in the guild's language: through the gateway cogs and the emulator, in a guild set to `ja`."""

from __future__ import annotations

from sqlalchemy import select

from kyrios.features.modlog.models import LogType, ModlogEntry
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.server import channel_messages_path
from tests.e2e.gateway_helpers import OWNER, eventually, log_channel, moderated_bot, wait_for_embeds
from tests.helpers import invoke, text_of


async def test_a_japanese_guilds_owner_is_told_in_japanese_and_the_audit_log_says_why(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    member_role = emu.add_role(1, "Member")
    async with moderated_bot(emu, runtime, auto_role=str(member_role.id), locale="ja"):
        await emu.member_join(1, 77, "newbie")
        given = await emu.wait_for_request("PUT", f"/guilds/1/members/77/roles/{member_role.id}")
        emu.guild(1).roles.pop(member_role.id)  # an admin deletes the role
        await emu.member_join(1, 78, "second")
        await eventually(lambda: len(emu.dm_messages(OWNER)) >= 1)
    assert given.reason == "Kyrios 自動ロール（/settings set auto_role）"
    assert [m.content for m in emu.dm_messages(OWNER)] == [
        f"⚠️ **Kyrios（{emu.guild(1).name}）:** 自動ロール <@&{member_role.id}> が見つからないため、"
        "自動ロールをオフにしました。`/settings set auto_role:` で別のロールを選んでください。"
    ]


async def test_a_modlog_system_event_and_its_notice_read_in_japanese(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    joins = emu.add_channel(1, "joins")
    async with moderated_bot(emu, runtime, locale="ja") as bot:
        routed = await invoke(
            runtime, "modlog config", admin=True, event="member_join", state="on", channel=str(joins.id)
        )
        assert not routed.is_error, text_of(routed)
        emu.arm_error("POST", channel_messages_path(joins.id), status=403, count=None)
        await emu.member_join(1, 81, "joiner")
        texts = await wait_for_embeds(emu, log_channel(bot), 1)  # the system event, in the shared channel
        await eventually(lambda: len(emu.dm_messages(OWNER)) >= 1)
    problem = (
        f"<#{joins.id}> にログを投稿できません。そのチャンネルで「チャンネルを見る」「メッセージを送信」"
        "「埋め込みリンク」の権限が必要です。投稿できなかったログ: 1 件（`/modlog search` では見られます）。"
    )
    assert problem in texts[0] and "System event" not in texts[0]
    assert [m.content for m in emu.dm_messages(OWNER)] == [f"⚠️ **Kyrios（{emu.guild(1).name}）:** {problem}"]
    system_event = select(ModlogEntry.id).where(ModlogEntry.log_type == LogType.SYSTEM_EVENT)
    async with runtime.db.read() as session:
        case = (await session.scalars(system_event)).one()
    assert not (await invoke(runtime, "settings set", admin=True, locale="en")).is_error
    shown = text_of(await invoke(runtime, "modlog case", admin=True, number=case))
    assert f"I cannot post logs in <#{joins.id}>" in shown  # stored as message and values: now English
