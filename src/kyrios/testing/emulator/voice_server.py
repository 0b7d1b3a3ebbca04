"""Discord's voice server for tests: the voice gateway (WebSocket over TLS), IP discovery and RTP over UDP.

Far enough for discord.py's real `VoiceClient` (2.7.1) to connect, pick `aead_xchacha20_poly1305_rtpsize`,
send audio, resume after close 4015 and reconnect after any other close. Every
RTP packet is decrypted with the key handed out in SESSION_DESCRIPTION and kept per connection; a test
decodes the Opus frames to PCM on demand (`VoiceConnection.pcm`, `bursts`) and measures them (`rms`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import secrets
import struct
import time
from array import array
from dataclasses import dataclass, field

import discord.opus
from aiohttp import WSMsgType, web
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError

from kyrios.testing.emulator.models import Json
from kyrios.testing.emulator.tls import self_signed_context
from kyrios.testing.emulator.traffic import Waiter

MODE = "aead_xchacha20_poly1305_rtpsize"
"""The only mode served: Discord's required one, and the only AEAD mode discord.py supports."""
HEARTBEAT_INTERVAL_MS = 13_750.0
OPUS_SILENCE = b"\xf8\xff\xfe"
FRAME_SECONDS = 0.02
SAMPLES_PER_FRAME = 960  # per channel, 48 kHz
CHANNELS = 2
SAMPLE_RATE = 48_000
DISCOVERY_LENGTH = 74
RTP_PAYLOAD_TYPE = 120
# The client's UDP reader may still sit in a 30 s `select` on a socket a reconnect closes; one ignored
# datagram shortly after each discovery reply moves it on (otherwise a reconnect can take 30 s).
NUDGE_DELAY = 0.2


class VoiceOp:
    """Voice gateway opcodes (v8)."""

    IDENTIFY = 0
    SELECT_PROTOCOL = 1
    READY = 2
    HEARTBEAT = 3
    SESSION_DESCRIPTION = 4
    SPEAKING = 5
    HEARTBEAT_ACK = 6
    RESUME = 7
    HELLO = 8
    RESUMED = 9


@dataclass(frozen=True)
class VoiceFrame:
    """One decrypted RTP packet: its header fields, when it arrived, and the Opus frame inside."""

    sequence: int
    timestamp: int
    received_at: float  # time.monotonic()
    opus: bytes

    @property
    def is_silence(self) -> bool:
        """The 3-byte silence frame senders emit (5 times) when they stop or pause."""
        return self.opus == OPUS_SILENCE


@dataclass
class VoiceConnection:
    """One IDENTIFY on the voice gateway: a user's connection to a guild's voice, and what it sent."""

    guild_id: int
    user_id: int
    session_id: str
    ssrc: int
    key: bytes
    mode: str | None = None
    client_address: tuple[str, int] | None = None
    ready: bool = False  # SESSION_DESCRIPTION sent
    closed_with: int | None = None  # WebSocket close code once the socket is gone
    speaking: list[int] = field(default_factory=list)
    frames: list[VoiceFrame] = field(default_factory=list)
    rejected: int = 0  # RTP packets that failed to decrypt
    resumes: int = 0
    _pcm: list[bytes] = field(default_factory=list, repr=False)
    _decoder: discord.opus.Decoder | None = field(default=None, repr=False)

    @property
    def audio_frames(self) -> list[VoiceFrame]:
        """The frames that carry sound (silence frames left out)."""
        return [f for f in self.frames if not f.is_silence]

    def decoded(self) -> list[bytes]:
        """The PCM of each frame (s16le, 48 kHz stereo, 3840 bytes), decoded in arrival order with libopus."""
        if self._decoder is None:
            self._decoder = discord.opus.Decoder()  # type: ignore[no-untyped-call]
        for frame in self.frames[len(self._pcm) :]:
            self._pcm.append(self._decoder.decode(frame.opus, fec=False))
        return list(self._pcm)

    def pcm(self, *, with_silence: bool = True) -> bytes:
        """Everything received as one PCM stream (silence frames decode to 20 ms of zeros)."""
        pcm = self.decoded()
        return b"".join(p for p, f in zip(pcm, self.frames, strict=True) if with_silence or not f.is_silence)

    def bursts(self) -> list[bytes]:
        """The sound between silence frames: one PCM chunk per stretch of audio (a pause splits it)."""
        chunks: list[list[bytes]] = [[]]
        for pcm, frame in zip(self.decoded(), self.frames, strict=True):
            if frame.is_silence:
                if chunks[-1]:
                    chunks.append([])
            else:
                chunks[-1].append(pcm)
        return [b"".join(c) for c in chunks if c]


def pcm_seconds(pcm: bytes) -> float:
    """The duration of s16le 48 kHz stereo PCM."""
    return len(pcm) / (2 * CHANNELS * SAMPLE_RATE)


def rms(pcm: bytes) -> float:
    """Root mean square of s16le samples, 0 … 32768 (a full-scale sine gives about 23170)."""
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


@dataclass
class PendingServer:
    """A VOICE_SERVER_UPDATE handed out: whoever IDENTIFIES with this token joins this guild's voice."""

    guild_id: int
    user_id: int
    session_id: str
    token: str


class VoiceServer:
    """The voice endpoint: `wss://127.0.0.1:<port>` (self-signed TLS) and a UDP port for media."""

    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter
        self.connections: list[VoiceConnection] = []
        self.received: list[Json] = []  # every voice-gateway message a client sent
        self.port = 0
        self.udp_port = 0
        self._pending: dict[str, PendingServer] = {}
        self._sockets: dict[int, web.WebSocketResponse] = {}  # ssrc -> its current WebSocket
        self._ssrcs = itertools.count(1001)
        self._runner: web.AppRunner | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.server_context, self.client_context = self_signed_context()

    @property
    def endpoint(self) -> str:
        """What VOICE_SERVER_UPDATE carries: host and port (discord.py adds `wss://` and `/?v=8`)."""
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Serve the WebSocket over TLS and bind the UDP socket, both on free loopback ports."""
        app = web.Application()
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.server_context)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _MediaProtocol(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.udp_port = int(transport.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        """Close every socket and the server."""
        for socket in list(self._sockets.values()):
            await socket.close(code=1001)
        if self._transport is not None:
            self._transport.close()
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def grant(self, guild_id: int, user_id: int, session_id: str) -> str:
        """A fresh token for VOICE_SERVER_UPDATE; the next IDENTIFY must present it."""
        token = secrets.token_hex(8)
        self._pending[token] = PendingServer(guild_id, user_id, session_id, token)
        return token

    # lookups ----------------------------------------------------------------------------------------

    def connections_of(self, guild_id: int) -> list[VoiceConnection]:
        """Every connection made to this guild's voice, oldest first (a reconnect adds one)."""
        return [c for c in self.connections if c.guild_id == guild_id]

    def connection(self, guild_id: int) -> VoiceConnection:
        """The latest connection to this guild's voice (KeyError if there was none)."""
        found = self.connections_of(guild_id)
        if not found:
            raise KeyError(f"no voice connection to guild {guild_id}")
        return found[-1]

    async def close_connection(self, guild_id: int, *, code: int = 4015) -> None:
        """Close the guild's current voice WebSocket with `code` (4015: "voice server crashed", resumable)."""
        socket = self._sockets.get(self.connection(guild_id).ssrc)
        if socket is not None:
            await socket.close(code=code)

    # voice gateway ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        connection: VoiceConnection | None = None
        try:
            await _send(ws, VoiceOp.HELLO, {"v": 8, "heartbeat_interval": HEARTBEAT_INTERVAL_MS})
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue  # binary frames are DAVE (E2EE) messages; this server never enables DAVE
                payload = json.loads(message.data)
                self.received.append(payload)
                connection = await self._on_message(ws, payload, connection)
                await self.waiter.notify()
        finally:
            if connection is not None and self._sockets.get(connection.ssrc) is ws:
                del self._sockets[connection.ssrc]
                connection.closed_with = ws.close_code
                await self.waiter.notify()
        return ws

    async def _on_message(
        self, ws: web.WebSocketResponse, payload: Json, connection: VoiceConnection | None
    ) -> VoiceConnection | None:
        op, data = payload.get("op"), payload.get("d") or {}
        if op == VoiceOp.HEARTBEAT:
            await _send(ws, VoiceOp.HEARTBEAT_ACK, {"t": data.get("t") if isinstance(data, dict) else data})
        elif op == VoiceOp.IDENTIFY:
            return await self._identify(ws, data)
        elif op == VoiceOp.RESUME:
            return await self._resume(ws, data)
        elif connection is None:
            await ws.close(code=4003)  # Not authenticated
        elif op == VoiceOp.SELECT_PROTOCOL:
            await self._select_protocol(ws, connection, data)
        elif op == VoiceOp.SPEAKING:
            connection.speaking.append(int(data.get("speaking", 0)))
        return connection

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> VoiceConnection | None:
        grant = self._pending.get(str(data.get("token")))
        if (
            grant is None
            or str(data.get("server_id")) != str(grant.guild_id)
            or str(data.get("user_id")) != str(grant.user_id)
            or data.get("session_id") != grant.session_id
        ):
            await ws.close(code=4004)  # Authentication failed
            return None
        connection = VoiceConnection(
            grant.guild_id, grant.user_id, grant.session_id, next(self._ssrcs), secrets.token_bytes(32)
        )
        self.connections.append(connection)
        self._sockets[connection.ssrc] = ws
        ready = {
            "ssrc": connection.ssrc,
            "ip": "127.0.0.1",
            "port": self.udp_port,
            "modes": [MODE],
            "heartbeat_interval": int(HEARTBEAT_INTERVAL_MS),
        }
        await _send(ws, VoiceOp.READY, ready)
        return connection

    async def _select_protocol(
        self, ws: web.WebSocketResponse, connection: VoiceConnection, data: Json
    ) -> None:
        mode = (data.get("data") or {}).get("mode")
        if data.get("protocol") != "udp" or mode != MODE:
            await ws.close(code=4016)  # Unknown encryption mode
            return
        connection.mode = mode
        await self._describe_session(ws, connection)

    async def _describe_session(self, ws: web.WebSocketResponse, connection: VoiceConnection) -> None:
        description = {
            "mode": connection.mode,
            "secret_key": list(connection.key),
            "audio_codec": "opus",
            "media_session_id": secrets.token_hex(16),
            "dave_protocol_version": 0,  # no end-to-end encryption: plain Opus under transport crypto
        }
        await _send(ws, VoiceOp.SESSION_DESCRIPTION, description)
        connection.ready = True

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> VoiceConnection | None:
        found = [
            c
            for c in self.connections
            if str(c.guild_id) == str(data.get("server_id")) and c.session_id == data.get("session_id")
        ]
        grant = self._pending.get(str(data.get("token")))
        if not found or grant is None or grant.guild_id != found[-1].guild_id:
            await ws.close(code=4006)  # Session no longer valid
            return None
        connection = found[-1]
        connection.resumes += 1
        connection.closed_with = None
        self._sockets[connection.ssrc] = ws
        await _send(ws, VoiceOp.RESUMED, None)
        await self._describe_session(ws, connection)
        return connection

    # media ------------------------------------------------------------------------------------------

    def on_datagram(self, data: bytes, address: tuple[str, int]) -> None:
        """IP discovery request or an RTP packet."""
        if len(data) == DISCOVERY_LENGTH and data[:2] == b"\x00\x01":
            self._discover(data, address)
        elif len(data) > 12 + 4 + 16 and data[0] & 0xC0 == 0x80 and data[1] & 0x7F == RTP_PAYLOAD_TYPE:
            self._receive_rtp(data, address)

    def _discover(self, data: bytes, address: tuple[str, int]) -> None:
        (ssrc,) = struct.unpack_from(">I", data, 4)
        reply = struct.pack(">HHI64sH", 2, 70, ssrc, address[0].encode(), address[1])
        assert self._transport is not None
        self._transport.sendto(reply, address)
        for connection in self.connections:
            if connection.ssrc == ssrc:
                connection.client_address = address
        transport = self._transport
        asyncio.get_running_loop().call_later(NUDGE_DELAY, _nudge, transport, address)

    def _receive_rtp(self, data: bytes, address: tuple[str, int]) -> None:
        sequence, timestamp, ssrc = struct.unpack_from(">HII", data, 2)
        connection = next((c for c in reversed(self.connections) if c.ssrc == ssrc), None)
        if connection is None or connection.mode != MODE:
            return
        header, nonce = data[:12], data[-4:] + bytes(20)
        try:
            opus = crypto_aead_xchacha20poly1305_ietf_decrypt(data[12:-4], header, nonce, connection.key)
        except CryptoError:
            connection.rejected += 1
            return
        connection.frames.append(VoiceFrame(sequence, timestamp, time.monotonic(), opus))
        task = asyncio.get_running_loop().create_task(self.waiter.notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _MediaProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: VoiceServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.on_datagram(data, addr)


def _nudge(transport: asyncio.DatagramTransport, address: tuple[str, int]) -> None:
    with contextlib.suppress(OSError):
        if not transport.is_closing():
            transport.sendto(b"\x00\x00\x00\x00", address)


async def _send(ws: web.WebSocketResponse, op: int, data: object) -> None:
    if not ws.closed:
        await ws.send_str(json.dumps({"op": op, "d": data}))
