"""`stylized_facts` against series whose figures are known exactly or in theory."""

from __future__ import annotations

import math
import random

import pytest

from kyrios.bots.stylized import autocorrelation, excess_kurtosis, log_returns, stylized_facts


def test_an_alternating_series_has_exact_figures() -> None:
    n = 100
    series = [1.0 if t % 2 == 0 else -1.0 for t in range(n)]
    facts = stylized_facts(series)
    assert facts.count == n
    assert facts.excess_kurtosis == pytest.approx(-2.0)
    # Biased estimator: the lag-k sum has n − k terms over a denominator of n.
    assert facts.acf_returns == pytest.approx(tuple((-1) ** k * (n - k) / n for k in range(1, 6)))
    assert len(facts.acf_abs_returns) == 20
    assert all(math.isnan(value) for value in facts.acf_abs_returns)  # |r| is constant


def test_gaussian_noise_has_no_excess_kurtosis_and_no_autocorrelation() -> None:
    rng = random.Random(1)
    facts = stylized_facts([rng.gauss() for _ in range(40_000)])
    assert abs(facts.excess_kurtosis) < 0.1
    assert max(abs(value) for value in facts.acf_returns) < 0.025
    assert max(abs(value) for value in facts.acf_abs_returns) < 0.025


def test_known_distributions_have_their_kurtosis() -> None:
    rng = random.Random(2)
    laplace = [rng.expovariate(1.0) * (1 if rng.random() < 0.5 else -1) for _ in range(200_000)]
    uniform = [rng.random() for _ in range(200_000)]
    assert excess_kurtosis(laplace) == pytest.approx(3.0, abs=0.25)
    assert excess_kurtosis(uniform) == pytest.approx(-1.2, abs=0.02)


def test_an_ar1_series_has_geometric_autocorrelation() -> None:
    rng = random.Random(3)
    phi, x, series = 0.5, 0.0, []
    for _ in range(50_000):
        x = phi * x + rng.gauss()
        series.append(x)
    assert autocorrelation(series, [1, 2, 3]) == pytest.approx([0.5, 0.25, 0.125], abs=0.02)


def test_garch_returns_cluster_in_volatility_but_not_in_sign() -> None:
    rng = random.Random(4)
    omega, alpha, beta = 1e-6, 0.1, 0.85
    variance, returns = omega / (1 - alpha - beta), []
    for _ in range(30_000):
        r = math.sqrt(variance) * rng.gauss()
        returns.append(r)
        variance = omega + alpha * r * r + beta * variance
    facts = stylized_facts(returns)
    assert max(abs(value) for value in facts.acf_returns) < 0.03
    assert facts.mean_acf_abs_1_10 > 0.1
    assert facts.acf_abs_returns[0] > facts.acf_abs_returns[19] > 0
    assert facts.excess_kurtosis > 0.5


def test_undefined_figures_are_nan_and_prices_give_log_returns() -> None:
    assert math.isnan(excess_kurtosis([1.0]))
    assert math.isnan(excess_kurtosis([2.0, 2.0, 2.0]))
    assert math.isnan(autocorrelation([1.0, 2.0, 3.0], [3])[0])
    assert math.isnan(autocorrelation([], [1])[0])
    assert log_returns([100.0, 110.0, 99.0]) == pytest.approx([math.log(1.1), math.log(0.9)])
    with pytest.raises(ValueError):
        log_returns([100.0, 0.0])
    with pytest.raises(ValueError):
        autocorrelation([1.0, 2.0], [-1])
