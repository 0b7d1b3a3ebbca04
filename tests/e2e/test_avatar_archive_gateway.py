"""The avatar archive end to end: the emulator's CDN serves a user's avatars, the cog keeps their
bytes, the CDN forgets them, and `/avatar history` still shows both images from our own route."""

from __future__ import annotations

import hashlib

import httpx
from sqlalchemy import select

from kyrios.features.avatars.models import AvatarHistory, AvatarKind
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from kyrios.web.main import create_app
from tests.e2e.gateway_helpers import eventually, moderated_bot, png
from tests.helpers import count_rows, invoke, text_of
from tests.web.auth_helpers import client


async def test_old_avatars_are_served_from_the_archive_after_the_cdn_forgets_them(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    first, second = png((30, 144, 255)), png((250, 200, 0))
    async with moderated_bot(emu, runtime):
        for nth, image in enumerate((first, second), start=1):
            await emu.update_user(42, avatar_image=image)

            async def recorded(nth: int = nth) -> bool:
                return (
                    await count_rows(runtime, AvatarHistory, user_id=42, kind=AvatarKind.AVATAR_CHANGE) == nth
                )

            await eventually(recorded)
    async with runtime.db.read() as session:
        rows = list(
            await session.scalars(select(AvatarHistory).where(AvatarHistory.kind == AvatarKind.AVATAR_CHANGE))
        )
    rows.sort(key=lambda row: row.id)
    sha_first, sha_second = hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()
    assert [(r.old_sha256, r.new_sha256) for r in rows] == [(None, sha_first), (sha_first, sha_second)]
    cdn_urls = [r.new_url for r in rows]

    emu.cdn.clear()  # Discord's CDN stops serving the old URLs
    async with httpx.AsyncClient() as cdn:
        for url in cdn_urls:
            assert url is not None and (await cdn.get(url)).status_code == 404

    reply = await invoke(runtime, "avatar history", user="42")
    text = text_of(reply)
    site = runtime.settings.site_url
    links = [f"{site}/avatars/{sha_first}.png", f"{site}/avatars/{sha_second}.png"]
    assert f"[old]({links[0]}) → [new]({links[1]})" in text and f"[new]({links[0]})" in text
    assert reply.embeds[0].thumbnail_url == links[1]
    assert not any(url in text for url in cdn_urls if url)
    async with client(create_app(runtime)) as http:
        for link, image in zip(links, (first, second), strict=True):
            served = await http.get(link.removeprefix(site))
            assert served.status_code == 200 and served.content == image
            assert served.headers["content-type"] == "image/png"
