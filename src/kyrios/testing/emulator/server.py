"""`DiscordEmulator`: the in-process aiohttp server that plays Discord (REST, gateway, CDN) for tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from kyrios.testing.emulator.events_community import CommunityEvents
from kyrios.testing.emulator.gateway import Gateway
from kyrios.testing.emulator.interactions import InteractionRoutes, InteractionSender
from kyrios.testing.emulator.models import Guild, Json, snowflake
from kyrios.testing.emulator.rest import (
    API_PREFIX,
    AppRoutes,
    Handler,
    build_middleware,
    rate_limit_fault_parts,
)
from kyrios.testing.emulator.rest_bans import BanRoutes
from kyrios.testing.emulator.rest_guilds import GuildRoutes
from kyrios.testing.emulator.rest_pins import PinRoutes
from kyrios.testing.emulator.rest_reactions import ReactionRoutes
from kyrios.testing.emulator.rest_roles import RoleRoutes
from kyrios.testing.emulator.rest_threads import ThreadRoutes
from kyrios.testing.emulator.rest_voice import VoiceRoutes
from kyrios.testing.emulator.traffic import WAIT_SECONDS, Fault, PathPattern, RecordedRequest, Traffic, Waiter
from kyrios.testing.emulator.voice_server import VoiceConnection, VoiceServer
from kyrios.testing.emulator.voice_state import VoiceEvents

STANDARD_GUILD_ID = 1
STANDARD_CHANNEL_ID = 10
STANDARD_USER_ID = 42


class Routes(
    AppRoutes,
    GuildRoutes,
    ThreadRoutes,
    InteractionRoutes,
    RoleRoutes,
    PinRoutes,
    ReactionRoutes,
    BanRoutes,
    VoiceRoutes,
):
    """Every REST route, bound to one emulator."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu

    def table(self) -> list[tuple[str, str, Handler]]:
        """(method, path under /api/v10, handler); specific paths before the catch-all."""
        guild, channel = "/guilds/{guild_id:\\d+}", "/channels/{channel_id:\\d+}"
        hook = "/webhooks/{app_id}/{token}"
        return [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id:\\d+}", self.get_user),
            ("POST", "/users/@me/channels", self.open_dm),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id:\\d+}/commands", self.put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id:\\d+}/commands", self.get_commands),
            ("GET", guild, self.get_guild),
            ("GET", f"{guild}/channels", self.get_channels),
            ("POST", f"{guild}/channels", self.create_channel),
            ("PATCH", f"{guild}/channels", self.move_channels),
            ("GET", f"{guild}/members", self.list_members),
            ("GET", f"{guild}/members/{{user_id:\\d+}}", self.get_member),
            ("PATCH", f"{guild}/members/{{user_id:\\d+}}", self.edit_member),
            ("DELETE", f"{guild}/members/{{user_id:\\d+}}", self.kick_member),
            ("PUT", f"{guild}/members/{{user_id:\\d+}}/roles/{{role_id:\\d+}}", self.add_member_role),
            ("DELETE", f"{guild}/members/{{user_id:\\d+}}/roles/{{role_id:\\d+}}", self.remove_member_role),
            ("GET", f"{guild}/roles", self.get_roles),
            ("GET", f"{guild}/voice-states/@me", self.get_my_voice_state),
            ("PATCH", f"{guild}/voice-states/@me", self.edit_my_voice_state),
            ("GET", f"{guild}/voice-states/{{user_id:\\d+}}", self.get_voice_state),
            ("PATCH", f"{guild}/voice-states/{{user_id:\\d+}}", self.edit_voice_state),
            ("GET", f"{guild}/audit-logs", self.get_audit_log),
            ("GET", channel, self.get_channel),
            ("PATCH", channel, self.edit_channel_or_thread),
            ("DELETE", channel, self.delete_channel_or_thread),
            ("PUT", f"{channel}/permissions/{{overwrite_id:\\d+}}", self.put_overwrite),
            ("DELETE", f"{channel}/permissions/{{overwrite_id:\\d+}}", self.delete_overwrite),
            ("GET", f"{channel}/messages", self.list_messages),
            ("POST", f"{channel}/messages", self.create_message),
            ("POST", f"{channel}/messages/bulk-delete", self.bulk_delete),
            ("GET", f"{channel}/messages/{{message_id:\\d+}}", self.get_message),
            ("PATCH", f"{channel}/messages/{{message_id:\\d+}}", self.edit_message),
            ("DELETE", f"{channel}/messages/{{message_id:\\d+}}", self.delete_message),
            ("POST", "/interactions/{interaction_id:\\d+}/{token}/callback", self.callback),
            ("POST", hook, self.followup),
            ("GET", f"{hook}/messages/{{message_id}}", self.get_webhook_message),
            ("PATCH", f"{hook}/messages/{{message_id}}", self.edit_webhook_message),
            ("DELETE", f"{hook}/messages/{{message_id}}", self.delete_webhook_message),
            *self.community_routes(),
        ]

    def community_routes(self) -> list[tuple[str, str, Handler]]:
        """Roles and channel positions, pins, reactions, threads, bans (each group in its own module)."""
        return [
            *self.role_routes(),
            *self.pin_routes(),
            *self.reaction_routes(),
            *self.thread_routes(),
            *self.ban_routes(),
        ]


class DiscordEmulator(InteractionSender, CommunityEvents, VoiceEvents):
    """Discord on 127.0.0.1:<random port>: `async with DiscordEmulator() as emu:`; see tests/README.md."""

    def __init__(self) -> None:
        super().__init__()
        self.waiter = Waiter()
        self.traffic = Traffic(self.waiter)
        self.gateway = Gateway(self, self.waiter)
        self.gateway.on_voice_state = self.on_voice_state_request
        self.voice_server = VoiceServer(self.waiter)
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>` (the CDN lives here too)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST base URL (`discord.http.Route.BASE`, `KYRIOS_DISCORD_API_BASE`)."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """The gateway WebSocket URL."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> Self:
        """Bind a free port and serve."""
        routes = Routes(self)
        app = web.Application(middlewares=[build_middleware(self)])
        app.router.add_get("/gateway", self.gateway.handle)
        for method, path, handler in routes.table():
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", routes.unhandled)
        app.router.add_get("/{tail:.*}", routes.get_cdn)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.gateway.url = self.gateway_url
        await self.voice_server.start()
        return self

    async def stop(self) -> None:
        """Close gateway sockets and the server."""
        await self.gateway.close()
        await self.voice_server.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @contextmanager
    def patched_discord(self) -> Iterator[None]:
        """Point discord.py's REST base, default gateway and CDN at the emulator; restore on exit."""
        saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, discord.Asset.BASE
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        discord.Asset.BASE = self.base_url
        try:
            yield
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, discord.Asset.BASE = saved

    def add_standard_guild(self) -> Guild:
        """Guild 1 with #general (10) and member 42 "tester": the ids `command_payload` uses by default."""
        guild = self.add_guild(STANDARD_GUILD_ID, "Kyrios Test")
        self.add_channel(STANDARD_GUILD_ID, "general", channel_id=STANDARD_CHANNEL_ID)
        self.add_member(STANDARD_GUILD_ID, STANDARD_USER_ID, "tester")
        return guild

    def add_attachment(
        self, channel_id: int, filename: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> Json:
        """Put a file on the CDN; returns the attachment JSON for `send_message(attachments=[...])`."""
        attachment_id = snowflake()
        path = f"/attachments/{channel_id}/{attachment_id}/{filename}"
        self.add_cdn_image(path, data, content_type)
        url = f"{self.base_url}{path}"
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    # faults -------------------------------------------------------------------------------------------

    def arm_rate_limit(
        self,
        method: str,
        path: PathPattern,
        *,
        count: int = 1,
        retry_after: float = 0.2,
        is_global: bool = False,
    ) -> Fault:
        """Answer the next `count` matching requests with Discord's 429."""
        sample = path if isinstance(path, str) else path.pattern
        body, headers = rate_limit_fault_parts(method, sample, retry_after=retry_after, is_global=is_global)
        return self.traffic.arm(Fault(method, path, 429, body, count, headers))

    def arm_error(
        self,
        method: str,
        path: PathPattern,
        *,
        status: int = 403,
        code: int = 50013,
        message: str = "Missing Permissions",
        count: int | None = 1,
    ) -> Fault:
        """Answer matching requests with an error (`count=None`: until `disarm`)."""
        return self.traffic.arm(Fault(method, path, status, {"message": message, "code": code}, count))

    def disarm(self) -> None:
        """Remove every armed fault."""
        self.traffic.faults.clear()

    # waiting ------------------------------------------------------------------------------------------

    async def wait_for_request(
        self,
        method: str,
        path: PathPattern,
        *,
        nth: int = 1,
        where: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109 (tests read better with a timeout argument)
        succeeded: bool = True,
    ) -> RecordedRequest:
        """The `nth` successful `method path` request (a str is exact, `re.compile(...)` a full match)."""
        return await self.traffic.wait_for(
            method, path, nth=nth, where=where, timeout=timeout, succeeded=succeeded
        )

    def requests(self, method: str, path: PathPattern) -> list[RecordedRequest]:
        """Every `method path` request seen so far, whatever its status."""
        return self.traffic.matching(method, path)

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
        what: str = "",
    ) -> None:
        """Wait until `condition()` holds; it is re-checked after every request and gateway frame."""
        await self.waiter.until(
            lambda: True if condition() else None, timeout=timeout, what=what or "condition"
        )

    async def wait_for_gateway_op(self, op: int, *, nth: int = 1, timeout: float = WAIT_SECONDS) -> Json:  # noqa: ASYNC109
        """The `nth` frame with opcode `op` the bot sent (2 IDENTIFY, 6 RESUME, 8 REQUEST_GUILD_MEMBERS)."""

        def probe() -> Json | None:
            frames = self.gateway.frames_received(op)
            return frames[nth - 1] if len(frames) >= nth else None

        return await self.waiter.until(probe, timeout=timeout, what=f"gateway op {op} #{nth}")

    async def wait_for_dispatch(self, event: str, *, nth: int = 1, timeout: float = WAIT_SECONDS) -> Json:  # noqa: ASYNC109
        """The `nth` DISPATCH of `event` the emulator sent (e.g. RESUMED)."""

        def probe() -> Json | None:
            frames = self.gateway.dispatched(event)
            return frames[nth - 1] if len(frames) >= nth else None

        return await self.waiter.until(probe, timeout=timeout, what=f"dispatch {event} #{nth}")

    async def wait_for_voice_connection(
        self,
        guild_id: int,
        *,
        nth: int = 1,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
    ) -> VoiceConnection:
        """The guild's `nth` voice connection, once its session is described (the client can send audio)."""

        def probe() -> VoiceConnection | None:
            ready = [c for c in self.voice_server.connections_of(guild_id) if c.ready]
            return ready[nth - 1] if len(ready) >= nth else None

        return await self.waiter.until(probe, timeout=timeout, what=f"voice connection #{nth} to {guild_id}")


def channel_messages_path(channel_id: int) -> str:
    """`/channels/{id}/messages`, the path tests wait on most."""
    return f"/channels/{channel_id}/messages"


ANY_CALLBACK = re.compile(r"/interactions/\d+/[^/]+/callback")
