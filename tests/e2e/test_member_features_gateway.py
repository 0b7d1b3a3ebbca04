"""Auto role, avatar history and prefix commands end to end through the emulator."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from kyrios.features.auto_role import service as auto_role
from kyrios.features.avatars.models import AvatarHistory, AvatarKind, AvatarStats
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, RecordedRequest
from kyrios.testing.emulator.server import channel_messages_path
from tests.e2e.gateway_helpers import OWNER, eventually, moderated_bot, png
from tests.helpers import count_rows, invoke


async def test_auto_role_is_given_to_members_who_join(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    member_role = emu.add_role(1, "Member")
    async with moderated_bot(emu, runtime, auto_role=str(member_role.id)):
        await emu.member_join(1, 77, "newbie")
        request = await emu.wait_for_request("PUT", f"/guilds/1/members/77/roles/{member_role.id}")
        await emu.member_join(1, 78, "helper-bot", bot=True)
    assert request.reason is not None and "auto role" in request.reason
    assert member_role.id in emu.member(1, 77).roles
    assert emu.requests("PUT", f"/guilds/1/members/78/roles/{member_role.id}") == []  # bots are skipped


async def test_a_deleted_auto_role_is_switched_off_and_the_owner_told_once(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime, auto_role="123456"):
        await emu.member_join(1, 77, "first")

        async def switched_off() -> bool:
            async with runtime.db.read() as session:
                return await auto_role.role(session, 1) is None

        await eventually(switched_off)
        await emu.member_join(1, 78, "second")
        await eventually(lambda: len(emu.requests("POST", "/users/@me/channels")) >= 1)
    assert len(emu.requests("PUT", "/guilds/1/members/78/roles/123456")) == 0
    dms = emu.requests("POST", "/users/@me/channels")
    assert len(dms) == 1 and str(dms[0].json.get("recipient_id")) == str(OWNER)


async def test_an_avatar_change_is_recorded_with_the_colour_of_the_served_image(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    image = png((30, 144, 255))
    async with moderated_bot(emu, runtime):
        await emu.update_user(42, avatar_image=image)

        async def recorded() -> bool:
            return await count_rows(runtime, AvatarHistory, user_id=42) >= 1

        await eventually(recorded)
        banner = png((250, 200, 0))
        await emu.update_user(42, username="renamed", banner_image=banner)

        async def banner_recorded() -> bool:
            return await count_rows(runtime, AvatarHistory, user_id=42, kind=AvatarKind.BANNER_CHANGE) == 1

        await eventually(banner_recorded)
    async with runtime.db.read() as session:
        rows = list(await session.scalars(select(AvatarHistory).order_by(AvatarHistory.id)))
        stats = await session.get(AvatarStats, 42)
    avatar, banner_row = rows
    assert avatar.kind == "avatar_change" and avatar.old_url is None
    assert avatar.new_url is not None and avatar.new_url.startswith(emu.base_url)
    assert (avatar.dominant_color, avatar.image_format, avatar.image_size) == ("#1e90ff", "png", len(image))
    assert banner_row.dominant_color == "#fac800" and banner_row.image_size == len(banner)
    assert stats is not None and stats.total_avatar_changes == 1 and stats.total_banner_changes == 1
    reply = await invoke(runtime, "avatar history", user="42")
    description = reply.embeds[0].description
    assert description is not None and "`#1e90ff`" in description and "banner" in description


async def test_prefix_commands_answer_in_the_channel_when_a_prefix_is_set(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime, prefix="k!"):
        await emu.send_message(10, 42, "k!gacha pull")
        first = await emu.wait_for_request("POST", channel_messages_path(10), where=answer)
        await emu.send_message(10, 42, "k!not a command")
        await emu.send_message(10, 42, "!gacha pull")  # another bot's prefix
        await emu.send_message(10, 42, "k!gacha pull count:99")
        second = await emu.wait_for_request("POST", channel_messages_path(10), nth=2, where=answer)
    assert "pulled" in first.json["embeds"][0]["title"] and "flags" not in first.json
    assert "at most 10" in second.json["content"]
    assert len([r for r in emu.requests("POST", channel_messages_path(10)) if answer(r)]) == 2


def answer(request: RecordedRequest) -> bool:
    """A reply to a command, not the announcement of an achievement it unlocked (the relay's)."""
    return not str(request.json.get("nonce", "")).startswith("ach-")


async def test_a_per_server_avatar_is_recorded_for_that_guild_and_animated_gifs_are_read(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((120, 0, 200), (0, 200, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    gif = out.getvalue()
    async with moderated_bot(emu, runtime):
        avatar_hash = emu.set_member_avatar(1, 42, gif, "image/gif")
        await emu.dispatch_member_update(1, 42)

        async def recorded() -> bool:
            return (
                await count_rows(runtime, AvatarHistory, user_id=42, kind=AvatarKind.SERVER_AVATAR_CHANGE)
                == 1
            )

        await eventually(recorded)
    async with runtime.db.read() as session:
        row = (await session.scalars(select(AvatarHistory).where(AvatarHistory.user_id == 42))).one()
    assert row.guild_id == 1 and row.new_url is not None and avatar_hash in row.new_url
    assert (row.image_format, row.image_size, row.dominant_color) == ("gif", len(gif), "#7800c8")
    elsewhere = await invoke(runtime, "avatar history", guild_id=2, user="42")
    assert "0 changes" in (elsewhere.embeds[0].footer or "")
