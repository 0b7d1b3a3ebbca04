"""A rumble through the gateway door: the real bot answers the challenge from the emulator, a third
member's press on Accept is refused, the opponent's press fights the battle and edits the message."""

from __future__ import annotations

from kyrios.features.rumble.models import BattleStatus, RumbleBattle
from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from tests.helpers import balance, count_rows

USER_OPTION = 6


async def test_challenge_accepted_by_the_opponent_and_refused_to_a_bystander(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot, runtime: Runtime
) -> None:
    emu = discord_emulator
    for user_id in (43, 44):
        emu.add_member(1, user_id, f"member{user_id}")
    sent = await emu.run_command("rumble challenge", {"member": "43"}, option_types={"member": USER_OPTION})
    callback = await emu.wait_for_callback(sent["id"])
    assert callback["type"] == 4 and "flags" not in callback["data"], callback
    assert "<@43>" in callback["data"]["content"] and "challenges you" in callback["data"]["content"]
    assert callback["data"]["allowed_mentions"] == {"parse": [], "users": ["43"]}  # the opponent is pinged
    accept, decline = callback["data"]["components"][0]["components"]
    assert (accept["label"], decline["label"]) == ("Accept", "Decline")
    shown = emu.interaction(sent["id"]).original_message_id
    assert shown is not None

    bystander = await emu.press_button(accept["custom_id"], message_id=shown, user_id=44)
    refused = await emu.wait_for_callback(bystander["id"])
    assert refused["type"] == 4 and refused["data"]["flags"] == 64
    assert "Only <@43> can answer" in refused["data"]["content"]
    assert await count_rows(runtime, RumbleBattle, status=BattleStatus.PENDING) == 1

    pressed = await emu.press_button(accept["custom_id"], message_id=shown, user_id=43)
    fought = await emu.wait_for_callback(pressed["id"])
    assert fought["type"] == 7, fought
    embed = fought["data"]["embeds"][0]
    assert embed["title"].startswith("🥊 Rumble #") and "`R1`" in embed["description"]
    assert fought["data"]["components"] == []  # the buttons are gone with the answer
    assert emu.messages[shown].embeds[0]["title"] == embed["title"]
    assert await count_rows(runtime, RumbleBattle, status=BattleStatus.FOUGHT) == 1
    assert sorted([await balance(runtime, 42), await balance(runtime, 43)]) == [10, 50]
