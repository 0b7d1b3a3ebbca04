"""The stylized facts of asset returns (Cont 2001) that say whether a market looks real.

`stylized_facts(returns)` gives the excess kurtosis (heavy tails: > 0, often > 3 intraday), the
autocorrelation of returns at lags 1–5 (should be near 0) and of absolute returns at lags 1–20
(volatility clustering: clearly positive, slowly decaying). Plain Python, no numpy.

Conventions: the kurtosis is the population one, m4 / m2² − 3; the ACF at lag k is
Σ (x_t − x̄)(x_{t+k} − x̄) / Σ (x_t − x̄)², the usual biased estimator. Where a figure is
undefined (a constant series, a lag not shorter than the series) it is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

NAN = float("nan")


@dataclass(frozen=True)
class StylizedFacts:
    """The figures for one series of returns."""

    count: int
    excess_kurtosis: float
    acf_returns: tuple[float, ...]
    """Lags 1–5."""
    acf_abs_returns: tuple[float, ...]
    """Lags 1–20."""

    @property
    def mean_acf_abs_1_10(self) -> float:
        """The mean ACF of absolute returns over lags 1–10 (the benchmark's clustering figure)."""
        return sum(self.acf_abs_returns[:10]) / 10


def log_returns(prices: Sequence[float]) -> list[float]:
    """ln(p_t / p_{t−1}) for consecutive prices (all must be positive)."""
    if any(price <= 0 for price in prices):
        raise ValueError("prices must be positive")
    return [math.log(b / a) for a, b in pairwise(prices)]


def excess_kurtosis(values: Sequence[float]) -> float:
    """m4 / m2² − 3; NaN for fewer than two values or a constant series."""
    count = len(values)
    if count < 2:
        return NAN
    mean = sum(values) / count
    m2 = sum((x - mean) ** 2 for x in values) / count
    if m2 == 0:
        return NAN
    m4 = sum((x - mean) ** 4 for x in values) / count
    return m4 / (m2 * m2) - 3


def autocorrelation(values: Sequence[float], lags: Sequence[int]) -> tuple[float, ...]:
    """The sample ACF at each lag; NaN for a constant series or a lag ≥ the length."""
    count = len(values)
    if count == 0:
        return tuple(NAN for _ in lags)
    mean = sum(values) / count
    centred = [x - mean for x in values]
    denominator = sum(x * x for x in centred)
    result: list[float] = []
    for lag in lags:
        if lag < 0:
            raise ValueError("lags must not be negative")
        if denominator == 0 or lag >= count:
            result.append(NAN)
        else:
            result.append(sum(centred[t] * centred[t + lag] for t in range(count - lag)) / denominator)
    return tuple(result)


def stylized_facts(returns: Sequence[float]) -> StylizedFacts:
    """Kurtosis, ACF(r) at lags 1–5 and ACF(|r|) at lags 1–20 of `returns`."""
    return StylizedFacts(
        count=len(returns),
        excess_kurtosis=excess_kurtosis(returns),
        acf_returns=autocorrelation(returns, range(1, 6)),
        acf_abs_returns=autocorrelation([abs(r) for r in returns], range(1, 21)),
    )
