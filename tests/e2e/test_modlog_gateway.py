"""The moderation log end to end: emulator events -> bot cogs -> database -> embeds in #mod-log."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.guild_settings.models import AdminNotice
from kyrios.features.modlog.models import LogType, ModlogEntry, ModlogMessage, ModlogPost
from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Permission
from kyrios.testing.emulator import AuditAction, DiscordEmulator, running_bot
from kyrios.testing.emulator.server import channel_messages_path
from tests.e2e.gateway_helpers import (
    MOD,
    OWNER,
    embed_text,
    eventually,
    log_channel,
    moderated_bot,
    modlog_cog,
    wait_for_embeds,
)
from tests.helpers import count_rows


async def stored(rt: Runtime, count: int) -> None:
    async def check() -> bool:
        return await count_rows(rt, ModlogMessage) >= count

    await eventually(check)


async def test_a_moderators_delete_is_posted_with_the_content_and_likely_by(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime) as bot:
        message = await emu.send_message(10, 42, "buy cheap followers at spam.example")
        await stored(runtime, 1)
        await emu.delete_message(10, message.id, deleted_by=MOD)
        texts = await wait_for_embeds(emu, log_channel(bot), 1)
    assert "Message deleted" in texts[0]
    assert "buy cheap followers at spam.example" in texts[0]
    assert f"likely by <@{MOD}>" in texts[0] and "<@42>" in texts[0] and "<#10>" in texts[0]
    assert await count_rows(runtime, ModlogEntry, log_type=LogType.MESSAGE_DELETE, moderator_id=MOD) == 1


async def test_a_self_delete_and_an_edit(discord_emulator: DiscordEmulator, runtime: Runtime) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime) as bot:
        message = await emu.send_message(10, 42, "teh typo")
        await stored(runtime, 1)
        await emu.edit_message(10, message.id, "the typo")
        await wait_for_embeds(emu, log_channel(bot), 1)
        await emu.delete_message(10, message.id, deleted_by=42)  # own message: no audit entry
        texts = await wait_for_embeds(emu, log_channel(bot), 2)
    assert "Message edited" in texts[0] and ">>> teh typo" in texts[0] and ">>> the typo" in texts[0]
    assert "Message deleted" in texts[1] and ">>> the typo" in texts[1] and "By:" not in texts[1]


async def test_kick_is_told_from_leave_and_bans_carry_the_moderator(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    emu.add_member(1, 77, "leaver")
    emu.add_member(1, 78, "raider")
    async with moderated_bot(emu, runtime) as bot:
        await emu.kick_member(1, 42, moderator_id=MOD, reason="spam")
        await wait_for_embeds(emu, log_channel(bot), 1)
        await emu.member_leave(1, 77)
        await wait_for_embeds(emu, log_channel(bot), 2)
        await emu.ban_member(1, 78, moderator_id=MOD, reason="raid")
        texts = await wait_for_embeds(emu, log_channel(bot), 3)
        await emu.unban_member(1, 78, moderator_id=MOD)
        texts = await wait_for_embeds(emu, log_channel(bot), 4)
    assert "Member kicked" in texts[0] and f"By:** <@{MOD}>" in texts[0] and "Reason: spam" in texts[0]
    assert "Member left" in texts[1] and "<@77>" in texts[1] and "By:" not in texts[1]
    assert "Member banned" in texts[2] and f"<@{MOD}>" in texts[2] and "Reason: raid" in texts[2]
    assert "Member unbanned" in texts[3]
    assert not any("Member left" in t and "<@78>" in t for t in texts)  # the ban's member-remove


async def test_roles_timeouts_and_channels(discord_emulator: DiscordEmulator, runtime: Runtime) -> None:
    emu = discord_emulator
    vip = emu.add_role(1, "VIP")
    async with moderated_bot(emu, runtime) as bot:
        await emu.update_member(1, 42, roles=[vip.id], moderator_id=MOD)
        await wait_for_embeds(emu, log_channel(bot), 1)
        until = datetime.now(UTC) + timedelta(minutes=10)
        await emu.update_member(1, 42, timeout_until=until, moderator_id=MOD)
        await wait_for_embeds(emu, log_channel(bot), 2)
        channel_id = await emu.create_channel(1, "announcements", moderator_id=MOD)
        texts = await wait_for_embeds(emu, log_channel(bot), 3)
    assert "Role added" in texts[0] and f"<@&{vip.id}>" in texts[0] and f"<@{MOD}>" in texts[0]
    assert "timed out" in texts[1] and f"<@{MOD}>" in texts[1]
    assert "Channel created" in texts[2] and "#announcements" in texts[2] and str(channel_id) in texts[2]


async def test_a_burst_of_50_deletes_is_coalesced_into_few_messages(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime) as bot:
        sent = [await emu.send_message(10, 42, f"raid message {n}") for n in range(50)]
        await stored(runtime, 50)
        for message in sent:
            await emu.delete_message(10, message.id, deleted_by=MOD)
        texts = await wait_for_embeds(emu, log_channel(bot), 50, timeout=20)
        posts = emu.requests("POST", channel_messages_path(log_channel(bot)))
    assert len(texts) == 50 and all("Message deleted" in t for t in texts)
    logged = re.findall(r">>> (raid message \d+)$", "\n".join(texts), re.MULTILINE)
    assert sorted(logged) == sorted(f"raid message {n}" for n in range(50))
    assert len(posts) <= 8, f"{len(posts)} messages for 50 embeds"
    assert all(len(p.json["embeds"]) <= 10 for p in posts)


async def test_a_deleted_log_channel_stops_routing_and_the_owner_is_told_once(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime) as bot:
        dead = log_channel(bot)
        await emu.delete_channel(dead, moderator_id=MOD)  # its own CHANNEL_DELETE log then 404s

        async def forgotten() -> bool:
            async with runtime.db.read() as session:
                return (await guild_settings.get(session, 1)).log_channel_id is None

        await eventually(forgotten)
        await emu.member_join(1, 79, "after")
        await emu.member_join(1, 80, "later")
        await eventually(lambda: len(emu.dm_messages(OWNER)) >= 1)
        message = await emu.send_message(10, 42, "still alive?")
        await stored(runtime, 1)
    dm_attempts = emu.requests("POST", "/users/@me/channels")
    assert len(dm_attempts) == 1 and dm_attempts[0].json.get("recipient_id") in (OWNER, str(OWNER))
    told = [m.content for m in emu.dm_messages(OWNER)]
    assert len(told) == 1 and "deleted" in told[0], told
    assert len(emu.requests("POST", channel_messages_path(dead))) == 1  # the one that found it gone
    async with runtime.db.read() as session:
        kinds = list(await session.scalars(select(ModlogEntry.log_type).order_by(ModlogEntry.id)))
        notice = (
            await session.scalars(
                select(ModlogEntry.detail).where(ModlogEntry.log_type == LogType.SYSTEM_EVENT)
            )
        ).one()
    assert kinds.count(LogType.MEMBER_JOIN) == 2 and LogType.SYSTEM_EVENT in kinds
    assert notice is not None and "was deleted" in notice and message.id > 0


async def test_a_missing_permission_is_reported_once_and_the_channel_is_not_hammered(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime) as bot:
        emu.arm_error("POST", channel_messages_path(log_channel(bot)), status=403, count=None)
        for user_id in range(81, 86):
            await emu.member_join(1, user_id, f"joiner{user_id}")
        await eventually(lambda: len(emu.dm_messages(OWNER)) >= 1)
        await emu.member_join(1, 86, "late")

        async def all_recorded() -> bool:
            return await count_rows(runtime, ModlogEntry, log_type=LogType.MEMBER_JOIN) == 6

        await eventually(all_recorded)
        sender = modlog_cog(bot).sender
        await sender.drain()
    assert len(emu.requests("POST", "/users/@me/channels")) == 1
    assert len(emu.dm_messages(OWNER)) == 1
    assert len(emu.requests("POST", channel_messages_path(log_channel(bot)))) <= 2
    assert sender.stats.dropped >= 6


async def test_the_owner_is_not_told_again_after_a_restart_only_reminded_a_week_later(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime) as bot:
        channel_id = log_channel(bot)
    emu.arm_error("POST", channel_messages_path(channel_id), status=403, count=None)

    async def bot_run_with_the_channel_forbidden(joiner: int) -> None:
        async with running_bot(emu, runtime, intents=intents_for(), chunk_guilds_at_startup=True):
            await emu.member_join(1, joiner, f"joiner{joiner}")

            async def reported() -> bool:  # the system case recorded with the problem
                return await count_rows(runtime, ModlogEntry, log_type=LogType.SYSTEM_EVENT) >= joiner - 80

            await eventually(reported)

    await bot_run_with_the_channel_forbidden(81)
    assert len(emu.dm_messages(OWNER)) == 1
    await bot_run_with_the_channel_forbidden(82)  # a restart: the same problem, already told
    assert len(emu.dm_messages(OWNER)) == 1
    async with runtime.db.transaction() as session:  # a week and a day pass
        for notice in await session.scalars(select(AdminNotice)):
            notice.told_at -= timedelta(days=8)
    await bot_run_with_the_channel_forbidden(83)
    await eventually(lambda: len(emu.dm_messages(OWNER)) == 2)
    assert "I cannot post logs" in emu.dm_messages(OWNER)[1].content


async def test_429s_are_waited_out_and_nothing_is_lost(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    # discord.py waits out both (it raises past `max_ratelimit_timeout`, which is at least 30 s); a longer
    # 429 reaches the sender as `DiscordRateLimited` (tests/features/test_modlog_sender.py).
    async with moderated_bot(emu, runtime, bot_options={"max_ratelimit_timeout": 30.0}) as bot:
        sender = modlog_cog(bot).sender
        path = channel_messages_path(log_channel(bot))
        emu.arm_rate_limit("POST", path, count=2, retry_after=0.3)
        await emu.member_join(1, 90, "first")
        await wait_for_embeds(emu, log_channel(bot), 1)
        emu.arm_rate_limit("POST", path, count=1, retry_after=2.0)
        await emu.member_join(1, 91, "second")
        texts = await wait_for_embeds(emu, log_channel(bot), 2, timeout=10)
        statuses = [r.status for r in emu.requests("POST", path)]
    assert "<@90>" in texts[0] and "<@91>" in texts[1]
    assert statuses.count(429) == 3 and statuses.count(200) == 2
    assert sender.stats.dropped == 0


async def test_a_kick_whose_audit_entry_comes_late_is_still_a_kick(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    emu.add_member(1, 77, "slow")
    async with moderated_bot(emu, runtime) as bot:
        await emu.member_leave(1, 77)
        await asyncio.sleep(0.03)  # Discord writes the audit entry a moment after the member-remove event
        await emu.add_audit_entry(1, AuditAction.MEMBER_KICK, MOD, 77, reason="late entry")
        texts = await wait_for_embeds(emu, log_channel(bot), 1)
    assert "Member kicked" in texts[0] and "Reason: late entry" in texts[0]


async def test_the_bots_own_log_posts_are_not_stored(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime, bot_options={}) as bot:
        await emu.member_join(1, 95, "someone")
        await wait_for_embeds(emu, log_channel(bot), 1)
        await emu.send_message(10, 42, "a human message")
        await stored(runtime, 1)
    assert await count_rows(runtime, ModlogMessage) == 1


async def test_a_new_reason_and_note_edit_the_cases_log_message(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    emu.add_member(1, 78, "raider")
    async with moderated_bot(emu, runtime) as bot:
        await emu.ban_member(1, 78, moderator_id=MOD, reason="raid")
        await wait_for_embeds(emu, log_channel(bot), 1)
        message_id = the_log_message(emu, bot)
        case = await case_of(runtime, 78)
        await eventually(lambda: posts_recorded(runtime))  # the bot notes the message it posted
        await emu.run_command(
            "modlog reason", {"case": case, "text": "alt of a banned raider"}, **AS_MODERATOR
        )
        edit = await emu.wait_for_request("PATCH", log_message_path(bot, message_id))
        await emu.run_command("modlog note", {"case": case, "text": "appealed, denied"}, **AS_MODERATOR)
        await emu.wait_for_request("PATCH", log_message_path(bot, message_id), nth=2)
    first_edit = embed_text(edit.json["embeds"][0])
    assert "Member banned" in first_edit and "Reason: alt of a banned raider" in first_edit
    assert "Note: Previous reason: raid" in first_edit
    shown = embed_text(emu.messages[message_id].embeds[0])
    assert "Reason: alt of a banned raider" in shown and "Note: appealed, denied" in shown
    assert f"Case #{case}" in shown
    assert len(emu.requests("POST", channel_messages_path(log_channel(bot)))) == 1  # edited, not reposted


async def test_a_reason_given_while_the_case_waits_to_be_posted_is_shown_at_once(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    emu.add_member(1, 78, "raider")
    async with moderated_bot(emu, runtime) as bot:
        modlog_cog(bot).sender.linger = 1.0  # the embed waits for a burst to gather
        await emu.ban_member(1, 78, moderator_id=MOD, reason="raid")

        async def case_recorded() -> bool:
            return await count_rows(runtime, ModlogEntry, user_id=78) == 1

        await eventually(case_recorded)
        case = await case_of(runtime, 78)
        await emu.run_command("modlog reason", {"case": case, "text": "ban evasion"}, **AS_MODERATOR)
        [posted] = await wait_for_embeds(emu, log_channel(bot), 1)
        message_id = the_log_message(emu, bot)
        await emu.wait_for_request("PATCH", log_message_path(bot, message_id))
    assert "Reason: raid" in posted  # rendered when the ban was recorded
    assert "Reason: ban evasion" in embed_text(emu.messages[message_id].embeds[0])


AS_MODERATOR = {"user_id": MOD, "permissions": int(Permission.BAN_MEMBERS)}


def the_log_message(emu: DiscordEmulator, bot: KyriosBot) -> int:
    """The id of the one message posted in #mod-log."""
    [message_id] = [m.id for m in emu.messages.values() if m.channel_id == log_channel(bot)]
    return message_id


def log_message_path(bot: KyriosBot, message_id: int) -> str:
    """The REST path that edits a #mod-log message."""
    return f"{channel_messages_path(log_channel(bot))}/{message_id}"


async def posts_recorded(rt: Runtime) -> bool:
    return await count_rows(rt, ModlogPost) > 0


async def case_of(rt: Runtime, user_id: int) -> int:
    """The case number of the one entry about a user."""
    async with rt.db.read() as session:
        return int(await session.scalar(select(ModlogEntry.id).where(ModlogEntry.user_id == user_id)) or 0)
