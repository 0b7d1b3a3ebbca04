"""Interactions: the INTERACTION_CREATE a test sends, and the callback/webhook routes the bot answers on."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
from aiohttp import web

from kyrios.testing.emulator.events import EventSender
from kyrios.testing.emulator.models import Json, Message, snowflake, utcnow
from kyrios.testing.emulator.rest import RouteBase, json_response, no_content
from kyrios.testing.emulator.rest_channels import apply_message_body
from kyrios.testing.emulator.state import ApiError, InteractionRecord
from kyrios.testing.emulator.traffic import WAIT_SECONDS, Waiter
from kyrios.testing.interactions import InteractionSigner, command_payload, component_payload, modal_payload

ATTACHMENT_SIZE_LIMIT = 8 * 1024 * 1024
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class InteractionSender(EventSender):
    """Sends interactions over the gateway and keeps what the bot answered."""

    waiter: Waiter
    add_attachment: Callable[[int, str, bytes, str], Json]  # the CDN's, on `DiscordEmulator`

    def complete_interaction(self, payload: Json) -> Json:
        """Add what the gateway form carries beyond the HTTP builders' payload (channel, full member, …)."""
        data = copy.deepcopy(payload)
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        channel_id = int(data["channel_id"]) if data.get("channel_id") else None
        data.setdefault("version", 1)
        data.setdefault("attachment_size_limit", ATTACHMENT_SIZE_LIMIT)
        data.setdefault("entitlements", [])
        data.setdefault("locale", "en-US")
        data.setdefault("context", 0 if guild_id else 1)
        data.setdefault("authorizing_integration_owners", {"0": str(guild_id)} if guild_id else {})
        if guild_id is not None and guild_id in self.guilds:
            data.setdefault("guild", {"id": str(guild_id), "locale": "en-US", "features": []})
            data.setdefault("guild_locale", "en-US")
            perms = self.permissions_for(guild_id, self.bot_user.id, _known(self, channel_id))
            data.setdefault("app_permissions", str(perms))
        if channel_id is not None:
            known = _known(self, channel_id)
            data["channel"] = self.channel(known).to_json() if known else {"id": str(channel_id), "type": 0}
        if "member" in data and guild_id is not None:
            data["member"] = self._interaction_member(guild_id, data["member"])
        if "message" in data:
            data["message"] = self.message_json(self._interaction_message(data, guild_id, channel_id))
        return data

    def _interaction_member(self, guild_id: int, raw: Json) -> Json:
        user = raw["user"]
        self.add_user(int(user["id"]), user.get("username"))
        member = self.guilds[guild_id].members.get(int(user["id"])) if guild_id in self.guilds else None
        base: Json = member.to_json() if member else {"roles": [], "joined_at": utcnow().isoformat()}
        base.update(deaf=False, mute=False, flags=0, pending=False)
        return {**base, **{k: v for k, v in raw.items() if k != "roles"}, "roles": base["roles"]}

    def _interaction_message(self, data: Json, guild_id: int | None, channel_id: int | None) -> Message:
        message_id = int(data["message"]["id"])
        if message_id in self.messages:
            return self.messages[message_id]
        message = Message(message_id, channel_id or 0, guild_id, self.bot_user.id, "…")
        message.application_id = self.application_id
        self.messages[message_id] = message
        return message

    def _register_interaction(self, payload: Json) -> tuple[Json, InteractionRecord]:
        data = self.complete_interaction(payload)
        message_id = int(data["message"]["id"]) if "message" in data else None
        record = InteractionRecord(
            int(data["id"]),
            data["token"],
            int(data["guild_id"]) if data.get("guild_id") else None,
            int(data["channel_id"]) if data.get("channel_id") else None,
            message_id,
        )
        self.interactions[record.token] = record
        return data, record

    async def send_interaction(self, payload: Json) -> Json:
        """Dispatch INTERACTION_CREATE for a `command_payload`/`component_payload`; returns what was sent."""
        data, record = self._register_interaction(payload)
        await self.dispatch("INTERACTION_CREATE", data, guild_id=record.guild_id)
        return data

    async def post_interaction(
        self,
        client: httpx.AsyncClient,
        signer: InteractionSigner,
        payload: Json,
        *,
        path: str = "/interactions",
    ) -> httpx.Response:
        """Act as Discord in HTTP-interactions mode: sign and POST the interaction to the app's endpoint,
        then take a 200 reply as the interaction response (type 5 leaves a loading message to edit)."""
        data, record = self._register_interaction(payload)
        body, headers = signer.sign(data)
        response = await client.post(path, content=body, headers=headers)
        if response.status_code == 200:
            answer, files = http_answer(response)
            await answer_interaction(self, record, answer, files)
        return response

    async def run_command(self, path: str, options: dict[str, Any] | None = None, **kwargs: Any) -> Json:
        """Send a slash command, e.g. `run_command("gacha pull")`; kwargs go to `command_payload`."""
        kwargs.setdefault("application_id", self.application_id)
        return await self.send_interaction(command_payload(path, options, **kwargs))

    async def press_button(self, custom_id: str, *, message_id: int | None = None, **kwargs: Any) -> Json:
        """Send a button press, on `message_id` if given; kwargs go to `component_payload`."""
        kwargs.setdefault("application_id", self.application_id)
        payload = component_payload(custom_id, **kwargs)
        if message_id is not None:
            message = self.messages[message_id]
            payload["message"] = {"id": str(message_id), "channel_id": str(message.channel_id)}
            payload["channel_id"] = str(message.channel_id)
        return await self.send_interaction(payload)

    async def submit_modal(self, custom_id: str, values: dict[str, str], **kwargs: Any) -> Json:
        """Submit the modal `custom_id` with its text inputs' values; kwargs go to `modal_payload`."""
        kwargs.setdefault("application_id", self.application_id)
        return await self.send_interaction(modal_payload(custom_id, values, **kwargs))

    def interaction(self, interaction_id: int | str) -> InteractionRecord:
        """The record of an interaction sent earlier."""
        return next(r for r in self.interactions.values() if r.id == int(interaction_id))

    async def wait_for_callback(self, interaction_id: int | str, *, timeout: float = WAIT_SECONDS) -> Json:  # noqa: ASYNC109
        """The body the bot POSTed to the interaction's callback route."""
        record = self.interaction(interaction_id)
        return await self.waiter.until(
            lambda: record.callback, timeout=timeout, what=f"callback {interaction_id}"
        )


def _known(state: EventSender, channel_id: int | None) -> int | None:
    if channel_id is None:
        return None
    try:
        return state.channel(channel_id).id
    except ApiError:
        return None


class InteractionRoutes(RouteBase):
    """`/interactions/{id}/{token}/callback` and `/webhooks/{application_id}/{token}/…`."""

    def _record(self, token: str) -> InteractionRecord:
        record: InteractionRecord | None = self.emu.interactions.get(token)
        if record is None:
            raise ApiError(404, 10062, "Unknown interaction")
        return record

    async def callback(self, request: web.Request) -> web.Response:
        """POST callback: types 4/5 create the original response, 7 edits the pressed message, 6 only
        acknowledges (a later `@original` edit changes the pressed message)."""
        record = self._record(request.match_info["token"])
        if str(record.id) != request.match_info["interaction_id"]:
            raise ApiError(404, 10062, "Unknown interaction")
        body = self.body(request)
        message = await answer_interaction(self.emu, record, body, self.files(request))
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        answer: Json = {
            "interaction": {"id": str(record.id), "type": 2},
            "resource": {"type": body.get("type")},
        }
        if message is not None:
            answer["interaction"]["response_message_id"] = str(message.id)
            answer["interaction"]["response_message_ephemeral"] = bool(message.flags & EPHEMERAL)
            answer["resource"]["message"] = self.emu.message_json(message)
        return json_response(answer)

    def _webhook_message(self, request: web.Request) -> tuple[InteractionRecord, Message]:
        if request.match_info["app_id"] != str(self.emu.application_id):
            raise ApiError(404, 10015, "Unknown Webhook")
        record = self._record(request.match_info["token"])
        raw = request.match_info["message_id"]
        message_id = record.original_message_id if raw == "@original" else int(raw)
        if message_id is None or message_id not in self.emu.messages:
            raise ApiError(404, 10008, "Unknown Message")
        return record, self.emu.messages[message_id]

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        """GET /webhooks/{app}/{token}/messages/{@original|id}."""
        _, message = self._webhook_message(request)
        return json_response(self.emu.message_json(message))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        """PATCH /webhooks/{app}/{token}/messages/{@original|id}: ends a deferred response's loading state."""
        _, message = self._webhook_message(request)
        body = self.body(request)
        apply_message_body(message, body)
        attach_uploads(self.emu, message, self.files(request), body)
        message.flags &= ~LOADING
        return json_response(await self.emu.announce_edit(message))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{app}/{token}/messages/{@original|id}."""
        _, message = self._webhook_message(request)
        await self.emu.delete_message(message.channel_id, message.id)
        return no_content()

    async def followup(self, request: web.Request) -> web.Response:
        """POST /webhooks/{app}/{token}: a follow-up message."""
        if request.match_info["app_id"] != str(self.emu.application_id):
            raise ApiError(404, 10015, "Unknown Webhook")
        record = self._record(request.match_info["token"])
        if record.callback is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        message = new_response_message(self.emu, record, self.body(request), self.files(request))
        record.followups.append(message.id)
        await announce(self.emu, message)
        return json_response(self.emu.message_json(message))


Uploads = list[tuple[str, bytes, str]]


def http_answer(response: httpx.Response) -> tuple[Json, Uploads]:
    """An interactions endpoint's 200: JSON, or Discord's multipart form (`payload_json`, `files[n]`)."""
    kind = response.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return response.json(), []
    head = f"Content-Type: {kind}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    form = BytesParser(policy=HTTP).parsebytes(head + response.content)
    body: Json = {}
    files: Uploads = []
    for part in form.iter_parts():
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        if part.get_param("name", header="content-disposition") == "payload_json":
            body = json.loads(data)
        else:
            files.append((part.get_filename() or "file", data, part.get_content_type()))
    return body, files


def attach_uploads(emu: InteractionSender, message: Message, files: Uploads, body: Json) -> None:
    """Put uploaded files on a message, as Discord does: an edit keeps the existing attachments its
    body still lists (by id) and adds the new ones."""
    if not files and "attachments" not in body:
        return
    listed = {str(a.get("id")) for a in body.get("attachments") or ()}
    kept = [a for a in message.attachments if a["id"] in listed]
    added = [emu.add_attachment(message.channel_id, name, data, kind) for name, data, kind in files]
    message.attachments = kept + added


def new_response_message(
    emu: InteractionSender, record: InteractionRecord, data: Json, files: Uploads | None = None
) -> Message:
    """A message the application posts in answer to an interaction."""
    message = Message(snowflake(), record.channel_id or 0, record.guild_id, emu.bot_user.id)
    message.application_id = message.webhook_id = emu.application_id
    apply_message_body(message, data)
    attach_uploads(emu, message, files or [], data)
    emu.messages[message.id] = message
    return message


async def announce(emu: InteractionSender, message: Message) -> None:
    """MESSAGE_CREATE for a response message (ephemeral messages never reach the gateway)."""
    if not message.flags & EPHEMERAL:
        data = emu.message_json(message, gateway=True)
        await emu.dispatch("MESSAGE_CREATE", data, guild_id=message.guild_id)


async def answer_interaction(
    emu: InteractionSender, record: InteractionRecord, body: Json, files: Uploads | None = None
) -> Message | None:
    """Apply an interaction response the way Discord does, whether it came as a callback POST or as
    the HTTP reply of an interactions endpoint: 4/5 create the original message, 7 edits the pressed one,
    6 makes the pressed one `@original` for a later edit."""
    if record.callback is not None:
        raise ApiError(400, 40060, "Interaction has already been acknowledged.")
    kind, data = int(body.get("type", 0)), body.get("data") or {}
    message: Message | None = None
    if kind in (4, 5):
        message = new_response_message(emu, record, data, files or [])
        if kind == 5:
            message.flags |= LOADING
        record.original_message_id = message.id
        await announce(emu, message)
    elif kind == 7 and record.message_id is not None and record.message_id in emu.messages:
        message = emu.messages[record.message_id]
        apply_message_body(message, data)
        attach_uploads(emu, message, files or [], data)
        record.original_message_id = message.id
        await emu.announce_edit(message)
    elif kind == 6 and record.message_id is not None:
        record.original_message_id = record.message_id  # `@original` is now the pressed message
    record.callback = body
    return message
