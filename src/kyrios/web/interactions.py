"""`POST /interactions`: Discord's HTTP interactions endpoint.

The signature is Ed25519 over `timestamp + raw body` with the application's public key; any
missing, malformed, stale or wrong signature is answered 401 before the body is even parsed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
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


def _reject(runtime: Runtime, status: int, message: str) -> JSONResponse:
    runtime.metrics.interactions_rejected += 1
    return JSONResponse({"error": message}, status_code=status)


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


def build_router(runtime: Runtime, verifier: SignatureVerifier, followups: FollowUpSender) -> APIRouter:
    """The interactions route bound to one runtime."""
    router = APIRouter()

    @router.post("/interactions", include_in_schema=False)
    async def interactions(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _reject(runtime, 413, "payload too large")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _reject(runtime, 413, "payload too large")
        problem = verifier.problem(
            request.headers.get("x-signature-ed25519"), request.headers.get("x-signature-timestamp"), body
        )
        if problem is not None:
            return _reject(runtime, 401 if verifier.configured else 503, problem)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _reject(runtime, 400, "body is not valid JSON")
        if not isinstance(payload, dict):
            return _reject(runtime, 400, "body must be a JSON object")
        return JSONResponse(await answer(runtime, followups, payload))

    return router


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
