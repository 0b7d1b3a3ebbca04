"""`POST /interactions`: Discord's HTTP interactions endpoint.

The signature is Ed25519 over `timestamp + raw body` with the application's public key; any
missing, malformed, stale or wrong signature is answered 401 before the body is even parsed.

An answer with files (a `/stock price` chart) is the HTTP response as Discord's multipart form, the
shape its callback route takes: the callback JSON in `payload_json`, whose message names each
upload in `attachments`, then `files[n]`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import orjson
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from kyrios.core.discord_rest import RestDiscordPort
from kyrios.core.ports import DiscordPort, Json, Upload, callback_with_attachments
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Source
from kyrios.slash.reply import CallbackType
from kyrios.slash.respond import (
    DEFAULT_BUDGET_SECONDS,
    Acknowledge,
    InteractionResponder,
    respond_to_interaction,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
PING = 1
AUTOCOMPLETE = 4
SHUTDOWN_GRACE_SECONDS = 60.0
"""How long shutdown waits for late replies (commands still running) before cancelling them."""


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


Answer = tuple[Json, Sequence[Upload]]
"""An interaction's HTTP answer: the callback body and the files attached to its message."""


class PendingReplies:
    """The reply path of each interaction in flight: it may outlive its HTTP response (a late reply
    is delivered through the interaction's webhook), so shutdown waits for it (`aclose`)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], answered: asyncio.Future[Answer]) -> None:
        """Run `work`, which resolves `answered` with the HTTP response's body (or fails it if it ends
        without answering)."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self.tasks.discard(done)
            problem = None if done.cancelled() else done.exception()
            if not answered.done():
                answered.set_exception(problem or RuntimeError("the reply path ended without an answer"))
            elif problem is not None:
                log.error("the reply path failed after answering", exc_info=problem)

        task.add_done_callback(finished)

    async def run_here(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the current task (the request's own), counted as in flight until it ends."""
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await work
        finally:
            self.tasks.discard(task)

    async def aclose(self, timeout: float = SHUTDOWN_GRACE_SECONDS) -> None:  # noqa: ASYNC109
        """Wait for replies still being delivered (cancelling those past `timeout`)."""
        if not self.tasks:
            return
        _, late = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("cancelled %d interaction replies still running at shutdown", len(late))
            await asyncio.gather(*late, return_exceptions=True)


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class InteractionsEndpoint:
    """`POST /interactions` as a bare ASGI app: Discord waits on every command, so no framework layers.

    The checks run in the order that spends least on a bad request: size, signature, JSON. A
    verified interaction goes to the reply path (`kyrios.slash.respond`), which answers in the HTTP
    response within `reply_budget` seconds of the request's arrival, or answers deferred there and
    delivers the reply later through the interaction's webhook (`runtime.discord`, else a
    token-less REST port: interaction webhooks need no bot token).

    `inline`: run the reply path in the request's own task and send the HTTP response from wherever
    it is acknowledged (a deferral at the deadline sends it from the timer's task). That saves a
    task, a future and a turn of the event loop per interaction, and needs a server that sends a
    response as soon as it is complete and lets the app run on (uvicorn does: `kyrios up` and the
    uvicorn factory use it). Otherwise each reply path runs in a task of its own and the request
    waits for its answer: Mangum (Lambda) and httpx's ASGI transport return a response only once
    the app has returned, which would hold a deferral until the late reply was delivered.
    """

    def __init__(
        self,
        runtime: Runtime,
        verifier: SignatureVerifier,
        *,
        reply_budget: float = DEFAULT_BUDGET_SECONDS,
        inline: bool = False,
    ) -> None:
        self.runtime = runtime
        self.verifier = verifier
        self.reply_budget = reply_budget
        self.inline = inline
        self.pending = PendingReplies()
        self._webhooks: RestDiscordPort | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at = time.monotonic()
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "use POST"}, allow=True)
            return
        try:
            status, answer = await self._handle(scope, receive, send, received_at)
        except Exception:
            log.exception("the interactions endpoint failed")
            status, answer = 500, ({"error": "internal error"}, ())
        if answer is not None:
            await _send_answer(send, status, answer)

    async def aclose(self) -> None:
        """Wait for late replies still being delivered, then close the webhook client."""
        await self.pending.aclose()
        if self._webhooks is not None:
            await self._webhooks.aclose()
            self._webhooks = None

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, received_at: float
    ) -> tuple[int, Answer | None]:
        """The status and answer to send, or None for an answer the reply path has sent itself."""
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
        if self.inline:
            return 200, await self._answer_inline(payload, received_at, send)
        return 200, await self._answer(payload, received_at)

    def _reject(self, status: int, message: str) -> tuple[int, Answer | None]:
        self.runtime.metrics.commands.interactions_rejected.inc()
        return status, ({"error": message}, ())

    async def _answer(self, payload: dict[str, Any], received_at: float) -> Answer:
        """The HTTP response's body (and files) for one verified interaction, its reply path in a task."""
        immediate = _immediate(payload)
        if immediate is not None:
            return immediate
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

        async def acknowledge(body: Json, files: Sequence[Upload]) -> None:
            if not answered.done():
                answered.set_result((body, files))

        self.pending.start(self._reply_path(payload, received_at, acknowledge), answered)
        return await answered

    async def _answer_inline(self, payload: dict[str, Any], received_at: float, send: Send) -> Answer | None:
        """Run one verified interaction's reply path here; it sends the HTTP response itself (None)."""
        immediate = _immediate(payload)
        if immediate is not None:
            return immediate
        answered = False

        async def acknowledge(body: Json, files: Sequence[Upload]) -> None:
            nonlocal answered
            if not answered:
                answered = True
                await _send_answer(send, 200, (body, files))

        try:
            await self.pending.run_here(self._reply_path(payload, received_at, acknowledge))
        except Exception:
            if not answered:
                raise
            log.exception("the reply path failed after answering")
        if not answered:
            raise RuntimeError("the reply path ended without an answer")
        return None

    def _reply_path(
        self,
        payload: dict[str, Any],
        received_at: float,
        acknowledge: Acknowledge,
    ) -> Coroutine[Any, Any, None]:
        """`respond_to_interaction` for the payload, its first answer going to `acknowledge`."""
        application_id = _snowflake(payload.get("application_id"))
        token = payload.get("token")
        responder = InteractionResponder(
            acknowledge,
            self._port(),
            application_id or self.runtime.settings.discord_application_id,
            token if isinstance(token, str) else None,
        )
        return respond_to_interaction(
            self.runtime.registry,
            payload,
            Source.HTTP,
            responder,
            received_at=received_at,
            budget=self.reply_budget,
        )

    def _port(self) -> DiscordPort:
        """Where late replies go: the runtime's port (the bot's, or REST with a token), else our own."""
        if self.runtime.discord is not None:
            return self.runtime.discord
        if self._webhooks is None:
            self._webhooks = RestDiscordPort(None, api_base=self.runtime.settings.discord_api_base)
        return self._webhooks


def _immediate(payload: dict[str, Any]) -> Answer | None:
    """The answer of an interaction that runs no command (a PING, an autocomplete), else None."""
    kind = payload.get("type")
    if kind == PING:
        return {"type": int(CallbackType.PONG)}, ()
    if kind == AUTOCOMPLETE:
        return {"type": 8, "data": {"choices": []}}, ()
    return None


async def _send_answer(send: Send, status: int, answer: Answer) -> None:
    """The HTTP response: JSON, or Discord's multipart form when the message has files."""
    body, files = answer
    if files:
        await _respond_multipart(send, status, body, files)
    else:
        await _respond(send, status, body)


def _snowflake(value: Any) -> int | None:
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


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


async def _respond_multipart(send: Send, status: int, callback: Json, files: Sequence[Upload]) -> None:
    """The answer as `multipart/form-data`: `payload_json`, then each file as `files[n]`."""
    boundary = secrets.token_hex(16)
    body = multipart_form(boundary, orjson.dumps(callback_with_attachments(callback, files)), files)
    headers = [
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def multipart_form(boundary: str, payload_json: bytes, files: Sequence[Upload]) -> bytes:
    """Discord's multipart message form (RFC 7578): `payload_json` and `files[n]` parts."""
    dash = f"--{boundary}".encode()
    parts = [
        dash + b'\r\nContent-Disposition: form-data; name="payload_json"\r\n'
        b"Content-Type: application/json\r\n\r\n" + payload_json + b"\r\n"
    ]
    for index, upload in enumerate(files):
        filename = upload.filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head = (
            f'Content-Disposition: form-data; name="files[{index}]"; filename="{filename}"\r\n'
            f"Content-Type: {upload.content_type}\r\n\r\n"
        )
        parts.append(dash + b"\r\n" + head.encode() + upload.data + b"\r\n")
    return b"".join(parts) + dash + b"--\r\n"
