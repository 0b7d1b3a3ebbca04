"""The composition root: one `Runtime` holds settings, database, clock, randomness and commands.

No module singletons: two runtimes on two databases can live in one process (tests do this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

from kyrios.core.bus import EventBus, InMemoryBus
from kyrios.core.bus_redis import RedisBus
from kyrios.core.clock import Clock, SystemClock
from kyrios.core.db import Database
from kyrios.core.discord_rest import RestDiscordPort
from kyrios.core.ports import DiscordPort
from kyrios.core.rng import RandomSource
from kyrios.exchange.client import DetachedClient, ExchangeClient, InProcessClient
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.recorder import NetWorthRecorder
from kyrios.exchange.service import Exchange
from kyrios.exchange.streams import StreamClient, StreamServer
from kyrios.features.guild_settings import service as guild_settings
from kyrios.ops.metrics import Metrics
from kyrios.settings import Settings
from kyrios.slash.manifest import SliceManifest
from kyrios.slash.registry import Registry
from kyrios.slices import MANIFESTS, command_sets, running


class GatewayState(Protocol):
    """What readiness and metrics read of a running gateway bot (a `discord.Client`)."""

    @property
    def latency(self) -> float:
        """Seconds between the last heartbeat and its acknowledgement (NaN before the first)."""
        ...

    def is_ready(self) -> bool:
        """Connected and the READY payload received."""
        ...


@dataclass
class Runtime:
    """Everything a door needs to serve commands."""

    settings: Settings
    db: Database
    clock: Clock
    rng: RandomSource
    registry: Registry
    manifests: tuple[SliceManifest, ...] = MANIFESTS
    """The slices this process runs: their commands are in `registry`; the gateway runs their cogs."""
    metrics: Metrics = field(default_factory=Metrics)
    bus: EventBus = field(default_factory=InMemoryBus)
    discord: DiscordPort | None = None  # REST when a token is set; the gateway bot's port while it runs
    exchange: ExchangeClient = field(init=False)
    """How this process reaches the exchange: in-process once it runs it (`run_exchange`); else
    over Redis Streams when Redis is configured (`StreamClient`), or a client that reads from the
    database and refuses writes (`DetachedClient`)."""
    _running: Exchange | None = field(default=None, repr=False)
    recorder: NetWorthRecorder | None = field(default=None, repr=False)
    """Records the players' net-worth history while the exchange runs here."""
    lease: ExchangeLease | None = field(default=None, repr=False)
    """The exchange lease this process runs the exchange under (set by `run_exchange`)."""
    gateway: GatewayState | None = field(default=None, repr=False)
    """The gateway bot while it runs here (set by the bot)."""
    gateway_expected: bool = False
    """True when this process is meant to run a gateway bot (readiness waits for it)."""
    _redis: Redis | None = field(default=None, repr=False)
    """The exchange's command streams' connection (`settings.exchange_over_redis` with Redis)."""
    _server: StreamServer | None = field(default=None, repr=False)
    """Serves the command stream while the exchange runs here (with `_redis`)."""

    def __post_init__(self) -> None:
        self.registry.bus = self.bus  # commands publish on the runtime's bus after they commit
        self.registry.exchange = lambda: self.exchange  # the exchange's commands use this client
        if self.settings.redis_url and self.settings.exchange_over_redis:
            self._redis = Redis.from_url(self.settings.redis_url)
        self.exchange = self._remote()
        if self.discord is None and self.settings.discord_token:
            token, api_base = self.settings.discord_token.get_secret_value(), self.settings.discord_api_base
            self.discord = RestDiscordPort(token, api_base=api_base)
        self._instrument()

    def _remote(self) -> ExchangeClient:
        """The client of this process while another one runs the exchange."""
        if self._redis is None:
            return DetachedClient(self.db, self.clock)
        return StreamClient(self.db, self.clock, self._redis, timeout=self.settings.exchange_timeout_seconds)

    def _instrument(self) -> None:
        """Point the parts that count events at this runtime's metrics."""
        if self.metrics.observe_command not in self.registry.observers:
            self.registry.observers.append(self.metrics.observe_command)
        if self.db.metrics is None:  # one database shared by two runtimes is timed by the first
            self.db.instrument(self.metrics.db)
        if isinstance(self.discord, RestDiscordPort) and self.discord.metrics is None:
            self.discord.metrics = self.metrics.discord

    @property
    def running_exchange(self) -> Exchange | None:
        """The exchange while this process runs it (metrics read its books)."""
        return self._running

    async def run_exchange(self, lease: ExchangeLease) -> int:
        """Run the exchange here under `lease` (already held): recover every book, then serve it
        in-process; returns the resting orders restored. `aclose()` stops it and releases the lease."""
        exchange = Exchange(self.db, self.bus, self.clock, lease=lease, metrics=self.metrics.exchange)
        self._running = exchange
        self.lease = lease
        restored = await exchange.start()
        self.exchange = InProcessClient(exchange)
        if self._redis is not None:  # the other processes' commands
            self._server = StreamServer(self._redis, self.exchange)
            await self._server.start()
        self.recorder = NetWorthRecorder(self.db, self.clock, fence=lease.fence)
        self.recorder.start()
        return restored

    async def start(self) -> None:
        """Connect what needs a running loop (the Redis bus, when configured)."""
        if isinstance(self.bus, RedisBus):
            await self.bus.start()

    async def flush(self) -> None:
        """Return once what was published on the Redis bus has left (Lambda: before it freezes)."""
        if isinstance(self.bus, RedisBus):
            await self.bus.flush()

    async def aclose(self) -> None:
        """Stop the exchange (if it ran here) and give its lease up, stop the bus, release connections."""
        if self._server is not None:
            await self._server.aclose()
            self._server = None
        if self.recorder is not None:
            await self.recorder.aclose()
            self.recorder = None
        if self._running is not None:
            await self._running.aclose()
            if self._running.lease is not None:
                await self._running.lease.release()
            self._running = None
            self.lease = None
            self.exchange = self._remote()
        if isinstance(self.bus, RedisBus):
            await self.bus.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        if isinstance(self.discord, RestDiscordPort):
            await self.discord.aclose()
        await self.db.dispose()


def build_runtime(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    rng: RandomSource | None = None,
    manifests: Sequence[SliceManifest] | None = None,
) -> Runtime:
    """Wire a runtime from settings (read from the environment when not given) answering the
    commands of `manifests` (the slices the settings do not disable, unless a test says otherwise)."""
    settings = settings or Settings()
    slices = tuple(running(settings.disabled_slices) if manifests is None else manifests)
    db = Database(settings.database_url)
    clock = clock or SystemClock()
    rng = rng or RandomSource()
    metrics = Metrics()
    registry = Registry(
        db,
        clock,
        rng,
        feature_gate=guild_settings.is_feature_enabled,
        default_timezone=settings.default_timezone,
        guild_preferences=guild_settings.language_and_zone,
        guards=[manifest.guard for manifest in slices if manifest.guard is not None],
        site_url=settings.site_url,
    )
    for command_set in command_sets(slices):
        registry.include(command_set)
    bus: EventBus = RedisBus(settings.redis_url) if settings.redis_url else InMemoryBus()
    return Runtime(
        settings=settings,
        db=db,
        clock=clock,
        rng=rng,
        registry=registry,
        manifests=slices,
        metrics=metrics,
        bus=bus,
    )
