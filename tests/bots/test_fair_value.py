"""The fair-value process: determinism, mean reversion, its stationary spread, news and the tick grid."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from kyrios.bots.fair_value import AssetSpec, FairValueModel, SectorSpec, to_tick


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
    specs = [AssetSpec("ACME", 10_000, news_rate=0.01, news_size=0.02, sector="tech")]
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
