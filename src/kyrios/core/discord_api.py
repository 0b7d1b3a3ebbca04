"""The `DiscordPort` operations as Discord REST calls, shared by the gateway and the REST port.

Each operation becomes one `ApiCall` (method, route template and its ids, JSON or multipart
body, audit-log reason); a subclass only carries calls out (`_call`) and turns its client's
failures into the port's errors (`port_error`). Route templates use discord.py's parameter
names, which also choose a rate-limit bucket's major parameter (channel, guild, webhook + token).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from kyrios.core.ports import (
    KEEP,
    AuditLogEntry,
    Channel,
    ChannelType,
    DiscordError,
    DiscordForbidden,
    DiscordNotFound,
    Json,
    Keep,
    Member,
    Message,
    Overwrite,
    Upload,
    callback_with_attachments,
    with_attachments,
)

MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
"""Ids that split a route's rate limit into one bucket per resource (as discord.py does)."""
MAX_AUDIT_LOG_LIMIT = 100


@dataclass(frozen=True)
class ApiCall:
    """One REST request: `route` is a template like `/channels/{channel_id}/messages`."""

    method: str
    route: str
    params: Mapping[str, int | str] = field(default_factory=dict)
    json: Any = None
    files: Sequence[Upload] = ()
    query: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None

    @property
    def path(self) -> str:
        """The route with its ids filled in (URL-quoted: tokens may hold any character)."""
        return self.route.format_map({k: quote(str(v), safe="") for k, v in self.params.items()})

    @property
    def major(self) -> str:
        """The ids that pick this call's rate-limit bucket among the route's."""
        return "+".join(str(self.params[name]) for name in MAJOR_PARAMETERS if name in self.params)

    @property
    def exempt_from_global_limit(self) -> bool:
        """Interaction responses do not count towards (nor wait for) the global rate limit."""
        return self.route.startswith(("/interactions/", "/webhooks/"))

    def payload_json(self) -> str:
        """The `payload_json` form field of a multipart call: the body plus one attachment per file
        (in the message of an interaction callback, at the top of any other body)."""
        body: Json = self.json or {}
        if self.route.endswith("/callback"):
            return json.dumps(callback_with_attachments(body, self.files))
        return json.dumps(with_attachments(body, self.files))


def port_error(status: int, code: int, message: str) -> DiscordError:
    """The port's error for a failed response (429s are handled before this)."""
    if status == 404:
        return DiscordNotFound(status, code, message)
    if status == 403:
        return DiscordForbidden(status, code, message)
    return DiscordError(status, code, message)


def _dict(data: Any) -> Json:
    if not isinstance(data, dict):
        raise DiscordError(0, 0, f"unexpected answer from Discord: {str(data)[:200]!r}")
    return data


class DiscordApi(ABC):
    """`DiscordPort` over Discord's REST API; subclasses provide the HTTP client."""

    @abstractmethod
    async def _call(self, call: ApiCall) -> Any:
        """Carry out one call: its JSON answer (None for 204), or a `DiscordError`."""

    async def _json(self, call: ApiCall) -> Json:
        return _dict(await self._call(call))

    # messages ---------------------------------------------------------------------------------------

    async def send_message(self, channel_id: int, body: Json, *, files: Sequence[Upload] = ()) -> Message:
        """POST /channels/{id}/messages (multipart when there are files)."""
        call = ApiCall("POST", "/channels/{channel_id}/messages", {"channel_id": channel_id}, body, files)
        return Message.from_json(await self._json(call))

    async def edit_message(self, channel_id: int, message_id: int, body: Json) -> Message:
        """PATCH /channels/{id}/messages/{message_id}."""
        params = {"channel_id": channel_id, "message_id": message_id}
        call = ApiCall("PATCH", "/channels/{channel_id}/messages/{message_id}", params, body)
        return Message.from_json(await self._json(call))

    async def delete_message(self, channel_id: int, message_id: int, *, reason: str | None = None) -> None:
        """DELETE /channels/{id}/messages/{message_id}."""
        params = {"channel_id": channel_id, "message_id": message_id}
        await self._call(
            ApiCall("DELETE", "/channels/{channel_id}/messages/{message_id}", params, reason=reason)
        )

    async def open_dm(self, user_id: int) -> int:
        """POST /users/@me/channels."""
        call = ApiCall("POST", "/users/@me/channels", json={"recipient_id": str(user_id)})
        return int((await self._json(call))["id"])

    async def send_dm(self, user_id: int, body: Json, *, files: Sequence[Upload] = ()) -> Message:
        """Open the DM channel, then post in it."""
        return await self.send_message(await self.open_dm(user_id), body, files=files)

    # members ----------------------------------------------------------------------------------------

    async def add_role(self, guild_id: int, user_id: int, role_id: int, *, reason: str | None = None) -> None:
        """PUT /guilds/{id}/members/{user_id}/roles/{role_id}."""
        await self._call(self._member_role("PUT", guild_id, user_id, role_id, reason))

    async def remove_role(
        self, guild_id: int, user_id: int, role_id: int, *, reason: str | None = None
    ) -> None:
        """DELETE /guilds/{id}/members/{user_id}/roles/{role_id}."""
        await self._call(self._member_role("DELETE", guild_id, user_id, role_id, reason))

    @staticmethod
    def _member_role(method: str, guild_id: int, user_id: int, role_id: int, reason: str | None) -> ApiCall:
        params = {"guild_id": guild_id, "user_id": user_id, "role_id": role_id}
        return ApiCall(method, "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", params, reason=reason)

    async def member(self, guild_id: int, user_id: int) -> Member:
        """GET /guilds/{id}/members/{user_id}."""
        params = {"guild_id": guild_id, "user_id": user_id}
        data = await self._json(ApiCall("GET", "/guilds/{guild_id}/members/{user_id}", params))
        return Member.from_json(guild_id, data)

    # channels ---------------------------------------------------------------------------------------

    async def create_channel(
        self,
        guild_id: int,
        name: str,
        *,
        kind: ChannelType = ChannelType.TEXT,
        parent_id: int | None = None,
        topic: str | None = None,
        overwrites: Sequence[Overwrite] = (),
        position: int | None = None,
        reason: str | None = None,
    ) -> Channel:
        """POST /guilds/{id}/channels."""
        body: Json = {
            "name": name,
            "type": int(kind),
            "permission_overwrites": [o.to_json() for o in overwrites],
        }
        if parent_id is not None:
            body["parent_id"] = str(parent_id)
        if topic is not None:
            body["topic"] = topic
        if position is not None:
            body["position"] = position
        call = ApiCall("POST", "/guilds/{guild_id}/channels", {"guild_id": guild_id}, body, reason=reason)
        return Channel.from_json(await self._json(call))

    async def edit_channel(
        self,
        channel_id: int,
        *,
        name: str | Keep = KEEP,
        parent_id: int | Keep | None = KEEP,
        position: int | Keep = KEEP,
        topic: str | Keep | None = KEEP,
        overwrites: Sequence[Overwrite] | Keep = KEEP,
        reason: str | None = None,
    ) -> Channel:
        """PATCH /channels/{id} with only the fields given."""
        body: Json = {}
        if not isinstance(name, Keep):
            body["name"] = name
        if not isinstance(parent_id, Keep):
            body["parent_id"] = str(parent_id) if parent_id is not None else None
        if not isinstance(position, Keep):
            body["position"] = position
        if not isinstance(topic, Keep):
            body["topic"] = topic
        if not isinstance(overwrites, Keep):
            body["permission_overwrites"] = [o.to_json() for o in overwrites]
        call = ApiCall("PATCH", "/channels/{channel_id}", {"channel_id": channel_id}, body, reason=reason)
        return Channel.from_json(await self._json(call))

    async def delete_channel(self, channel_id: int, *, reason: str | None = None) -> None:
        """DELETE /channels/{id}."""
        await self._call(
            ApiCall("DELETE", "/channels/{channel_id}", {"channel_id": channel_id}, reason=reason)
        )

    async def set_overwrite(
        self, channel_id: int, overwrite: Overwrite, *, reason: str | None = None
    ) -> None:
        """PUT /channels/{id}/permissions/{overwrite_id}."""
        params = {"channel_id": channel_id, "overwrite_id": overwrite.target_id}
        body = {k: v for k, v in overwrite.to_json().items() if k != "id"}
        route = "/channels/{channel_id}/permissions/{overwrite_id}"
        await self._call(ApiCall("PUT", route, params, body, reason=reason))

    async def delete_overwrite(self, channel_id: int, target_id: int, *, reason: str | None = None) -> None:
        """DELETE /channels/{id}/permissions/{overwrite_id}."""
        params = {"channel_id": channel_id, "overwrite_id": target_id}
        route = "/channels/{channel_id}/permissions/{overwrite_id}"
        await self._call(ApiCall("DELETE", route, params, reason=reason))

    async def guild_channels(self, guild_id: int) -> list[Channel]:
        """GET /guilds/{id}/channels."""
        data = await self._call(ApiCall("GET", "/guilds/{guild_id}/channels", {"guild_id": guild_id}))
        return [Channel.from_json(c) for c in data or ()]

    # audit log --------------------------------------------------------------------------------------

    async def audit_log(
        self,
        guild_id: int,
        *,
        action_type: int | None = None,
        user_id: int | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[AuditLogEntry]:
        """GET /guilds/{id}/audit-logs (newest first)."""
        query = {"limit": str(max(1, min(limit, MAX_AUDIT_LOG_LIMIT)))}
        filters = {"action_type": action_type, "user_id": user_id, "before": before}
        query |= {name: str(value) for name, value in filters.items() if value is not None}
        call = ApiCall("GET", "/guilds/{guild_id}/audit-logs", {"guild_id": guild_id}, query=query)
        data = await self._json(call)
        return [AuditLogEntry.from_json(entry) for entry in data.get("audit_log_entries", ())]

    # interactions -----------------------------------------------------------------------------------

    async def interaction_callback(
        self, interaction_id: int, token: str, body: Json, *, files: Sequence[Upload] = ()
    ) -> None:
        """POST /interactions/{id}/{token}/callback (multipart when there are files)."""
        params: dict[str, int | str] = {"interaction_id": interaction_id, "interaction_token": token}
        route = "/interactions/{interaction_id}/{interaction_token}/callback"
        await self._call(ApiCall("POST", route, params, body, files))

    async def edit_original(
        self, application_id: int, token: str, body: Json, *, files: Sequence[Upload] = ()
    ) -> Message:
        """PATCH /webhooks/{application_id}/{token}/messages/@original (multipart with files)."""
        params: dict[str, int | str] = {"webhook_id": application_id, "webhook_token": token}
        route = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
        return Message.from_json(await self._json(ApiCall("PATCH", route, params, body, files)))

    async def followup(
        self, application_id: int, token: str, body: Json, *, files: Sequence[Upload] = ()
    ) -> Message:
        """POST /webhooks/{application_id}/{token} (multipart with files)."""
        params: dict[str, int | str] = {"webhook_id": application_id, "webhook_token": token}
        call = ApiCall("POST", "/webhooks/{webhook_id}/{webhook_token}", params, body, files)
        return Message.from_json(await self._json(call))

    async def delete_original(self, application_id: int, token: str) -> None:
        """DELETE /webhooks/{application_id}/{token}/messages/@original."""
        params: dict[str, int | str] = {"webhook_id": application_id, "webhook_token": token}
        await self._call(
            ApiCall("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original", params)
        )
