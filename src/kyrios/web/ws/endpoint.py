"""The `/ws` endpoint: one connection's reader, writer and slow-consumer close."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from kyrios.core.errors import DomainError, InvalidInput
from kyrios.core.i18n import DoorStyle, Translator, negotiate
from kyrios.web.auth.cookies import ACCESS_COOKIE
from kyrios.web.auth.kit import AuthKit
from kyrios.web.locale import request_locale
from kyrios.web.ws import messages
from kyrios.web.ws.client import WsClient, frame
from kyrios.web.ws.hub import Hub

SLOW_CONSUMER = 4008
"""Close code for a client whose send queue filled up (4000-4999: the application's own)."""
CLOSE_TIMEOUT = 10.0
"""Seconds a dropped client has to read what is already on its way before the close frame reaches
it; after that the connection is simply cut."""


def connection_locale(websocket: WebSocket) -> str:
    """The `locale` query parameter if Kyrios speaks it, else the upgrade's `Accept-Language`."""
    asked = websocket.query_params.get("locale")
    return negotiate(asked) if asked else request_locale(websocket)


async def serve(websocket: WebSocket, hub: Hub, auth: AuthKit) -> None:
    """Serve one connection until it closes or is dropped as a slow consumer."""
    translator = Translator(connection_locale(websocket), DoorStyle.PLAIN)
    await websocket.accept()
    client = WsClient(translator, hub.limits.max_queue)
    cookie = websocket.cookies.get(ACCESS_COOKIE)
    if cookie:
        with contextlib.suppress(DomainError):  # a stale cookie: the client may still send `auth`
            client.account_id = auth.tokens.verify(cookie).account_id
    hub.connect(client)
    writer = asyncio.create_task(_write(websocket, client))
    reader = asyncio.create_task(_read(websocket, hub, auth, client))
    dropped = asyncio.create_task(client.dropped.wait())
    try:
        await asyncio.wait({writer, reader, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (writer, reader, dropped):
            task.cancel()
        await asyncio.gather(writer, reader, dropped, return_exceptions=True)
        await hub.disconnect(client)
    if client.dropped.is_set():
        reason = translator.t(messages.TOO_SLOW).encode()[:123].decode(errors="ignore")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(SLOW_CONSUMER, reason), CLOSE_TIMEOUT)


async def _write(websocket: WebSocket, client: WsClient) -> None:
    while True:
        await websocket.send_text(await client.next_frame())


async def _read(websocket: WebSocket, hub: Hub, auth: AuthKit, client: WsClient) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            text = await websocket.receive_text()
            await _handle(text, hub, auth, client)
            await client.room()


async def _handle(text: str, hub: Hub, auth: AuthKit, client: WsClient) -> None:
    """Carry out one request; its answer (ack or error) goes into the client's queue."""
    op: Any = None
    try:
        request = json.loads(text)
        if not isinstance(request, dict):
            raise InvalidInput(messages.BAD_REQUEST)
        op = request.get("op")
        if op == "auth":
            token = request.get("token")
            if not isinstance(token, str):
                raise InvalidInput(messages.BAD_REQUEST)
            client.account_id = auth.tokens.verify(token).account_id
            client.offer(frame("system", "authenticated", account_id=client.account_id))
            return
        if op not in ("subscribe", "unsubscribe"):
            raise InvalidInput(messages.BAD_REQUEST)
        channels = request.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise InvalidInput(messages.NO_CHANNELS)
    except json.JSONDecodeError:
        _error(client, op, None, InvalidInput(messages.BAD_REQUEST))
        return
    except DomainError as error:
        _error(client, op, None, error)
        return
    done = []
    for channel in channels:
        try:
            if op == "subscribe":
                await hub.subscribe(client, channel)
            else:
                await hub.unsubscribe(client, channel)
            done.append(channel)
        except DomainError as error:
            _error(client, op, channel, error)
    if done:
        client.offer(frame("system", "subscribed" if op == "subscribe" else "unsubscribed", channels=done))


def _error(client: WsClient, op: Any, channel: str | None, error: DomainError) -> None:
    client.offer(
        frame(
            "system",
            "error",
            op=op if isinstance(op, str) else None,
            subject=channel,
            code=error.kind,
            message=error.render(client.translator),
        )
    )
