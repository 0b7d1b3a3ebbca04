"""The REST side: recording middleware, faults, rate-limit headers, the catch-all, and app-level routes."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web
from aiohttp.typedefs import Middleware

from kyrios.testing.emulator.command_rules import command_errors
from kyrios.testing.emulator.models import Json, snowflake
from kyrios.testing.emulator.state import ApiError
from kyrios.testing.emulator.traffic import RecordedRequest

if TYPE_CHECKING:
    from kyrios.testing.emulator.server import DiscordEmulator

log = logging.getLogger(__name__)
API_PREFIX = "/api/v10"
NO_AUTH = re.compile(r"^/(interactions|webhooks)/")
# The recorded request and uploaded files of each request being handled, by id(request).
IN_FLIGHT: dict[int, tuple[RecordedRequest, list[tuple[str, bytes, str]]]] = {}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with `Content-Type: application/json` exactly (discord.py compares the header string)."""
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")


def no_content() -> web.Response:
    """204 No Content."""
    return web.Response(status=204)


def bucket_of(method: str, path: str) -> str:
    """A stable bucket hash per route template (ids masked), like Discord's opaque bucket ids."""
    template = re.sub(r"/\d+", "/{id}", path)
    return hashlib.sha1(f"{method} {template}".encode(), usedforsecurity=False).hexdigest()[:16]


def rate_limit_headers(
    method: str, path: str, *, limit: int, remaining: int, reset_after: float
) -> dict[str, str]:
    """The `X-RateLimit-*` headers discord.py reads (plus `Via`, which it requires on a 429)."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket_of(method, path),
        "Via": "1.1 google",
    }


async def read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes, str]]]:
    """The JSON body (or multipart `payload_json`) and any uploaded files as (filename, bytes, type)."""
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[tuple[str, bytes, str]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            data = await part.read()
            if part.name == "payload_json":
                body = json.loads(data)
            else:
                ctype = part.headers.get("Content-Type", "application/octet-stream")
                files.append((part.filename or "file", bytes(data), ctype))
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


def route_template(request: web.Request) -> str:
    """The template of the route that matched, relative to the API prefix (`/guilds/{guild_id}`)."""
    info = request.match_info.route.resource
    canonical = info.canonical if info is not None else request.path
    return canonical[len(API_PREFIX) :] if canonical.startswith(API_PREFIX) else canonical


def response_json(response: web.StreamResponse) -> Any:
    """The JSON body of an answer (None when it has none)."""
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return None
    body = response.body
    return json.loads(bytes(body)) if isinstance(body, bytes | bytearray) and body else None


def build_middleware(emu: DiscordEmulator) -> Middleware:
    """Record every API request, apply armed faults and permissions errors, add rate-limit headers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        body, files = await read_body(request)
        record = RecordedRequest(request.method, path, dict(request.query), body, dict(request.headers))
        emu.traffic.requests.append(record)
        IN_FLIGHT[id(request)] = record, files
        try:
            response = await _answer(emu, request, handler, record)
        finally:
            del IN_FLIGHT[id(request)]
        record.status = response.status
        record.route = route_template(request)
        record.response_headers = dict(response.headers)
        record.response_body = response_json(response)
        await emu.waiter.notify()
        return response

    return middleware


async def _answer(
    emu: DiscordEmulator, request: web.Request, handler: Handler, record: RecordedRequest
) -> web.StreamResponse:
    """The handler's answer, or the error Discord would give first; every answer, errors included,
    carries Discord's rate-limit headers (an armed 429 brings its own)."""
    response = await _handle(emu, request, handler, record)
    if "X-RateLimit-Bucket" not in response.headers:
        headers = rate_limit_headers(record.method, record.path, limit=50, remaining=49, reset_after=1.0)
        response.headers.update(headers)
    return response


async def _handle(
    emu: DiscordEmulator, request: web.Request, handler: Handler, record: RecordedRequest
) -> web.StreamResponse:
    method, path = record.method, record.path
    if not NO_AUTH.match(path) and request.headers.get("Authorization") != f"Bot {emu.token}":
        return json_response({"message": "401: Unauthorized", "code": 0}, 401)
    fault = emu.traffic.take_fault(method, path)
    if fault is not None:
        armed = json_response(fault.body, fault.status)
        armed.headers.update(fault.headers)
        return armed
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response(exc.to_json(), exc.status)
    except (KeyError, ValueError, TypeError) as exc:
        # A malformed request or an emulator bug. Not a 500: discord.py would retry it for 25 s.
        emu.traffic.errors.append(f"{method} {path}: {exc.__class__.__name__}: {exc}")
        log.exception("emulator could not handle %s %s", method, path)
        return json_response({"message": f"Invalid Form Body ({exc.__class__.__name__})", "code": 50035}, 400)


def rate_limit_fault_parts(
    method: str, path: str, *, retry_after: float, is_global: bool
) -> tuple[Json, dict[str, str]]:
    """The body and headers of Discord's 429."""
    headers = rate_limit_headers(method, path, limit=5, remaining=0, reset_after=retry_after)
    headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    headers["X-RateLimit-Scope"] = "global" if is_global else "user"
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    # Discord's 429 body is an error object like any other: `code` is always there (0 for a plain limit).
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
        "code": 0,
    }
    return body, headers


class RouteBase:
    """What every route group shares: the emulator and request helpers."""

    emu: DiscordEmulator

    @staticmethod
    def body(request: web.Request) -> Json:
        """The request's JSON object body."""
        record = IN_FLIGHT[id(request)][0]
        return record.json

    @staticmethod
    def files(request: web.Request) -> list[tuple[str, bytes, str]]:
        """The request's uploaded files (multipart `files[n]`) as (filename, bytes, type)."""
        return IN_FLIGHT[id(request)][1]

    @staticmethod
    def reason(request: web.Request) -> str | None:
        """The decoded `X-Audit-Log-Reason`."""
        record = IN_FLIGHT[id(request)][0]
        return record.reason

    @staticmethod
    def snowflake_arg(request: web.Request, name: str) -> int:
        """A numeric path parameter."""
        try:
            return int(request.match_info[name])
        except ValueError:
            raise ApiError(404, 0, "404: Not Found") from None


class AppRoutes(RouteBase):
    """Current user, application, gateway info, command registration, users, CDN, catch-all."""

    async def get_me(self, request: web.Request) -> web.Response:
        """GET /users/@me."""
        me = self.emu.bot_user.to_json()
        return json_response({**me, "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None})

    async def get_user(self, request: web.Request) -> web.Response:
        """GET /users/{user_id}."""
        return json_response(self.emu.user(self.snowflake_arg(request, "user_id")).to_json())

    async def get_application(self, request: web.Request) -> web.Response:
        """GET /oauth2/applications/@me and /applications/@me."""
        return json_response(self.emu.application_json())

    async def get_gateway(self, request: web.Request) -> web.Response:
        """GET /gateway."""
        return json_response({"url": self.emu.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """GET /gateway/bot: `emu.shard_count` recommended shards, a generous session-start budget."""
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response(
            {"url": self.emu.gateway_url, "shards": self.emu.shard_count, "session_start_limit": limit}
        )

    async def open_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels {recipient_id}: the (one) DM channel with that user."""
        user = self.emu.user(int(self.body(request).get("recipient_id") or 0))
        if user.bot:
            raise ApiError(400, 50007, "Cannot send messages to this user")
        existing = next((c for c, u in self.emu.dm_channels.items() if u == user.id), None)
        channel_id = existing or snowflake()
        self.emu.dm_channels[channel_id] = user.id
        return json_response(self.emu.dm_channel_json(channel_id))

    def _command_list(self, request: web.Request) -> list[Json]:
        if str(self.emu.application_id) != request.match_info["app_id"]:
            raise ApiError(403, 50001, "Missing Access")
        if "guild_id" in request.match_info:
            return self.emu.guild(self.snowflake_arg(request, "guild_id")).commands
        return self.emu.global_commands

    async def put_commands(self, request: web.Request) -> web.Response:
        """PUT (bulk overwrite) global or guild commands; stores them with ids as Discord does."""
        target = self._command_list(request)
        record = IN_FLIGHT[id(request)][0]
        if not isinstance(record.body, list):
            raise ApiError(400, 50035, "Invalid Form Body")
        errors = command_errors(record.body)
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body: " + "; ".join(errors))
        stored = [
            {
                **command,
                "id": str(snowflake()),
                "application_id": str(self.emu.application_id),
                "version": str(snowflake()),
                "default_member_permissions": command.get("default_member_permissions"),
                "type": command.get("type", 1),
                "nsfw": False,
            }
            for command in record.body
        ]
        if "guild_id" in request.match_info:
            stored = [{**c, "guild_id": request.match_info["guild_id"]} for c in stored]
        target[:] = stored
        return json_response(stored)

    async def get_commands(self, request: web.Request) -> web.Response:
        """GET registered commands. As on Discord, the localization dicts come only with
        `with_localizations=true`; otherwise each localized field is replaced by `*_localized`, the value
        for the requester's locale (`X-Discord-Locale`, then `Accept-Language`) when there is one."""
        commands = self._command_list(request)
        if request.query.get("with_localizations", "").lower() in ("true", "1"):
            return json_response(commands)
        locale = request.headers.get("X-Discord-Locale") or request.headers.get("Accept-Language") or ""
        return json_response([localized(command, locale.split(",")[0].strip()) for command in commands])

    async def get_cdn(self, request: web.Request) -> web.Response:
        """Images a test registered with `add_cdn_image` / `set_user_avatar` (any extension)."""
        path = request.path
        key = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
        found = self.emu.cdn.get(key)
        if found is None:
            self.emu.traffic.unhandled.append(f"CDN GET {path}")
            return web.Response(status=404, text="asset not found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type)

    async def unhandled(self, request: web.Request) -> web.Response:
        """Any route the emulator does not know: recorded in `traffic.unhandled`, answered 404."""
        self.emu.traffic.unhandled.append(f"{request.method} {request.path}")
        return json_response({"message": "404: Not Found", "code": 0}, 404)


def localized(item: Json, locale: str) -> Json:
    """A command (option, choice) without its localization dicts, with `*_localized` for `locale`."""
    data: Json = {}
    for key, value in item.items():
        if key in ("name_localizations", "description_localizations"):
            if isinstance(value, dict) and locale in value:
                data[key.replace("_localizations", "_localized")] = value[locale]
        elif key in ("options", "choices") and isinstance(value, list):
            data[key] = [localized(child, locale) for child in value]
        else:
            data[key] = value
    return data
