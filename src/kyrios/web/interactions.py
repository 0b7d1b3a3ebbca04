"""`POST /interactions`: Discord's HTTP interactions endpoint.

The signature is Ed25519 over `timestamp + raw body` with the application's public key; any
missing, malformed, stale or wrong signature is answered 401 before the body is even parsed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from kyrios.core.errors import DomainError
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Invocation, Source
from kyrios.slash.payload import APPLICATION_COMMAND, MESSAGE_COMPONENT, invocation_from_payload
from kyrios.slash.reply import CallbackType, Reply

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
PING = 1
AUTOCOMPLETE = 4


class SignatureVerifier:
    """Checks Discord's Ed25519 request signatures."""

    def __init__(self, public_key_hex: str | None, max_age_seconds: int) -> None:
        self._key = VerifyKey(bytes.fromhex(public_key_hex)) if public_key_hex else None
        self.max_age_seconds = max_age_seconds

    @property
    def configured(self) -> bool:
        """False until KYRIOS_DISCORD_PUBLIC_KEY is set."""
        return self._key is not None

    def problem(self, signature: str | None, timestamp: str | None, body: bytes) -> str | None:
        """None when the request is genuine, otherwise why it is not."""
        if self._key is None:
            return "interactions are not configured (KYRIOS_DISCORD_PUBLIC_KEY is unset)"
        if not signature or not timestamp:
            return "missing signature headers"
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.max_age_seconds:
            return "stale or invalid timestamp"
        try:
            self._key.verify(timestamp.encode() + body, bytes.fromhex(signature))
        except (BadSignatureError, ValueError):
            return "invalid request signature"
        return None


class FollowUpSender:
    """Edits the original response of a deferred interaction through Discord's webhook API."""

    def __init__(self, api_base: str, application_id: int | None) -> None:
        self.api_base = api_base.rstrip("/")
        self.application_id = application_id
        self.tasks: set[asyncio.Task[None]] = set()
        self.client = httpx.AsyncClient(timeout=10)

    def edit_original_later(self, runtime: Runtime, inv: Invocation, application_id: int) -> None:
        """Run the command in the background and patch the deferred message with its reply."""
        task = asyncio.create_task(self._run(runtime, inv, application_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, runtime: Runtime, inv: Invocation, application_id: int) -> None:
        reply = await runtime.registry.dispatch(inv)
        url = f"{self.api_base}/webhooks/{application_id}/{inv.interaction_token}/messages/@original"
        try:
            response = await self.client.patch(url, json=reply.to_message())
            response.raise_for_status()
        except httpx.HTTPError:
            log.exception("could not deliver the deferred reply for /%s", inv.command)

    async def aclose(self) -> None:
        """Wait for pending follow-ups, then close the HTTP client."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class InteractionsEndpoint:
    """`POST /interactions` as a bare ASGI app: Discord waits on every command, so no framework layers.

    The checks run in the order that spends least on a bad request: size, signature, JSON.
    """

    def __init__(self, runtime: Runtime, verifier: SignatureVerifier, followups: FollowUpSender) -> None:
        self.runtime = runtime
        self.verifier = verifier
        self.followups = followups

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "use POST"}, allow=True)
            return
        try:
            status, body = await self._handle(scope, receive)
        except Exception:
            log.exception("the interactions endpoint failed")
            status, body = 500, {"error": "internal error"}
        await _respond(send, status, body)

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        headers = _headers(scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return self._reject(413, "payload too large")
        body = await _read_body(receive, MAX_BODY_BYTES)
        if body is None:
            return self._reject(413, "payload too large")
        problem = self.verifier.problem(
            headers.get("x-signature-ed25519"), headers.get("x-signature-timestamp"), body
        )
        if problem is not None:
            return self._reject(401 if self.verifier.configured else 503, problem)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._reject(400, "body is not valid JSON")
        if not isinstance(payload, dict):
            return self._reject(400, "body must be a JSON object")
        return 200, await answer(self.runtime, self.followups, payload)

    def _reject(self, status: int, message: str) -> tuple[int, dict[str, Any]]:
        self.runtime.metrics.interactions_rejected += 1
        return status, {"error": message}


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers we read, lower-cased names (ASGI already lower-cases them)."""
    wanted = _WANTED_HEADERS
    return {name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in wanted}


_WANTED_HEADERS = frozenset({b"content-length", b"x-signature-ed25519", b"x-signature-timestamp"})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, payload: dict[str, Any], *, allow: bool = False) -> None:
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if allow:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def answer(runtime: Runtime, followups: FollowUpSender, payload: dict[str, Any]) -> dict[str, Any]:
    """The callback body for one verified interaction."""
    kind = payload.get("type")
    if kind == PING:
        return {"type": int(CallbackType.PONG)}
    if kind == AUTOCOMPLETE:
        return {"type": 8, "data": {"choices": []}}
    if kind not in (APPLICATION_COMMAND, MESSAGE_COMPONENT):
        return Reply.error("This kind of interaction is not supported.").to_callback()
    try:
        inv = invocation_from_payload(payload, Source.HTTP)
    except DomainError as exc:
        return Reply.error(exc.message).to_callback()
    command = runtime.registry.find(inv.command) if inv.custom_id is None else None
    application_id = payload.get("application_id") or runtime.settings.discord_application_id
    if command is not None and command.defer and application_id and inv.interaction_token:
        try:
            runtime.registry.validate(command, inv)
        except DomainError as exc:
            return Reply.error(exc.message).to_callback()
        followups.edit_original_later(runtime, inv, int(application_id))
        return {"type": int(CallbackType.DEFERRED_CHANNEL_MESSAGE)}
    reply = await runtime.registry.dispatch(inv)
    return reply.to_callback()
