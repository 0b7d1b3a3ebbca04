"""The Prometheus metrics of one runtime (prometheus-client), exposed at `/metrics`.

Each `Metrics` has a registry of its own (two runtimes in one process do not mix their counts).
Events are counted where they happen, through the small groups below (`commands`, `db`,
`discord`, `gateway`, `exchange`), each caching its bound label children so a hot path pays one
dict lookup, not prometheus-client's label validation. State that already exists somewhere (pool
in use, book depth, WebSocket clients, the lease) is read at scrape time by collectors the doors
attach (`attach`), so nothing is kept up to date on the hot path for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from kyrios.ops.backup import metrics as backup_metrics

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Command latency: Discord's 3 s answer window and the seeds' 5 s alarm fall on bucket edges."""
FAST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
"""Statements, matching, persisting: sub-millisecond on SQLite."""
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
OUTCOMES = ("ok", "refused", "error")


class CommandMetrics:
    """Commands per command, door and outcome, and their latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.total = Counter(
            "kyrios_commands",
            "Commands dispatched, by command, door (gateway, http, console, prefix) and outcome.",
            ("command", "door", "outcome"),
            registry=registry,
        )
        self.seconds = Histogram(
            "kyrios_command_seconds",
            "Command latency from dispatch to reply, by command and door.",
            ("command", "door"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.interactions_rejected = Counter(
            "kyrios_interactions_rejected",
            "Interaction requests refused before dispatch (bad signature or body).",
            registry=registry,
        )
        self._bound: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def observe(self, command: str, door: str, seconds: float, outcome: str) -> None:
        """Count one dispatched command (outcome `ok`, `refused` or `error`) and its latency."""
        key = (command, door, outcome)
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bound[key] = (
                self.total.labels(command, door, outcome),
                self.seconds.labels(command, door),
            )
        bound[0].inc()
        bound[1].observe(seconds)


class DatabaseMetrics:
    """Statement latency, write-lock waits, retried units of work and group-commit batches."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.statement_seconds = Histogram(
            "kyrios_db_statement_seconds",
            "Latency of statements run through SQLAlchemy (the SQLite fast path is not timed).",
            buckets=FAST_BUCKETS,
            registry=registry,
        )
        self.lock_wait_seconds = Histogram(
            "kyrios_db_lock_wait_seconds",
            "Time a write waited for the SQLite writer lock of this process.",
            buckets=FAST_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "kyrios_db_retries",
            "Units of work run again after a deadlock, serialization failure, lock timeout or busy database.",
            ("reason",),
            registry=registry,
        )
        self.batch_size = Histogram(
            "kyrios_db_group_commit_batch_size",
            "Commands committed together by one SQLite group commit.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self._retry: dict[str, Any] = {}

    def retried(self, reason: str) -> None:
        """Count one retried unit of work (`deadlock`, `serialization`, `lock_timeout`, `busy`)."""
        child = self._retry.get(reason)
        if child is None:
            child = self._retry[reason] = self.retries.labels(reason)
        child.inc()


class DiscordMetrics:
    """Requests to Discord's REST API per route, its 429s and the rate-limit budget left."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "kyrios_discord_requests",
            "Discord REST requests sent, by route and status class.",
            ("route", "status"),
            registry=registry,
        )
        self.rate_limited = Counter(
            "kyrios_discord_rate_limited",
            "Discord 429 answers, by route and scope (route bucket, global, shared).",
            ("route", "scope"),
            registry=registry,
        )
        self.remaining = Gauge(
            "kyrios_discord_ratelimit_remaining",
            "Requests left in the route's current rate-limit window (X-RateLimit-Remaining).",
            ("route",),
            registry=registry,
        )
        self.limit = Gauge(
            "kyrios_discord_ratelimit_limit",
            "Requests the route's rate-limit window allows (X-RateLimit-Limit).",
            ("route",),
            registry=registry,
        )
        self._routes: dict[str, tuple[Any, Any]] = {}
        self._requests: dict[tuple[str, int], Any] = {}

    def answered(self, route: str, status: int, remaining: str | None, limit: str | None) -> None:
        """Count one response and record the budget its headers announce."""
        status_class = status // 100
        child = self._requests.get((route, status_class))
        if child is None:
            child = self._requests[route, status_class] = self.requests.labels(route, f"{status_class}xx")
        child.inc()
        if remaining is None or limit is None:
            return
        gauges = self._routes.get(route)
        if gauges is None:
            gauges = self._routes[route] = (self.remaining.labels(route), self.limit.labels(route))
        gauges[0].set(float(remaining))
        gauges[1].set(float(limit))

    def limited(self, route: str, scope: str) -> None:
        """Count one 429."""
        self.rate_limited.labels(route, scope).inc()  # rare: no child cache needed


class GatewayMetrics:
    """The gateway connection: reconnects here; latency and state are read at scrape time."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reconnects = Counter(
            "kyrios_gateway_reconnects",
            "Gateway sessions resumed or re-identified after the first connection.",
            registry=registry,
        )
        self.disconnects = Counter(
            "kyrios_gateway_disconnects", "Gateway connections lost.", registry=registry
        )


class ExchangeMetrics:
    """Orders accepted or rejected by reason, matching and persisting latency, trades."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.orders = Counter(
            "kyrios_exchange_orders",
            "New orders by outcome (accepted, rejected, duplicate) and rejection reason code.",
            ("outcome", "reason"),
            registry=registry,
        )
        self.match_seconds = Histogram(
            "kyrios_exchange_match_seconds",
            "Time one sequencer batch spent in the order book (placing and canceling).",
            buckets=FAST_BUCKETS,
            registry=registry,
        )
        self.persist_seconds = Histogram(
            "kyrios_exchange_persist_seconds",
            "Time one sequencer batch spent writing its orders, trades and balances.",
            buckets=FAST_BUCKETS,
            registry=registry,
        )
        self.trades = Counter(
            "kyrios_exchange_trades", "Trades executed, by symbol.", ("symbol",), registry=registry
        )
        self.accepted = self.orders.labels("accepted", "")
        self.duplicate = self.orders.labels("duplicate", "")
        self._rejected: dict[str, Any] = {}
        self._trades: dict[str, Any] = {}

    def rejected(self, reason: str) -> None:
        """Count one rejected order with its reason code."""
        child = self._rejected.get(reason)
        if child is None:
            child = self._rejected[reason] = self.orders.labels("rejected", reason)
        child.inc()

    def traded(self, symbol: str, count: int) -> None:
        """Count `count` trades of `symbol`."""
        child = self._trades.get(symbol)
        if child is None:
            child = self._trades[symbol] = self.trades.labels(symbol)
        child.inc(count)


class HostCollector(Collector):
    """The machine's size, so alerts can express CPU and memory use as fractions (the 80 % alarms).

    Memory is the cgroup limit when one is set (a container), else the physical memory.
    """

    def collect(self) -> Iterable[GaugeMetricFamily]:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        yield GaugeMetricFamily("kyrios_host_cpus", "CPUs this process may run on.", value=cpus)
        memory = _memory_limit()
        if memory is not None:
            yield GaugeMetricFamily(
                "kyrios_host_memory_bytes", "Memory available to this process.", value=memory
            )


def _memory_limit() -> float | None:
    try:
        with open("/sys/fs/cgroup/memory.max") as limit:
            value = limit.read().strip()
        if value.isdigit():
            return float(value)
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


class FunctionCollector(Collector):
    """A collector from a function (the doors' scrape-time readings of runtime state)."""

    def __init__(self, collect: Callable[[], Iterable[Any]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Any]:
        return self._collect()


class Metrics:
    """Every metric of one runtime, with its own registry (process metrics included)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(HostCollector())
        self.commands = CommandMetrics(self.registry)
        self.db = DatabaseMetrics(self.registry)
        self.discord = DiscordMetrics(self.registry)
        self.gateway = GatewayMetrics(self.registry)
        self.exchange = ExchangeMetrics(self.registry)
        self._attached: dict[str, Collector] = {}
        self.attach("backups", backup_metrics.families)  # whichever process ran them (status.json)

    def observe_command(self, command: str, door: str, seconds: float, outcome: str) -> None:
        """The registry's command observer."""
        self.commands.observe(command, door, seconds, outcome)

    def attach(self, name: str, collect: Callable[[], Iterable[Any]]) -> None:
        """Read state at scrape time with `collect`; attaching `name` again replaces the previous one."""
        previous = self._attached.pop(name, None)
        if previous is not None:
            self.registry.unregister(previous)
        collector = FunctionCollector(collect)
        self.registry.register(collector)
        self._attached[name] = collector

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
