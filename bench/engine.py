"""Matching-engine benchmark: a mixed stream of 200,000 commands through one order book.

Mix: about 60 % limit, 25 % cancel, 15 % market orders; prices within ±50 ticks of the mid;
quantities 1-100; 100 users; STP CANCEL_NEWEST (the default). Two books:

- shallow: limit prices anywhere within ±50 ticks, so many cross and few orders rest;
- deep: limit prices mostly on their own side of the mid, so ~30,000 orders come to rest.

Cancels name open orders (nine in ten) as real cancels do. Each book runs under two GC
policies: CPython's default, and `gc.freeze()` after every batch (what a sequencer can do so that
the cyclic collector stops re-scanning the long-lived book; the engine itself makes no cycles).

Throughput is timed over the whole stream without per-message timers (median of several runs,
wall clock; the CPU-time figure beside it is less disturbed by other processes on a shared host);
latency percentiles come from a second run that times each command on its own. Events are taken
from the book every 1,000 commands, as a sequencer would take a batch. GC pauses are timed with
`gc.callbacks` in both runs. The last line of output is one JSON object with the headline figures.

Engines: the headline keys measure `kyrios.exchange.engine.OrderBook` as selected at import (the C
book of `_cbook` when it is built, else the pure-Python one; "engine" says which). With
`--engine both` (the default) the pure-Python book is measured too, under "python_*" keys. Both
get the same command streams (generated with the Python book as the oracle).

    python bench/engine.py [--commands 200000] [--runs 5] [--seed 7] [--engine both|selected|python]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from kyrios.exchange.engine import C_ENGINE, OrderBook, PyOrderBook, Side

MID = 10_000
TICK = 1
SPREAD_TICKS = 50
USERS = 100
BATCH = 1_000
LIMIT, CANCEL, MARKET = 0, 1, 2
Command = tuple[int, int, int, Side, int, int]
"""(kind, order_id, user_id, side, price_cents, quantity); cancels use the first three."""


def generate(count: int, *, deep: bool, seed: int) -> list[Command]:
    """A reproducible command stream.

    A book is run alongside the generator (untimed) so that cancels can name orders that are
    still open, as real cancels mostly do; one in ten names an order picked blindly.
    """
    rng = random.Random(seed)
    oracle = PyOrderBook("BENCH", tick_size_cents=TICK)  # its open_orders dict is live and cheap to test
    commands: list[Command] = []
    limits: list[tuple[int, int]] = []  # (order_id, user_id) of every limit so far
    for order_id in range(1, count + 1):
        roll = rng.random()
        user_id = rng.randrange(USERS)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        quantity = rng.randint(1, 100)
        if roll < 0.60 or not limits:
            if deep:  # mostly passive: a few ticks of overlap keep the top of the book trading
                offset = rng.randint(-8, SPREAD_TICKS)
                price = MID - offset * TICK if side is Side.BUY else MID + offset * TICK
            else:
                price = MID + rng.randint(-SPREAD_TICKS, SPREAD_TICKS) * TICK
            command = (LIMIT, order_id, user_id, side, price, quantity)
            limits.append((order_id, user_id))
        elif roll < 0.85:
            for _ in range(1 if rng.random() < 0.1 else 50):
                target_id, owner = limits[rng.randrange(len(limits))]
                if target_id in oracle.open_orders:
                    break
            command = (CANCEL, target_id, owner, side, 0, 0)
        else:
            command = (MARKET, order_id, user_id, side, 0, quantity)
        run_one(oracle, command)
        oracle.take_events()
        commands.append(command)
    return commands


def run_one(book: PyOrderBook, command: Command) -> None:
    """Apply one command (used by the generator; the timed loops inline this)."""
    kind, order_id, user_id, side, price, quantity = command
    if kind == LIMIT:
        book.place_limit(order_id, user_id, side, price, quantity)
    elif kind == CANCEL:
        book.cancel(order_id, user_id)
    else:
        book.place_market(order_id, user_id, side, quantity)


@dataclass
class GcPauses:
    """Times every garbage collection through `gc.callbacks`: wall clock, and this thread's CPU
    time (which other processes on a shared host cannot inflate)."""

    pauses_ns: list[int] = field(default_factory=list)
    cpu_pauses_ns: list[int] = field(default_factory=list)
    _started: int = 0
    _cpu_started: int = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._cpu_started = time.thread_time_ns()
            self._started = time.perf_counter_ns()
        else:
            self.pauses_ns.append(time.perf_counter_ns() - self._started)
            self.cpu_pauses_ns.append(time.thread_time_ns() - self._cpu_started)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    @property
    def max_ms(self) -> float:
        """The longest pause in milliseconds, wall clock (0 if none)."""
        return max(self.pauses_ns, default=0) / 1e6

    @property
    def max_cpu_ms(self) -> float:
        """The longest pause in milliseconds of CPU time (0 if none)."""
        return max(self.cpu_pauses_ns, default=0) / 1e6


BookClass = type[OrderBook] | type[PyOrderBook]


def new_book(book_class: BookClass) -> OrderBook:
    """The benchmarked book: one cent ticks, up to 1,000,000 units per order."""
    return book_class("BENCH", tick_size_cents=TICK)


def run_throughput(
    book_class: BookClass, commands: list[Command], *, freeze_each_batch: bool
) -> tuple[float, float, int, OrderBook]:
    """Wall and CPU seconds for the whole stream, events emitted, and the final book."""
    book = new_book(book_class)
    place_limit, place_market, cancel = book.place_limit, book.place_market, book.cancel
    take_events = book.take_events
    freeze = gc.freeze
    events = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    for start in range(0, len(commands), BATCH):
        for kind, order_id, user_id, side, price, quantity in commands[start : start + BATCH]:
            if kind == LIMIT:
                place_limit(order_id, user_id, side, price, quantity)
            elif kind == CANCEL:
                cancel(order_id, user_id)
            else:
                place_market(order_id, user_id, side, quantity)
        events += len(take_events())
        if freeze_each_batch:
            freeze()
    elapsed = time.perf_counter() - started
    return elapsed, time.process_time() - cpu_started, events, book


def run_latency(book_class: BookClass, commands: list[Command], *, freeze_each_batch: bool) -> list[int]:
    """Nanoseconds per command, each timed on its own, sorted."""
    book = new_book(book_class)
    place_limit, place_market, cancel = book.place_limit, book.place_market, book.cancel
    take_events = book.take_events
    freeze = gc.freeze
    clock = time.perf_counter_ns
    latencies = array("q", bytes(8 * len(commands)))  # preallocated: no objects made while timing
    index = 0
    for start in range(0, len(commands), BATCH):
        for kind, order_id, user_id, side, price, quantity in commands[start : start + BATCH]:
            before = clock()
            if kind == LIMIT:
                place_limit(order_id, user_id, side, price, quantity)
            elif kind == CANCEL:
                cancel(order_id, user_id)
            else:
                place_market(order_id, user_id, side, quantity)
            latencies[index] = clock() - before
            index += 1
        take_events()
        if freeze_each_batch:
            freeze()
    return sorted(latencies)


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The value below which `fraction` of the sorted values lie, in microseconds."""
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))] / 1_000


@dataclass
class PolicyRuns:
    """What the runs under one GC policy measured."""

    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    gc_pauses_ms: list[float] = field(default_factory=list)
    gc_cpu_pauses_ms: list[float] = field(default_factory=list)
    collections: int = 0
    events: int = 0
    resting_orders: int = 0
    levels: int = 0


def timed_run(
    book_class: BookClass, commands: list[Command], runs: PolicyRuns, *, freeze_each_batch: bool
) -> None:
    """One throughput run, added to `runs`."""
    gc.collect()
    gc.freeze()  # the stream itself is long-lived input, not engine state
    with GcPauses() as run_gc:
        elapsed, cpu, runs.events, book = run_throughput(
            book_class, commands, freeze_each_batch=freeze_each_batch
        )
    gc.unfreeze()
    runs.seconds.append(elapsed)
    runs.cpu_seconds.append(cpu)
    runs.gc_pauses_ms.append(run_gc.max_ms)
    runs.gc_cpu_pauses_ms.append(run_gc.max_cpu_ms)
    runs.collections += len(run_gc.pauses_ns)
    depth = book.depth(1 << 40)
    runs.resting_orders, runs.levels = len(book), len(depth.bids) + len(depth.asks)


def measure(book_class: BookClass, commands: list[Command], count: int) -> dict[bool, dict[str, float]]:
    """Figures per GC policy (keyed by freeze_each_batch); the policies' runs alternate so that
    other load on the host falls on both alike."""
    policies = {False: PolicyRuns(), True: PolicyRuns()}
    for _ in range(count):
        for freeze_each_batch, runs in policies.items():
            timed_run(book_class, commands, runs, freeze_each_batch=freeze_each_batch)
    figures: dict[bool, dict[str, float]] = {}
    for freeze_each_batch, runs in policies.items():
        gc.collect()
        gc.freeze()
        with GcPauses() as latency_gc:
            latencies = run_latency(book_class, commands, freeze_each_batch=freeze_each_batch)
        gc.unfreeze()
        figures[freeze_each_batch] = {
            "msgs_per_s": round(len(commands) / statistics.median(runs.seconds)),
            "best_msgs_per_s": round(len(commands) / min(runs.seconds)),
            "cpu_msgs_per_s": round(len(commands) / statistics.median(runs.cpu_seconds)),
            "events_per_run": runs.events,
            "p50_us": percentile(latencies, 0.50),
            "p99_us": percentile(latencies, 0.99),
            "p999_us": percentile(latencies, 0.999),
            "max_us": latencies[-1] / 1_000,
            "gc_max_ms": round(max(*runs.gc_pauses_ms, latency_gc.max_ms), 3),
            "gc_max_cpu_ms": round(max(*runs.gc_cpu_pauses_ms, latency_gc.max_cpu_ms), 3),
            "gc_collections_per_run": runs.collections // count,
            "resting_orders": runs.resting_orders,
            "levels": runs.levels,
        }
    return figures


def report(
    name: str, policy: str, commands: int, figures: dict[str, float], emit: Callable[[str], None]
) -> None:
    """Print one book's figures under one GC policy."""
    emit(
        f"{name:15s} {policy:17s} {figures['msgs_per_s']:>9,.0f} msgs/s median"
        f" (best {figures['best_msgs_per_s']:,.0f}; by CPU time {figures['cpu_msgs_per_s']:,.0f});"
        f" {figures['events_per_run']:,.0f} events for {commands:,} commands\n"
        f"{'':33s} latency p50 {figures['p50_us']:.2f} µs  p99 {figures['p99_us']:.2f} µs"
        f"  p99.9 {figures['p999_us']:.2f} µs  max {figures['max_us']:.1f} µs\n"
        f"{'':33s} GC max pause {figures['gc_max_ms']:.3f} ms ({figures['gc_max_cpu_ms']:.3f} ms CPU),"
        f" {figures['gc_collections_per_run']:.0f} collections a run; book at the end:"
        f" {figures['resting_orders']:,.0f} resting orders on {figures['levels']:.0f} levels"
    )


def headline_of(results: dict[tuple[str, bool], dict[str, float]]) -> dict[str, float]:
    """The headline figures of one engine: default GC, and gc.freeze() per batch ("frozen_*")."""
    shallow, deep = results["shallow", False], results["deep", False]
    return {
        "shallow_msgs_per_s": shallow["msgs_per_s"],
        "deep_msgs_per_s": deep["msgs_per_s"],
        "shallow_cpu_msgs_per_s": shallow["cpu_msgs_per_s"],
        "deep_cpu_msgs_per_s": deep["cpu_msgs_per_s"],
        "p50_us": max(shallow["p50_us"], deep["p50_us"]),
        "p99_us": max(shallow["p99_us"], deep["p99_us"]),
        "p999_us": max(shallow["p999_us"], deep["p999_us"]),
        "max_us": max(shallow["max_us"], deep["max_us"]),
        "gc_max_ms": max(shallow["gc_max_ms"], deep["gc_max_ms"]),
        "gc_max_cpu_ms": max(shallow["gc_max_cpu_ms"], deep["gc_max_cpu_ms"]),
        "frozen_shallow_msgs_per_s": results["shallow", True]["msgs_per_s"],
        "frozen_deep_msgs_per_s": results["deep", True]["msgs_per_s"],
        "frozen_p99_us": max(results["shallow", True]["p99_us"], results["deep", True]["p99_us"]),
        "frozen_gc_max_ms": max(results["shallow", True]["gc_max_ms"], results["deep", True]["gc_max_ms"]),
        "frozen_gc_max_cpu_ms": max(
            results["shallow", True]["gc_max_cpu_ms"], results["deep", True]["gc_max_cpu_ms"]
        ),
        "deep_resting_orders": deep["resting_orders"],
    }


def main() -> None:
    """Run both books under both GC policies and print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--engine",
        choices=["both", "selected", "python"],
        default="both",
        help="both: the selected OrderBook (C when built) and the pure-Python one; selected or python: one",
    )
    args = parser.parse_args()
    emit = print
    selected_name = "c" if C_ENGINE else "python"
    engines: list[tuple[str, BookClass]] = []
    if args.engine != "python":
        engines.append((selected_name, OrderBook))
    if args.engine == "python" or (args.engine == "both" and C_ENGINE):
        engines.append(("python", PyOrderBook))
    emit(
        f"CPython {sys.version.split()[0]}; {args.commands:,} commands a stream; throughput is the median"
        f" of {args.runs} untimed-per-message runs, latency from one more run timing each command;"
        f" engines: {', '.join(name for name, _ in engines)}"
    )
    streams = {
        name: generate(args.commands, deep=is_deep, seed=args.seed)
        for name, is_deep in (("shallow", False), ("deep", True))
    }
    headlines: list[dict[str, float]] = []
    for engine, book_class in engines:
        results: dict[tuple[str, bool], dict[str, float]] = {}
        for name, commands in streams.items():
            for freeze_each_batch, figures in measure(book_class, commands, args.runs).items():
                policy = "gc.freeze()/batch" if freeze_each_batch else "default GC"
                report(f"{engine}:{name}", policy, len(commands), figures, emit)
                results[name, freeze_each_batch] = figures
        headlines.append(headline_of(results))
    headline: dict[str, object] = {"engine": engines[0][0], **headlines[0]}
    if len(engines) > 1:
        headline |= {f"python_{key}": value for key, value in headlines[1].items()}
        headline["c_speedup_shallow"] = round(
            headlines[0]["shallow_msgs_per_s"] / headlines[1]["shallow_msgs_per_s"], 2
        )
        headline["c_speedup_deep"] = round(
            headlines[0]["deep_msgs_per_s"] / headlines[1]["deep_msgs_per_s"], 2
        )
    emit(json.dumps(headline))


if __name__ == "__main__":
    main()
