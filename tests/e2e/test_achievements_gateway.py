"""A member's tenth rumble win through the gateway door: the real bot fights the battle the opponent's
button accepted, its achievement cog announces `Rumble Master` once in the channel (a second press
and another pass of the relay add nothing), and `/profile` lists it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from kyrios.features.achievements.cog import AchievementAnnouncements
from kyrios.features.achievements.models import AchievementOutbox
from kyrios.features.rumble.models import RumbleBattle, RumblePlayer
from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from tests.helpers import count_rows

USER_OPTION = 6
GENERAL = 10
MASTER = "🥊 Achievement unlocked: Rumble Master"


def titles(emu: DiscordEmulator) -> list[str]:
    return [str(m.embeds[0].get("title")) for m in emu.channel_messages(GENERAL) if m.embeds]


async def test_the_tenth_win_is_announced_once_and_shown_on_the_profile(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot, runtime: Runtime
) -> None:
    emu = discord_emulator
    emu.add_member(1, 43, "member43")
    veterans = [RumblePlayer(guild_id=1, user_id=u, wins=9, losses=0, rating=1000) for u in (42, 43)]
    await runtime.db.run(lambda session: session.run_sync(lambda sync: sync.add_all(veterans)))

    sent = await emu.run_command("rumble challenge", {"member": "43"}, option_types={"member": USER_OPTION})
    callback = await emu.wait_for_callback(sent["id"])
    accept = callback["data"]["components"][0]["components"][0]
    shown = emu.interaction(sent["id"]).original_message_id
    pressed = await emu.press_button(accept["custom_id"], message_id=shown, user_id=43)
    assert (await emu.wait_for_callback(pressed["id"]))["type"] == 7
    await emu.wait_until(lambda: MASTER in titles(emu), what="the Rumble Master announcement")
    cog = gateway_bot.get_cog("achievements")
    assert isinstance(cog, AchievementAnnouncements)
    async with asyncio.timeout(10):
        while await count_rows(runtime, AchievementOutbox, sent_at=None):  # noqa: ASYNC110 (marked after posting)
            await asyncio.sleep(0.01)

    again = await emu.press_button(accept["custom_id"], message_id=shown, user_id=43)
    assert "already answered" in (await emu.wait_for_callback(again["id"]))["data"]["content"]
    assert await cog.relay.drain() == 0  # nothing left to announce
    assert titles(emu).count(MASTER) == 1

    async with runtime.db.read() as session:
        winner = await session.scalar(select(RumbleBattle.winner_id))
    [announcement] = [m for m in emu.channel_messages(GENERAL) if m.embeds and m.embeds[0]["title"] == MASTER]
    assert f"<@{winner}> unlocked **Rumble Master**" in announcement.embeds[0]["description"]

    asked = await emu.run_command("profile", {"user": str(winner)}, option_types={"user": USER_OPTION})
    profile = (await emu.wait_for_callback(asked["id"]))["data"]["embeds"][0]
    achievements = next(f for f in profile["fields"] if f["name"].startswith("Achievements"))
    assert "🥊 Rumble Master" in achievements["value"]
    assert any(f["name"] == "Rumble" and f["value"].startswith("10W") for f in profile["fields"])
