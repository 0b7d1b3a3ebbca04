"""Living-market benchmark: the exchange on uvicorn (fresh SQLite) and the bots over REST, N minutes.

Everything real: a migrated SQLite file in a temporary directory, the exchange lease this process
takes (as `kyrios up` does), the app on a local port, one symbol (ACME, tick 5 cents), the
`kyrios bots` mix per symbol (`provision.Mix`), each agent with its own funded BOT account and
API key, trading through `RestTransport` with a fair-value model seeded by `--seed`. The bots
and the server share this process (and its CPU).

Every second a sampler reads the public depth: the spread in ticks, the units resting within
1 % of the mid, the mid and the microprice against the fair value. At the end: median spread,
median depth, the tracking error (mean |mid − fair| / fair, basis points), the stylized facts
(`bots/stylized.py`) of 1-second and 1-minute mid returns (1-minute figures need a run of many
minutes; short runs give NaN, printed as null) and of 1-second microprice returns, trade count,
and the invariants.

Returns are of the mid quote, not of the last trade: trade prices alternate between bid and ask
(Roll's 1984 bid-ask bounce), which alone makes lag-1 autocorrelation strongly negative, so
intraday studies use mid quotes (or the microprice of Stoikov 2018, the mid weighted by the
queues at the touch: `(bid · ask_qty + ask · bid_qty) / (bid_qty + ask_qty)`). Even mid returns
at 1 second carry microstructure noise, and Cont (2001) states the facts for scales of minutes and
up. Mind the sampling error: an ACF from n returns has a standard error of about 1/√n (0.075
for a 3-minute run, more with heavy tails), so a single short run cannot show |ACF| < 0.05;
`acf_standard_error` is printed beside the figures. A PNG (`--png`) shows price
against fair value and the ACF of returns and absolute returns. The last line of output is one
JSON object with the headline figures.

    python bench/market.py [--minutes 2] [--seed 1] [--speed 5] [--png market.png] [--offline]

`--offline` runs the same mix and fair value in simulated time (`bots/simulate.py`, no server,
no invariants): a 30-minute market in about a second, for tuning the agents.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import socket
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from PIL import Image, ImageDraw
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.bots.fair_value import AssetSpec, FairValueModel
from kyrios.bots.provision import Mix, account_name, fund_accounts
from kyrios.bots.runner import RunStats, run_live
from kyrios.bots.simulate import Simulation
from kyrios.bots.stylized import StylizedFacts, log_returns, stylized_facts
from kyrios.core.clock import SystemClock
from kyrios.core.migrate import upgrade
from kyrios.core.rng import RandomSource
from kyrios.exchange import accounts, invariants
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.web.auth import api_keys
from kyrios.web.main import create_app

SYMBOL = "ACME"
TICK = 5
PRICE = 10_000
console = Console()


@dataclass(frozen=True)
class Sample:
    """The book and the fair value at one second."""

    time: float
    fair: float
    mid: float | None
    microprice: float | None
    spread_ticks: int | None
    depth_1pct: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def sample(http: httpx.AsyncClient, model: FairValueModel, at: float) -> Sample:
    """One reading of the public depth."""
    depth = (await http.get(f"/api/v1/depth/{SYMBOL}", params={"levels": 500})).json()
    bids = [(level["price_cents"], level["quantity"]) for level in depth["bids"]]
    asks = [(level["price_cents"], level["quantity"]) for level in depth["asks"]]
    return reading(at, model.price(SYMBOL), bids, asks)


def reading(at: float, fair: float, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> Sample:
    """A sample from (price, quantity) levels, best first."""
    if not bids or not asks:
        return Sample(at, fair, None, None, None, 0)
    (bid, bid_quantity), (ask, ask_quantity) = bids[0], asks[0]
    mid = (bid + ask) / 2
    microprice = (bid * ask_quantity + ask * bid_quantity) / (bid_quantity + ask_quantity)
    near = sum(quantity for price, quantity in bids + asks if abs(price - mid) <= mid / 100)
    return Sample(at, fair, mid, microprice, (ask - bid) // TICK, near)


def finite(value: float) -> float | None:
    """A figure for JSON: NaN becomes null."""
    return None if math.isnan(value) else round(value, 4)


def facts_json(facts: StylizedFacts) -> dict[str, object]:
    return {
        "count": facts.count,
        "excess_kurtosis": finite(facts.excess_kurtosis),
        "acf_r_1": finite(facts.acf_returns[0]),
        "acf_r_1_5": [finite(value) for value in facts.acf_returns],
        "acf_standard_error": finite(1 / math.sqrt(facts.count)) if facts.count else None,
        "mean_acf_abs_1_10": finite(facts.mean_acf_abs_1_10),
    }


def draw(path: Path, samples: list[Sample], facts: StylizedFacts) -> None:
    """Price against fair value (top), ACF of r and |r| at lags 1–20 of 1-second returns (bottom)."""
    width, height, pad = 1000, 700, 40
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    top = (pad, pad, width - pad, 400)
    values = [s.fair for s in samples] + [s.mid for s in samples if s.mid is not None]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    end = samples[-1].time or 1.0

    def point(at: float, price: float) -> tuple[float, float]:
        x = top[0] + (top[2] - top[0]) * at / end
        return x, top[3] - (top[3] - top[1]) * (price - low) / span

    pen.rectangle(top, outline="grey")
    pen.line([point(s.time, s.fair) for s in samples], fill="orange", width=2)
    mids = [point(s.time, s.mid) for s in samples if s.mid is not None]
    if len(mids) > 1:
        pen.line(mids, fill="navy", width=1)
    pen.text(
        (pad, 10), f"{SYMBOL}: mid (navy) vs fair value (orange), {low / 100:.2f}-{high / 100:.2f}", "black"
    )
    bottom = (pad, 450, width - pad, height - pad)
    pen.rectangle(bottom, outline="grey")
    zero = (bottom[1] + bottom[3]) / 2
    pen.line([(bottom[0], zero), (bottom[2], zero)], fill="grey")
    pen.text((pad, 425), "ACF of 1 s returns (blue) and |returns| (red), lags 1-20", "black")
    step = (bottom[2] - bottom[0]) / 20
    scale = (bottom[3] - bottom[1]) / 2
    for series, colour, shift in ((facts.acf_returns, "blue", 0.25), (facts.acf_abs_returns, "red", 0.6)):
        for lag, value in enumerate(series):
            if not math.isnan(value):
                x = bottom[0] + step * (lag + shift)
                pen.rectangle(
                    (x, min(zero, zero - value * scale), x + step * 0.3, max(zero, zero - value * scale)),
                    fill=colour,
                )
    image.save(path)


async def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="kyrios-market-") as directory:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{directory}/market.db",
            jwt_secret_file=Path(directory) / "jwt-secret",
            log_level="WARNING",
        )
        runtime = build_runtime(settings, clock=SystemClock(), rng=RandomSource(args.seed))
        try:
            return await measure(args, runtime)
        finally:
            await runtime.aclose()


async def measure(args: argparse.Namespace, runtime: Runtime) -> dict[str, object]:
    await upgrade(runtime.db)
    await runtime.start()
    lease = ExchangeLease(runtime.db, program="bench/market.py")
    await lease.acquire()
    await runtime.run_exchange(lease)
    await runtime.exchange.create_asset(
        AssetListing(symbol=SYMBOL, name="Acme", supply=1_000_000, price_cents=PRICE, tick_size_cents=TICK)
    )
    mix = Mix(args.market_makers, args.value, args.momentum, args.noise, args.whales, args.speed)
    agents = mix.agents(args.seed, SYMBOL)
    names = [account_name(SYMBOL, agent) for agent in agents]
    await fund_accounts(runtime.exchange, names, 10**9)

    async def make_keys(session: AsyncSession) -> list[str]:
        now = runtime.clock.now()
        keys = []
        for name in names:
            bot = await accounts.resolve_user(session, name)
            new = await api_keys.create_key(
                session, bot, scopes=list(api_keys.SCOPES), label="bench", created_by=None, now=now
            )
            keys.append(new.key)
        return keys

    keys = await runtime.db.run(make_keys)
    model = FairValueModel([AssetSpec(SYMBOL, PRICE, tick_size_cents=TICK)], seed=args.seed)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    seconds = args.minutes * 60
    samples: list[Sample] = []
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
            bots = asyncio.create_task(
                run_live(
                    url, model, list(zip(agents, [SYMBOL] * len(agents), keys, strict=True)), seconds=seconds
                )
            )
            with Progress(
                TextColumn("market"),
                BarColumn(),
                TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("run", total=seconds)
                for second in range(1, int(seconds) + 1):
                    await asyncio.sleep(1.0)
                    samples.append(await sample(http, model, float(second)))
                    progress.update(task, completed=second)
            stats: RunStats = await bots
            assert isinstance(runtime.exchange, InProcessClient)
            await runtime.exchange.exchange.flush()
            trades = len(
                (await http.get(f"/api/v1/trades/{SYMBOL}", params={"limit": 1000})).json()["trades"]
            )
    finally:
        server.should_exit = True
        await serving
    problems = await runtime.db.run(invariants.check)
    counts = {
        "agents": len(agents),
        "trades": trades,
        "actions": stats.actions,
        "refusals": sum(stats.refusals.values()),
        "failed_calls": stats.errors,
    }
    return {**summary(args, samples, counts), "invariants_ok": not problems}


def offline(args: argparse.Namespace) -> dict[str, object]:
    """The same mix and fair value in `bots/simulate.py`: simulated time, the engine's book in process.

    A second or so per simulated half hour, for tuning; agents act on a 0.2 s grid, the fair value
    steps as often (its exact transitions make the step size immaterial to its distribution).
    """
    mix = Mix(args.market_makers, args.value, args.momentum, args.noise, args.whales, args.speed)
    agents = mix.agents(args.seed, SYMBOL)
    model = FairValueModel([AssetSpec(SYMBOL, PRICE, tick_size_cents=TICK)], seed=args.seed)
    simulation = Simulation(model, SYMBOL, agents, dt=0.2)
    samples = []
    for second in range(1, int(args.minutes * 60) + 1):
        simulation.run(1.0)
        depth = simulation.book.depth(500)
        samples.append(reading(float(second), model.price(SYMBOL), depth.bids, depth.asks))
    counts = {
        "agents": len(agents),
        "trades": len(simulation.trades),
        "actions": sum(simulation.requests.values()),
        "refusals": sum(simulation.refusals.values()),
        "failed_calls": 0,
    }
    return {"offline": True, **summary(args, samples, counts)}


def summary(args: argparse.Namespace, samples: list[Sample], counts: dict[str, int]) -> dict[str, object]:
    """The headline figures of a run's samples (and the PNG)."""
    two_sided = [s for s in samples if s.mid is not None]
    mids = [s.mid for s in two_sided if s.mid is not None]
    per_second = stylized_facts(log_returns(mids)) if len(mids) > 1 else stylized_facts([])
    per_minute = stylized_facts(log_returns(mids[::60])) if len(mids) > 60 else stylized_facts([])
    micro = [s.microprice for s in two_sided if s.microprice is not None]
    micro_facts = stylized_facts(log_returns(micro)) if len(micro) > 1 else stylized_facts([])
    if args.png and samples:
        draw(Path(args.png), samples, per_second)
    tracking = [abs(s.mid - s.fair) / s.fair * 10_000 for s in two_sided if s.mid is not None]
    return {
        "minutes": args.minutes,
        **counts,
        "two_sided_share": round(len(two_sided) / len(samples), 3) if samples else 0,
        "median_spread_ticks": statistics.median(
            s.spread_ticks for s in two_sided if s.spread_ticks is not None
        )
        if two_sided
        else None,
        "median_depth_1pct": statistics.median(s.depth_1pct for s in samples) if samples else 0,
        "tracking_error_bp": round(statistics.fmean(tracking), 1) if tracking else None,
        "returns_1s": facts_json(per_second),
        "returns_1m": facts_json(per_minute),
        "microprice_returns_1s": facts_json(micro_facts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=5.0, help="wake the agents this many times as often")
    parser.add_argument("--market-makers", type=int, default=1)
    parser.add_argument("--value", type=int, default=5)
    parser.add_argument("--momentum", type=int, default=2)
    parser.add_argument("--noise", type=int, default=10)
    parser.add_argument("--whales", type=int, default=1)
    parser.add_argument("--png", default="market.png", help="where to write the chart ('' for none)")
    parser.add_argument(
        "--offline", action="store_true", help="simulated time against the in-process book, no server"
    )
    args = parser.parse_args()
    figures = offline(args) if args.offline else asyncio.run(run(args))
    console.print_json(data=figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
