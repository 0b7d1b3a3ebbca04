"""The fair-value process: determinism, mean reversion, its stationary spread, news and the tick grid."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from kyrios.bots.fair_value import AssetSpec, FairValueModel, SectorSpec, to_tick
from kyrios.bots.stylized import stylized_facts


def path(model: FairValueModel, symbol: str, steps: int, dt: float = 1.0) -> list[float]:
    values = []
    for _ in range(steps):
        model.step(dt)
        values.append(model.log_price(symbol))
    return values


def test_the_same_seed_gives_the_same_path_and_another_seed_another() -> None:
    specs = [AssetSpec("ACME", 10_000, sector="tech"), AssetSpec("GLOB", 5_000, sector="tech")]
    first = FairValueModel(specs, seed=7)
    again = FairValueModel(specs, seed=7)
    other = FairValueModel(specs, seed=8)
    assert path(first, "ACME", 2_000) == path(again, "ACME", 2_000)
    assert path(FairValueModel(specs, seed=7), "ACME", 50) != path(other, "ACME", 50)


def test_adding_an_asset_leaves_the_others_paths_unchanged() -> None:
    alone = FairValueModel([AssetSpec("ACME", 10_000, news_rate=0.0)], seed=3)
    together = FairValueModel(
        [AssetSpec("ZETA", 700, news_rate=0.0), AssetSpec("ACME", 10_000, news_rate=0.0)], seed=3
    )
    assert path(alone, "ACME", 500) == path(together, "ACME", 500)


def test_without_noise_a_displacement_decays_exponentially_at_the_reversion_rate() -> None:
    spec = AssetSpec("ACME", 10_000, mean_reversion=0.01, volatility=0.0, news_rate=0.0)
    model = FairValueModel([spec], seed=1, news_permanence=0.0)
    anchor = model.log_price("ACME")
    model.apply_news(0.1, symbol="ACME")
    model.step(30.0)
    assert model.log_price("ACME") - anchor == pytest.approx(0.1 * math.exp(-0.3), rel=1e-12)
    model.step(0.5)
    model.step(0.5)
    assert model.log_price("ACME") - anchor == pytest.approx(0.1 * math.exp(-0.31), rel=1e-12)


def test_the_stationary_spread_is_sigma_over_root_two_kappa() -> None:
    kappa, sigma = 0.05, 0.001
    model = FairValueModel(
        [AssetSpec("ACME", 10_000, mean_reversion=kappa, volatility=sigma, news_rate=0.0)], seed=11
    )
    anchor = model.log_price("ACME")
    values = [x - anchor for x in path(model, "ACME", 40_000, dt=2.0)]
    assert statistics.pstdev(values) == pytest.approx(sigma / math.sqrt(2 * kappa), rel=0.1)
    assert abs(statistics.fmean(values)) < 0.2 * sigma / math.sqrt(2 * kappa)


def test_sector_news_moves_every_asset_of_the_sector_and_no_other() -> None:
    specs = [
        AssetSpec("ACME", 10_000, sector="tech", volatility=0.0, news_rate=0.0),
        AssetSpec("GLOB", 5_000, sector="tech", volatility=0.0, news_rate=0.0),
        AssetSpec("OILY", 8_000, sector="energy", volatility=0.0, news_rate=0.0),
    ]
    model = FairValueModel(
        specs,
        seed=1,
        sectors=[SectorSpec("tech", news_rate=0.0), SectorSpec("energy", news_rate=0.0)],
        news_permanence=0.5,
    )
    before = {symbol: model.log_price(symbol) for symbol in model.symbols}
    news = model.apply_news(0.05, sector="tech")
    assert news.sector == "tech" and news.symbol is None and news.size == 0.05
    moved = {symbol: model.log_price(symbol) - before[symbol] for symbol in model.symbols}
    assert moved == pytest.approx({"ACME": 0.05, "GLOB": 0.05, "OILY": 0.0})
    # Half the news is permanent: a long time later the price has settled half way.
    model.step(1e7)
    settled = {symbol: model.log_price(symbol) - before[symbol] for symbol in model.symbols}
    assert settled == pytest.approx({"ACME": 0.025, "GLOB": 0.025, "OILY": 0.0})


def test_news_arrives_at_its_rate_with_heavy_tailed_sizes() -> None:
    # Constant volatility: news then is a plain Poisson process (bursts are tested below).
    specs = [
        AssetSpec("ACME", 10_000, news_rate=0.01, news_size=0.02, sector="tech", volatility_dispersion=0)
    ]
    model = FairValueModel(specs, seed=5, sectors=[SectorSpec("tech", news_rate=0.005, news_size=0.01)])
    news = [item for _ in range(100_000) for item in model.step(1.0)]
    asset = [item for item in news if item.symbol == "ACME"]
    sector = [item for item in news if item.sector == "tech"]
    # Poisson counts: about 1,000 ± 32 and 500 ± 22.
    assert 900 < len(asset) < 1_100
    assert 430 < len(sector) < 570
    sizes = [abs(item.size) for item in asset]
    assert statistics.fmean(sizes) == pytest.approx(0.02, rel=0.1)
    assert 0.4 < sum(item.size > 0 for item in asset) / len(asset) < 0.6
    assert news[0].time > 0 and all(a.time <= b.time for a, b in itertools.pairwise(news))


def test_prices_are_integer_cents_on_the_tick_grid() -> None:
    model = FairValueModel([AssetSpec("ACME", 10_000, tick_size_cents=5, volatility=0.01)], seed=2)
    for _ in range(200):
        model.step(1.0)
        cents = model.price_cents("ACME")
        assert isinstance(cents, int) and cents % 5 == 0
        assert abs(cents - model.price("ACME")) <= 2.5
    assert to_tick(1.0, 5) == 5
    assert to_tick(12.4, 5) == 10 and to_tick(12.6, 5) == 15


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        AssetSpec("ACME", 0)
    with pytest.raises(ValueError):
        AssetSpec("ACME", 100, volatility=-1)
    with pytest.raises(ValueError):
        FairValueModel([AssetSpec("ACME", 100), AssetSpec("ACME", 200)], seed=1)
    model = FairValueModel([AssetSpec("ACME", 100)], seed=1)
    with pytest.raises(ValueError):
        model.step(0)
    with pytest.raises(ValueError):
        model.apply_news(0.1)
    with pytest.raises(KeyError):
        model.apply_news(0.1, sector="nowhere")


def returns_of(model: FairValueModel, symbol: str, steps: int) -> list[float]:
    values = path(model, symbol, steps + 1)
    return [b - a for a, b in itertools.pairwise(values)]


def test_volatility_is_seeded_and_its_mean_square_is_the_spec_volatility() -> None:
    spec = AssetSpec("ACME", 10_000, news_rate=0.0, volatility_dispersion=1.0, volatility_reversion=0.05)
    first, again = FairValueModel([spec], seed=4), FairValueModel([spec], seed=4)
    sigmas = []
    for _ in range(50_000):
        first.step(1.0)
        again.step(1.0)
        assert first.volatility("ACME") == again.volatility("ACME")
        sigmas.append(first.volatility("ACME"))
    assert len(set(sigmas)) > 1_000  # it moves...
    # ...and e^(h − s²) keeps E[σ²] at the spec's volatility² (2,500 independent spells: ± ~10 %).
    assert math.sqrt(statistics.fmean(s * s for s in sigmas)) == pytest.approx(spec.volatility, rel=0.15)


def test_without_dispersion_the_volatility_is_constant() -> None:
    model = FairValueModel([AssetSpec("ACME", 10_000, volatility_dispersion=0.0)], seed=4)
    for _ in range(100):
        model.step(1.0)
        assert model.volatility("ACME") == model.spec("ACME").volatility


def test_stochastic_volatility_clusters_absolute_returns_but_not_returns() -> None:
    """Cont's facts on a long seeded path: |r| autocorrelated for lags 1–10, r itself not."""
    clustered = AssetSpec("ACME", 10_000, news_rate=0.0, mean_reversion=0.0)
    constant = AssetSpec("ACME", 10_000, news_rate=0.0, mean_reversion=0.0, volatility_dispersion=0.0)
    busy = stylized_facts(returns_of(FairValueModel([clustered], seed=9), "ACME", 20_000))
    calm = stylized_facts(returns_of(FairValueModel([constant], seed=9), "ACME", 20_000))
    assert busy.mean_acf_abs_1_10 > 0.3
    assert abs(calm.mean_acf_abs_1_10) < 0.03
    # Heavy tails widen the ACF's sampling error well past 1/√n (0.007): 0.1 is still "none".
    assert all(abs(value) < 0.1 for value in busy.acf_returns)
    assert all(abs(value) < 0.03 for value in calm.acf_returns)
    assert busy.excess_kurtosis > 1.0 > abs(calm.excess_kurtosis)


def test_news_comes_in_bursts_with_the_volatility() -> None:
    spec = AssetSpec("ACME", 10_000, news_rate=0.02, volatility_dispersion=1.0)
    model = FairValueModel([spec], seed=6)
    arrivals: list[float] = []
    quiet = busy = 0.0
    for _ in range(100_000):
        ratio = model.volatility("ACME") / spec.volatility
        arrivals.append(ratio if model.step(1.0) else -ratio)
        if ratio > 1:
            busy += 1
        else:
            quiet += 1
    in_busy = sum(1 for value in arrivals if value > 1)
    in_quiet = sum(1 for value in arrivals if 0 < value <= 1)
    # The long-run rate is kept (2,000 ± a few hundred) but most news falls in busy spells.
    assert 1_500 < in_busy + in_quiet < 2_500
    assert in_busy / busy > 4 * in_quiet / quiet
