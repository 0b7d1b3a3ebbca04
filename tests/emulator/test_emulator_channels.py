"""Channel placement as Discord does it: categories hold 50 channels, a parent must be a category of the
guild, and `PATCH /guilds/{id}/channels` moves channels (optionally taking the parent's overwrites)."""

from __future__ import annotations

from typing import Any

import httpx

from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.models import ChannelType, Overwrite


async def call(emu: DiscordEmulator, method: str, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with httpx.AsyncClient(base_url=emu.api_base, headers=headers) as client:
        return await client.request(method, path, json=body)


async def test_moving_channels_sets_parent_position_and_synced_overwrites(
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    hidden = Overwrite(1, 0, allow=0, deny=1024)
    category = emu.add_category(1, "Tickets", overwrites=[hidden])
    channel = emu.add_channel(1, "ticket-1")
    moved = await call(
        emu,
        "PATCH",
        "/guilds/1/channels",
        [{"id": str(channel.id), "position": 0, "parent_id": str(category.id), "lock_permissions": True}],
    )
    assert moved.status_code == 204, moved.text
    assert (channel.parent_id, channel.position) == (category.id, 0)
    assert [o.to_json() for o in channel.overwrites] == [hidden.to_json()]
    out = await call(emu, "PATCH", "/guilds/1/channels", [{"id": str(channel.id), "parent_id": None}])
    assert out.status_code == 204 and channel.parent_id is None


async def test_a_parent_must_be_a_category_with_room(discord_emulator: DiscordEmulator) -> None:
    emu = discord_emulator
    category = emu.add_category(1, "Tickets")
    for n in range(50):
        emu.add_channel(1, f"t-{n}", parent_id=category.id)
    spare = emu.add_channel(1, "spare")
    full = await call(emu, "POST", "/guilds/1/channels", {"name": "t-50", "parent_id": str(category.id)})
    assert full.status_code == 400 and full.json()["code"] == 50035
    patched = await call(emu, "PATCH", f"/channels/{spare.id}", {"parent_id": str(category.id)})
    assert patched.status_code == 400 and spare.parent_id is None
    moved = await call(
        emu, "PATCH", "/guilds/1/channels", [{"id": str(spare.id), "parent_id": str(category.id)}]
    )
    assert moved.status_code == 400 and spare.parent_id is None
    not_category = await call(emu, "PATCH", f"/channels/{spare.id}", {"parent_id": "10"})
    assert not_category.status_code == 400
    unknown = await call(emu, "PATCH", "/guilds/1/channels", [{"id": "12345", "position": 1}])
    assert unknown.status_code == 400
    assert emu.guild(1).channels[category.id].type == ChannelType.CATEGORY
