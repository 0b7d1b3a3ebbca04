"""Pin routes: `/channels/{id}/messages/pins…` (discord.py 2.6+) and the older `/channels/{id}/pins…`."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from kyrios.testing.emulator.models import AuditAction, Channel, Message, iso, utcnow
from kyrios.testing.emulator.rest import Handler, RouteBase, json_response, no_content
from kyrios.testing.emulator.state import ApiError

MAX_PINS = 250


class PinRoutes(RouteBase):
    """Pin, unpin and list pinned messages; each change sends CHANNEL_PINS_UPDATE."""

    def pin_routes(self) -> list[tuple[str, str, Handler]]:
        """The (method, path, handler) rows of this group."""
        channel = "/channels/{channel_id:\\d+}"
        return [
            ("GET", f"{channel}/messages/pins", self.list_pins),
            ("PUT", f"{channel}/messages/pins/{{message_id:\\d+}}", self.pin),
            ("DELETE", f"{channel}/messages/pins/{{message_id:\\d+}}", self.unpin),
            ("GET", f"{channel}/pins", self.list_pins_legacy),
            ("PUT", f"{channel}/pins/{{message_id:\\d+}}", self.pin),
            ("DELETE", f"{channel}/pins/{{message_id:\\d+}}", self.unpin),
        ]

    def _pin_channel(self, request: web.Request, *permissions: str) -> Channel:
        channel = self.emu.channel(self.snowflake_arg(request, "channel_id"))
        self.emu.require(channel.guild_id, "read_message_history", *permissions, channel_id=channel.id)
        return channel

    def _pinned(self, channel: Channel) -> list[Message]:
        """The channel's pinned messages, most recently pinned first."""
        pinned = [m for m in self.emu.channel_messages(channel.id) if m.pinned_at is not None]
        return sorted(pinned, key=lambda m: (m.pinned_at, m.id), reverse=True)

    async def list_pins(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/pins?before&limit (1-50, default 50): `{items: [{pinned_at,
        message}], has_more}`, `before` an ISO timestamp of a pin."""
        channel = self._pin_channel(request)
        pinned = self._pinned(channel)
        if "before" in request.query:
            before = datetime.fromisoformat(request.query["before"])
            pinned = [m for m in pinned if m.pinned_at is not None and m.pinned_at < before]
        limit = max(1, min(int(request.query.get("limit", 50)), 50))
        items = [{"pinned_at": iso(m.pinned_at), "message": self.emu.message_json(m)} for m in pinned[:limit]]
        return json_response({"items": items, "has_more": len(pinned) > limit})

    async def list_pins_legacy(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/pins: every pinned message, most recently pinned first."""
        channel = self._pin_channel(request)
        return json_response([self.emu.message_json(m) for m in self._pinned(channel)])

    async def pin(self, request: web.Request) -> web.Response:
        """PUT …/pins/{message_id}: needs Pin Messages; at most 250 pins per channel (30003)."""
        channel = self._pin_channel(request, "pin_messages")
        message = self.emu.message(channel.id, self.snowflake_arg(request, "message_id"))
        if message.pinned_at is None:
            if len(self._pinned(channel)) >= MAX_PINS:
                raise ApiError(400, 30003, "Maximum number of pins reached (250)")
            message.pinned_at = utcnow()
            await self._log_pin(AuditAction.MESSAGE_PIN, message, request)
            await self.emu.pins_changed(channel.id, pinned=message, by=self.emu.bot_user.id)
        return no_content()

    async def unpin(self, request: web.Request) -> web.Response:
        """DELETE …/pins/{message_id}: 404 Unknown Message when it is not pinned."""
        channel = self._pin_channel(request, "pin_messages")
        message = self.emu.message(channel.id, self.snowflake_arg(request, "message_id"))
        if message.pinned_at is None:
            raise ApiError(404, 10008, "Unknown Message")
        message.pinned_at = None
        await self._log_pin(AuditAction.MESSAGE_UNPIN, message, request)
        await self.emu.pins_changed(channel.id)
        return no_content()

    async def _log_pin(self, action: AuditAction, message: Message, request: web.Request) -> None:
        """MESSAGE_PIN / MESSAGE_UNPIN entry: the author as target, channel and message in `options`."""
        assert message.guild_id is not None
        options = {"channel_id": str(message.channel_id), "message_id": str(message.id)}
        await self.emu.add_audit_entry(
            message.guild_id,
            action,
            self.emu.bot_user.id,
            message.author_id,
            reason=self.reason(request),
            options=options,
        )
