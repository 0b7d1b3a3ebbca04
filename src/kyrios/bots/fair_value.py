"""Fair value per asset: Ornstein–Uhlenbeck in log price with stochastic volatility and news jumps.

Between news the log price `x` reverts to its anchor `mu` at rate `mean_reversion` (per second)
with volatility `σ_t` (per √second), stepped with the exact OU transition, so its distribution
does not depend on how simulated time is cut into steps. News arrives per asset and per sector (a
sector's news moves all of its assets); a jump of size `j` (in log price, Laplace-distributed, so
the tails are heavy) moves `x` by `j` and the anchor by `news_permanence × j`: part of the news is
permanent, the rest fades.

Volatility clusters (Cont 2001's stylized fact; the log-normal stochastic-volatility model of
Taylor 1986, a continuous-time cousin of GARCH): the log of the asset's activity `h` is itself an
OU process with mean 0, stationary standard deviation `volatility_dispersion` and reversion rate
`volatility_reversion`. The diffusion is `σ_t = volatility · e^(h − s²)` (s the dispersion), so
`volatility` stays the root-mean-square volatility, and the asset's news rate is scaled by
`(σ_t / volatility)²`, so news too comes in bursts, with the same long-run rate. Calm and busy
spells then last about `1 / volatility_reversion` seconds. `h` draws from its own stream, so with
a dispersion of 0 the price path is exactly the constant-volatility one.

Every asset and every sector draws from its own `random.Random`, seeded from the model's seed and
its name, so adding an asset leaves the other paths unchanged. At the boundary prices are integer
cents on the asset's tick grid (`price_cents`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AssetSpec:
    """One asset's process; rates are per second of simulated time, sizes in log price."""

    symbol: str
    initial_price_cents: int
    tick_size_cents: int = 1
    sector: str | None = None
    mean_reversion: float = 1 / 3600
    """Rate at which the log price returns to its anchor (1/3600: a half-life of about 40 min)."""
    volatility: float = 0.0005
    """RMS diffusion of the log price per √second (0.0005 ≈ 3 % per hour before reversion).

    Lively for a game, and it matters for the 1-second stylized facts: at 0.0002 a 5 bp tick
    dwarfs a second's move, so two in three 1-second mid returns are 0 and the rest mostly
    half-tick flicker of the spread, which measures the tick, not the volatility."""
    news_rate: float = 1 / 1800
    """Expected asset news per second (1/1800: one every half hour)."""
    news_size: float = 0.02
    """Mean absolute jump of asset news in log price (2 %)."""
    volatility_dispersion: float = 1.0
    """Stationary standard deviation of log volatility (0: constant volatility)."""
    volatility_reversion: float = 1 / 30
    """Rate at which log volatility returns to its mean (1/30: spells of about half a minute)."""

    def __post_init__(self) -> None:
        if self.initial_price_cents <= 0 or self.tick_size_cents <= 0:
            raise ValueError("initial price and tick size must be positive")
        rates = (self.mean_reversion, self.volatility, self.news_rate, self.news_size)
        if min(*rates, self.volatility_dispersion, self.volatility_reversion) < 0:
            raise ValueError("rates and sizes must not be negative")


@dataclass(frozen=True)
class SectorSpec:
    """News common to every asset of a sector."""

    name: str
    news_rate: float = 1 / 3600
    news_size: float = 0.015


@dataclass(frozen=True)
class News:
    """A jump applied at simulated `time`: to one asset (`symbol`) or to a whole `sector`."""

    time: float
    size: float
    symbol: str | None = None
    sector: str | None = None


def to_tick(price_cents: float, tick_size_cents: int) -> int:
    """The nearest price on the tick grid, never below one tick."""
    return max(tick_size_cents, round(price_cents / tick_size_cents) * tick_size_cents)


class _AssetState:
    __slots__ = ("anchor", "log_activity", "log_price", "rng", "spec", "volatility_rng")

    def __init__(self, spec: AssetSpec, seed: int | str) -> None:
        self.spec = spec
        self.log_price = self.anchor = math.log(spec.initial_price_cents)
        self.rng = random.Random(f"{seed}/asset/{spec.symbol}")
        self.volatility_rng = random.Random(f"{seed}/volatility/{spec.symbol}")
        # Start from the stationary distribution, so a run does not begin in a typical spell.
        self.log_activity = spec.volatility_dispersion * self.volatility_rng.gauss()

    def activity(self) -> float:
        """σ_t / volatility: e^(h − s²), 1 on average in square."""
        dispersion = self.spec.volatility_dispersion
        return math.exp(self.log_activity - dispersion * dispersion)

    def step_activity(self, dt: float) -> None:
        """The exact OU transition of the log activity over `dt`."""
        spec = self.spec
        if spec.volatility_dispersion == 0:
            return
        decay = math.exp(-spec.volatility_reversion * dt)
        shock = spec.volatility_dispersion * math.sqrt(1 - decay * decay) * self.volatility_rng.gauss()
        self.log_activity = self.log_activity * decay + shock


class FairValueModel:
    """The fair values of a set of assets, advanced by `step(dt)` in simulated seconds."""

    def __init__(
        self,
        assets: Sequence[AssetSpec],
        *,
        seed: int | str,
        sectors: Iterable[SectorSpec] = (),
        news_permanence: float = 0.5,
    ) -> None:
        if not 0 <= news_permanence <= 1:
            raise ValueError("news_permanence must be within [0, 1]")
        symbols = [spec.symbol for spec in assets]
        if len(set(symbols)) != len(symbols):
            raise ValueError("asset symbols must be unique")
        self.time = 0.0
        self.news_permanence = news_permanence
        self._assets = {spec.symbol: _AssetState(spec, seed) for spec in assets}
        self._sectors = {sector.name: sector for sector in sectors}
        unknown = {spec.sector for spec in assets if spec.sector is not None} - self._sectors.keys()
        for name in sorted(unknown):  # a sector named only by its assets gets the default news
            self._sectors[name] = SectorSpec(name)
        self._sector_rngs = {name: random.Random(f"{seed}/sector/{name}") for name in self._sectors}

    @property
    def symbols(self) -> list[str]:
        """The assets, in the order they were given."""
        return list(self._assets)

    def spec(self, symbol: str) -> AssetSpec:
        """The asset's parameters."""
        return self._assets[symbol].spec

    def log_price(self, symbol: str) -> float:
        """The current fair value in log cents."""
        return self._assets[symbol].log_price

    def price(self, symbol: str) -> float:
        """The current fair value in (fractional) cents."""
        return math.exp(self._assets[symbol].log_price)

    def volatility(self, symbol: str) -> float:
        """The asset's current diffusion volatility σ_t, per √second."""
        state = self._assets[symbol]
        return state.spec.volatility * state.activity()

    def price_cents(self, symbol: str) -> int:
        """The current fair value in cents, on the asset's tick grid."""
        state = self._assets[symbol]
        return to_tick(math.exp(state.log_price), state.spec.tick_size_cents)

    def step(self, dt: float) -> list[News]:
        """Advance `dt` seconds; return the news that arrived (sector news first, then assets)."""
        if dt <= 0:
            raise ValueError("dt must be positive")
        self.time += dt
        news: list[News] = []
        for name, sector in self._sectors.items():
            size = _maybe_jump(self._sector_rngs[name], sector.news_rate, sector.news_size, dt)
            if size:
                news.append(self.apply_news(size, sector=name))
        for state in self._assets.values():
            spec = state.spec
            activity = state.activity()  # σ over the step is the one at its start
            decay = math.exp(-spec.mean_reversion * dt)
            if spec.mean_reversion > 0:
                spread = spec.volatility * math.sqrt((1 - decay * decay) / (2 * spec.mean_reversion))
            else:
                spread = spec.volatility * math.sqrt(dt)
            state.log_price = (
                state.anchor
                + (state.log_price - state.anchor) * decay
                + activity * spread * state.rng.gauss()
            )
            state.step_activity(dt)
            size = _maybe_jump(state.rng, spec.news_rate * activity * activity, spec.news_size, dt)
            if size:
                news.append(self.apply_news(size, symbol=spec.symbol))
        return news

    def apply_news(self, size: float, *, symbol: str | None = None, sector: str | None = None) -> News:
        """Jump one asset, or every asset of a sector, by `size` in log price, now."""
        if (symbol is None) == (sector is None):
            raise ValueError("name exactly one of symbol and sector")
        if symbol is not None:
            targets = [self._assets[symbol]]
        else:
            if sector not in self._sectors:
                raise KeyError(sector)
            targets = [state for state in self._assets.values() if state.spec.sector == sector]
        for state in targets:
            state.log_price += size
            state.anchor += self.news_permanence * size
        return News(self.time, size, symbol=symbol, sector=sector)


def _maybe_jump(rng: random.Random, rate: float, mean_size: float, dt: float) -> float:
    """A Laplace jump with mean absolute size `mean_size` with probability 1 − e^(−rate·dt), else 0.

    All three draws are made every step, so a stream's later values do not depend on earlier jumps.
    """
    arrival = rng.random()
    magnitude = rng.expovariate(1.0) * mean_size
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if rate <= 0 or arrival >= -math.expm1(-rate * dt):
        return 0.0
    return sign * magnitude
