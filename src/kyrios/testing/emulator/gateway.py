"""The gateway WebSocket: HELLO/IDENTIFY/READY/GUILD_CREATE, heartbeats, member chunks, RESUME, drops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from kyrios.testing.emulator.models import Json
from kyrios.testing.emulator.state import EmulatorState
from kyrios.testing.emulator.traffic import Waiter

HEARTBEAT_INTERVAL_MS = 41_250
API_VERSION = 10


class Op:
    """Gateway opcodes."""

    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class Intent:
    """Gateway intent bits the emulator enforces."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15


EVENT_INTENTS = {
    "CHANNEL_CREATE": Intent.GUILDS,
    "CHANNEL_UPDATE": Intent.GUILDS,
    "CHANNEL_DELETE": Intent.GUILDS,
    "GUILD_ROLE_CREATE": Intent.GUILDS,
    "GUILD_ROLE_UPDATE": Intent.GUILDS,
    "GUILD_ROLE_DELETE": Intent.GUILDS,
    "GUILD_MEMBER_ADD": Intent.GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": Intent.GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": Intent.GUILD_MEMBERS,
    "GUILD_BAN_ADD": Intent.GUILD_MODERATION,
    "GUILD_BAN_REMOVE": Intent.GUILD_MODERATION,
    "GUILD_AUDIT_LOG_ENTRY_CREATE": Intent.GUILD_MODERATION,
    "MESSAGE_CREATE": Intent.GUILD_MESSAGES,
    "MESSAGE_UPDATE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": Intent.GUILD_MESSAGES,
    "VOICE_STATE_UPDATE": Intent.GUILD_VOICE_STATES,
    "THREAD_CREATE": Intent.GUILDS,
    "THREAD_UPDATE": Intent.GUILDS,
    "THREAD_DELETE": Intent.GUILDS,
    "THREAD_MEMBERS_UPDATE": Intent.GUILDS,
    "THREAD_MEMBER_UPDATE": Intent.GUILDS,
    "CHANNEL_PINS_UPDATE": Intent.GUILDS,
    "MESSAGE_REACTION_ADD": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_ALL": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_EMOJI": Intent.GUILD_MESSAGE_REACTIONS,
}
# The same events in a DM (no `guild_id`) need the direct-message intents instead.
DM_EVENT_INTENTS = {
    **dict.fromkeys(
        ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "CHANNEL_PINS_UPDATE"), Intent.DIRECT_MESSAGES
    ),
    **dict.fromkeys(
        (
            "MESSAGE_REACTION_ADD",
            "MESSAGE_REACTION_REMOVE",
            "MESSAGE_REACTION_REMOVE_ALL",
            "MESSAGE_REACTION_REMOVE_EMOJI",
        ),
        Intent.DIRECT_MESSAGE_REACTIONS,
    ),
}
CONTENT_FIELDS = ("content", "embeds", "attachments", "components")


@dataclass
class GatewaySession:
    """One identified shard session; it outlives a dropped socket so that RESUME can replay."""

    id: str
    shard_id: int
    shard_count: int
    intents: int
    socket: web.WebSocketResponse | None = None
    seq: int = 0
    sent: list[Json] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def wants(self, guild_id: int | None) -> bool:
        """Does this shard receive events of that guild (DMs go to shard 0)?"""
        shard = (guild_id >> 22) % self.shard_count if guild_id else 0
        return shard == self.shard_id


def shape_for(session: GatewaySession, event: str, data: Json, bot_user_id: int) -> Json | None:
    """The payload this session may see: None without the intent; no content without MESSAGE_CONTENT."""
    in_dm = event in DM_EVENT_INTENTS and "guild_id" not in data
    needed = DM_EVENT_INTENTS[event] if in_dm else EVENT_INTENTS.get(event)
    if needed is not None and not session.intents & needed:
        return None
    if event == "GUILD_CREATE" and not session.intents & Intent.GUILD_PRESENCES:
        # Discord then lists only the bot itself and the members in voice
        keep = {str(bot_user_id)} | {v["user_id"] for v in data.get("voice_states", [])}
        return {**data, "members": [m for m in data.get("members", []) if m["user"]["id"] in keep]}
    content_hidden = not in_dm and not session.intents & Intent.MESSAGE_CONTENT  # DMs keep their content
    if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and content_hidden:
        author = (data.get("author") or {}).get("id")
        mentioned = any(u.get("id") == str(bot_user_id) for u in data.get("mentions", []))
        if author != str(bot_user_id) and not mentioned:
            data = {**data, **{key: "" if key == "content" else [] for key in CONTENT_FIELDS}}
    return data


class Gateway:
    """Serves `/gateway`; a test sends events with `dispatch` and disturbs the connection with `drop`."""

    def __init__(self, state: EmulatorState, waiter: Waiter) -> None:
        self.state = state
        self.waiter = waiter
        self.url = ""
        self.sessions: dict[str, GatewaySession] = {}
        self.received: list[Json] = []
        self.history: list[Json] = []  # every DISPATCH sent, across sessions (RESUME replays excluded)
        self.sockets: set[web.WebSocketResponse] = set()
        self.guild_create_delay = 0.0
        """Seconds before each GUILD_CREATE after READY: a slow Discord (or host) for tests."""
        self.on_voice_state: Callable[[GatewaySession, Json], Awaitable[None]] | None = None
        """Answers the bot's op 4 (voice state update); set by the emulator (`VoiceEvents`)."""

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """One client connection, from HELLO until either side closes."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.sockets.add(ws)
        session: GatewaySession | None = None
        try:
            await ws.send_str(json.dumps(frame(Op.HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})))
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(message.data)
                self.received.append(payload)
                await self.waiter.notify()
                session = await self._on_frame(ws, payload, session)
        finally:
            self.sockets.discard(ws)
            if session is not None and session.socket is ws:
                session.socket = None
                if ws.close_code in (1000, 1001):  # a clean close ends the session, as on Discord
                    self.sessions.pop(session.id, None)
        return ws

    async def _on_frame(
        self, ws: web.WebSocketResponse, payload: Json, session: GatewaySession | None
    ) -> GatewaySession | None:
        op, data = payload.get("op"), payload.get("d")
        if op == Op.HEARTBEAT:
            await ws.send_str(json.dumps(frame(Op.HEARTBEAT_ACK, None)))
        elif op == Op.IDENTIFY:
            return await self._identify(ws, data or {})
        elif op == Op.RESUME:
            return await self._resume(ws, data or {})
        elif op == Op.REQUEST_GUILD_MEMBERS and session is not None:
            await self._send_member_chunk(session, data or {})
        elif op == Op.VOICE_STATE_UPDATE and session is not None and self.on_voice_state is not None:
            await self.on_voice_state(session, data or {})
        return session

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> GatewaySession:
        shard_id, shard_count = data.get("shard") or [0, 1]
        session = GatewaySession(uuid.uuid4().hex, shard_id, shard_count, int(data.get("intents", 0)), ws)
        self.sessions[session.id] = session
        guilds = [g for g in self.state.guilds.values() if session.wants(g.id)]
        ready = {
            "v": API_VERSION,
            "user": self.state.bot_user.to_json(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        await self._send(session, "READY", ready)
        for guild in guilds:
            if self.guild_create_delay:
                await asyncio.sleep(self.guild_create_delay)
            full = shape_for(
                session, "GUILD_CREATE", self.state.guild_create_json(guild), self.state.bot_user.id
            )
            await self._send(session, "GUILD_CREATE", full or {})
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.state.token:
            await ws.send_str(json.dumps(frame(Op.INVALID_SESSION, False)))
            return None
        async with session.lock:
            session.socket = ws
            missed = [f for f in session.sent if f["s"] > int(data.get("seq") or 0)]
            for old in missed:
                await ws.send_str(json.dumps(old))
        await self._send(session, "RESUMED", {"_trace": ["kyrios-emulator"]})
        return session

    async def _send_member_chunk(self, session: GatewaySession, data: Json) -> None:
        guild = self.state.guild(int(data["guild_id"]))
        wanted = [int(u) for u in data.get("user_ids") or []]
        if wanted:
            found = [u for u in wanted if u in guild.members]
            not_found = [str(u) for u in wanted if u not in guild.members]
        else:
            query = str(data.get("query") or "").lower()
            found = [u for u in guild.members if self.state.users[u].username.lower().startswith(query)]
            not_found = []
            if data.get("limit"):
                found = found[: int(data["limit"])]
        chunk: Json = {
            "guild_id": str(guild.id),
            "members": [self.state.member_json(guild.id, u) for u in found],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": not_found,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send(self, session: GatewaySession, event: str, data: Json) -> None:
        async with session.lock:
            session.seq += 1
            payload = {"op": Op.DISPATCH, "d": data, "s": session.seq, "t": event}
            session.sent.append(payload)
            self.history.append(payload)
            if session.socket is not None and not session.socket.closed:
                await session.socket.send_str(json.dumps(payload))
        await self.waiter.notify()

    async def send_to(self, session: GatewaySession, event: str, data: Json) -> None:
        """Send a DISPATCH to one session (if its intents allow the event)."""
        shaped = shape_for(session, event, data, self.state.bot_user.id)
        if shaped is not None:
            await self._send(session, event, shaped)

    async def dispatch(self, event: str, data: Json, *, guild_id: int | None = None) -> int:
        """Send a DISPATCH to every session of the guild's shard that has the intent; returns how many."""
        delivered = 0
        for session in list(self.sessions.values()):
            if not session.wants(guild_id):
                continue
            shaped = shape_for(session, event, data, self.state.bot_user.id)
            if shaped is not None:
                await self._send(session, event, shaped)
                delivered += 1
        return delivered

    async def drop(self, *, code: int = 4000) -> None:
        """Close every socket abnormally, keeping sessions so the bot can RESUME."""
        async with self.disconnected(code=code):
            pass

    @contextlib.asynccontextmanager
    async def disconnected(self, *, code: int = 4000) -> AsyncIterator[None]:
        """Inside the block events are only buffered (the bot misses them); on exit the sockets close
        abnormally and the bot RESUMEs, getting the missed events replayed."""
        detached = []
        for session in self.sessions.values():
            detached.append(session.socket)
            session.socket = None
        try:
            yield
        finally:
            for socket in detached:
                if socket is not None:
                    await socket.close(code=code)

    async def invalidate(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; unless resumable, the sessions are forgotten and the bot must IDENTIFY."""
        for session in list(self.sessions.values()):
            if session.socket is not None:
                await session.socket.send_str(json.dumps(frame(Op.INVALID_SESSION, resumable)))
            if not resumable:
                self.sessions.pop(session.id, None)

    async def close(self) -> None:
        """Close every socket still open (the emulator is stopping)."""
        for socket in list(self.sockets):
            await socket.close(code=1001)
        self.sessions.clear()

    def frames_received(self, op: int) -> list[Json]:
        """Frames the bot sent with this opcode."""
        return [f for f in self.received if f.get("op") == op]

    def dispatched(self, event: str) -> list[Json]:
        """DISPATCH frames of this event sent so far, to any session, ended ones included."""
        return [f for f in self.history if f["t"] == event]


def frame(op: int, data: object) -> Json:
    """A non-dispatch gateway frame."""
    return {"op": op, "d": data, "s": None, "t": None}
