"""The discord.py adapter of avatar history: user/member updates -> image facts -> `service.record_change`.

Other users' global avatar changes arrive as GUILD_MEMBER_UPDATE, which discord.py turns into
`on_user_update` (members intent); per-server avatars come with `on_member_update`. Banners are
not in gateway payloads: on each user update the user is fetched (`GET /users/{id}`) and the
banner compared with the last one recorded. Images are read from the CDN with a timeout and a
size cap (`fetch`); their bytes go to the archive with the change, so the history outlives the
CDN URL. An image that cannot be read is recorded without colour, format or bytes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.avatars import service
from kyrios.features.avatars.archive import ArchiveLimits
from kyrios.features.avatars.colour import ImageFacts, UnreadableImage, image_facts
from kyrios.features.avatars.fetch import FetchFailed, cdn_client, fetch_image
from kyrios.features.avatars.models import AvatarKind
from kyrios.features.avatars.service import AvatarChange

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot

log = logging.getLogger(__name__)


class AvatarCog(commands.Cog, name="avatars"):
    """Records avatar, banner and per-server avatar changes."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot
        self.runtime = bot.runtime
        settings = bot.runtime.settings
        self.limits = ArchiveLimits(settings.avatar_image_max_bytes, settings.avatar_archive_max_bytes)
        self.http = cdn_client()

    async def cog_unload(self) -> None:
        """Close the CDN client."""
        await self.http.aclose()

    async def image(self, asset: discord.Asset | None) -> tuple[ImageFacts | None, bytes | None]:
        """Dominant colour, format and size of an asset, and its bytes; (None, None) if unreadable."""
        if asset is None:
            return None, None
        try:
            data = await fetch_image(self.http, asset.url, max_bytes=self.limits.max_image_bytes)
            return await asyncio.to_thread(image_facts, data), data
        except (FetchFailed, UnreadableImage) as exc:
            log.info("could not read %s: %s", asset.url, exc)
            return None, None

    async def save(self, change: AvatarChange) -> None:
        """One change, its stats and its image, in one transaction."""

        async def work(session: AsyncSession) -> None:
            await service.record_change(session, change, limits=self.limits)

        await self.runtime.db.run(work)

    async def _tracked(self, guild_ids: list[int]) -> bool:
        async with self.runtime.db.read() as session:
            return await service.is_tracked_in(session, guild_ids)

    @commands.Cog.listener()
    async def on_user_update(self, before: discord.User, after: discord.User) -> None:
        """A global avatar change (and, by fetching the user, a banner change)."""
        if after.bot or not await self._tracked([g.id for g in after.mutual_guilds]):
            return
        now = self.runtime.clock.now()
        if before.avatar != after.avatar:
            facts, data = await self.image(after.avatar)
            await self.save(
                AvatarChange(
                    after.id,
                    AvatarKind.AVATAR_CHANGE,
                    before.avatar.url if before.avatar else None,
                    after.avatar.url if after.avatar else None,
                    now,
                    image=facts,
                    data=data,
                )
            )
        await self.check_banner(after.id)

    async def check_banner(self, user_id: int) -> None:
        """Fetch the user and record a banner that differs from the last one we saw."""
        try:
            fetched = await self.bot.fetch_user(user_id)
        except discord.HTTPException as exc:
            log.info("could not fetch user %s for the banner: %s", user_id, exc)
            return
        new_url = fetched.banner.url if fetched.banner else None
        async with self.runtime.db.read() as session:
            if await service.known_banner(session, user_id) == new_url:
                return  # the common case: no banner change, no image to fetch
        facts, data = await self.image(fetched.banner)
        change = AvatarChange(
            user_id,
            AvatarKind.BANNER_CHANGE,
            None,  # filled in from the stats row, under its lock
            new_url,
            self.runtime.clock.now(),
            image=facts,
            data=data,
        )

        async def work(session: AsyncSession) -> None:
            await service.record_banner_if_changed(session, change, limits=self.limits)

        await self.runtime.db.run(work)

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """A per-server avatar change."""
        if after.bot or before.guild_avatar == after.guild_avatar:
            return
        if not await self._tracked([after.guild.id]):
            return
        facts, data = await self.image(after.guild_avatar)
        change = AvatarChange(
            after.id,
            AvatarKind.SERVER_AVATAR_CHANGE,
            before.guild_avatar.url if before.guild_avatar else None,
            after.guild_avatar.url if after.guild_avatar else None,
            self.runtime.clock.now(),
            guild_id=after.guild.id,
            image=facts,
            data=data,
        )
        await self.save(change)


async def setup(bot: KyriosBot) -> None:
    """Add the avatar-history cog."""
    await bot.add_cog(AvatarCog(bot))
