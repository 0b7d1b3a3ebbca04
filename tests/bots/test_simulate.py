"""Agents against the real matching engine in simulated time: the market's emergent properties."""

from __future__ import annotations

import asyncio
import statistics

import pytest

from kyrios.bots.agents import Agent, MarketMaker, NoiseTrader, ValueTrader, rmsc4_mix
from kyrios.bots.fair_value import AssetSpec, FairValueModel
from kyrios.bots.market_view import Cancel, PlaceLimit, PlaceMarket, Refusal, Transport
from kyrios.bots.simulate import InMemoryTransport, Simulation
from kyrios.exchange.engine import C_ENGINE, OrderBook, PyOrderBook, Side

TICK = 5


def market(seed: int) -> Simulation:
    """A small RMSC-4-like market of one asset: 1 market maker, 20 value, 3 momentum, 100 noise, 1 whale."""
    model = FairValueModel([AssetSpec("ACME", 10_000, tick_size_cents=TICK, sector="tech")], seed=seed)
    population = rmsc4_mix(seed, market_makers=1, value=20, momentum=3, noise=100)
    return Simulation(model, "ACME", population)


@pytest.fixture(scope="module")
def half_hour() -> Simulation:
    simulation = market(1)
    simulation.run(1_800)
    return simulation


def test_the_market_maker_keeps_a_two_sided_book_within_a_few_ticks(half_hour: Simulation) -> None:
    samples = half_hour.samples
    assert len(samples) == 1_800
    two_sided = [s for s in samples if s.best_bid is not None and s.best_ask is not None]
    assert len(two_sided) >= 0.99 * len(samples)
    spreads = [(s.best_ask - s.best_bid) // TICK for s in two_sided if s.best_ask and s.best_bid]
    assert statistics.median(spreads) <= 3
    assert sum(spread <= 5 for spread in spreads) >= 0.95 * len(spreads)
    assert min(spreads) >= 1  # never crossed


def test_the_price_tracks_fair_value(half_hour: Simulation) -> None:
    errors = [abs(s.mid - s.fair_value_cents) / s.fair_value_cents for s in half_hour.samples if s.mid]
    assert statistics.fmean(errors) < 0.005  # 50 bp on average
    # News jumps the fair value at once; the price follows within seconds, so the tail is short.
    assert statistics.quantiles(errors, n=10)[-1] < 0.01
    assert len(half_hour.trades) > 1_000


def test_every_price_is_on_the_grid_nothing_is_refused_and_the_books_balance(half_hour: Simulation) -> None:
    assert all(trade.price_cents % TICK == 0 for trade in half_hour.trades)
    refused = {code for (_agent, code) in half_hour.refusals}
    # Only races are refused: a cancel of an order that filled between view and action.
    assert refused <= {"order_already_filled", "unknown_order"}
    assert sum(half_hour.positions.values()) == 0
    assert sum(half_hour.cash.values()) == 0
    assert all(trade.maker != trade.taker for trade in half_hour.trades)


def test_no_agent_exceeds_its_request_budget(half_hour: Simulation) -> None:
    budgets = {agent.name: agent.rate_limit for agent in half_hour.agents}
    for (name, _second), requests in half_hour.requests.items():
        limit = budgets[name]
        assert requests <= limit.burst + limit.per_second
    makers = [agent for agent in half_hour.agents if agent.kind == "market_maker"]
    assert max(half_hour.requests[makers[0].name, second] for second in range(1_800)) > 0


def test_inventory_stays_bounded_and_everyone_trades(half_hour: Simulation) -> None:
    for agent in half_hour.agents:
        if isinstance(agent, MarketMaker):
            assert (
                abs(half_hour.positions[agent.name])
                <= agent.max_inventory + 3 * agent.quantity * agent.levels
            )
    kinds_trading = {
        name.rsplit("-", 1)[0] for trade in half_hour.trades for name in (trade.maker, trade.taker)
    }
    assert kinds_trading == {"market_maker", "value", "momentum", "noise", "whale"}


def test_the_same_seed_gives_the_same_trades_and_another_seed_others() -> None:
    first, again, other = market(5), market(5), market(6)
    for simulation in (first, again, other):
        simulation.run(300)
    assert first.trades == again.trades and first.samples == again.samples
    assert len(first.trades) > 50
    assert first.trades != other.trades


@pytest.mark.skipif(not C_ENGINE, reason="the C book is not built")
def test_the_c_book_and_the_python_book_give_the_same_market() -> None:
    def run(factory: type[PyOrderBook]) -> Simulation:
        model = FairValueModel([AssetSpec("ACME", 10_000, tick_size_cents=TICK)], seed=9)
        agents = rmsc4_mix(9, market_makers=1, value=10, momentum=2, noise=40)
        simulation = Simulation(model, "ACME", agents, book_factory=factory)
        simulation.run(300)
        return simulation

    assert run(OrderBook).trades == run(PyOrderBook).trades


def value_and_noise(seed: int, *, value: int) -> Simulation:
    """A market without a market maker: noise traders make the book, value traders (if any) trade on news."""
    agents: list[Agent] = [NoiseTrader(f"noise-{n}", seed=seed, wake_interval=30.0) for n in range(60)]
    agents += [
        ValueTrader(f"value-{n}", seed=seed, wake_interval=10.0, max_position=5_000) for n in range(value)
    ]
    model = FairValueModel(
        [AssetSpec("ACME", 10_000, tick_size_cents=TICK, volatility=0.0, news_rate=0.0)], seed=seed
    )
    simulation = Simulation(model, "ACME", agents)
    # Seed the book around fair value, as the market makers would have left it.
    seeding = [
        PlaceLimit(f"seed-{n}", side, price, 5)
        for n, (side, price) in enumerate(
            [(Side.BUY, 10_000 - TICK * k) for k in range(1, 11)]
            + [(Side.SELL, 10_000 + TICK * k) for k in range(1, 11)]
        )
    ]
    simulation.execute("noise-0", 0.0, seeding)
    return simulation


def gap_to_fair_value(simulation: Simulation, since: float) -> float:
    """The mean relative distance of the mid from fair value after `since`."""
    samples = [s for s in simulation.samples if s.time > since and s.mid is not None]
    return statistics.fmean(abs(s.mid - s.fair_value_cents) / s.fair_value_cents for s in samples if s.mid)


def test_value_traders_push_the_price_to_fair_value_after_news() -> None:
    with_value, without = value_and_noise(3, value=20), value_and_noise(3, value=0)
    for simulation in (with_value, without):
        simulation.run(300)
        assert gap_to_fair_value(simulation, 0) < 0.005
        simulation.model.apply_news(0.05, symbol="ACME")  # +5 %, half of it fading over the hour
        simulation.run(900)
    assert gap_to_fair_value(with_value, 900) < 0.003
    assert gap_to_fair_value(without, 900) > 0.03  # noise alone does not find the news


def test_an_in_memory_transport_serves_one_agent() -> None:
    simulation = market(2)
    simulation.run(30)
    transport: Transport = InMemoryTransport(simulation, "noise-0")

    async def trade() -> tuple[list[Refusal], list[Refusal]]:
        before = await transport.observe("ACME", depth=2, trades=3)
        assert len(before.bids) <= 2 and len(before.asks) <= 2 and len(before.trades) <= 3
        assert before.fair_value_cents == simulation.model.price("ACME")
        bid = before.bids[-1].price_cents - TICK
        placed = await transport.execute(
            "ACME", [PlaceLimit("mine-1", Side.BUY, bid, 3), PlaceLimit("mine-1", Side.BUY, bid, 3)]
        )
        after = await transport.observe("ACME", depth=2, trades=3)
        assert "mine-1" in {order.client_order_id for order in after.open_orders}
        cancelled = await transport.execute(
            "ACME", [Cancel("mine-1"), Cancel("mine-1"), PlaceMarket("mine-2", Side.SELL, 1)]
        )
        final = await transport.observe("ACME", depth=2, trades=3)
        assert "mine-1" not in {order.client_order_id for order in final.open_orders}
        assert final.position == before.position - 1
        return placed, cancelled

    placed, cancelled = asyncio.run(trade())
    assert placed == [Refusal("mine-1", "duplicate_client_order_id")]
    assert cancelled == [Refusal("mine-1", "unknown_order")]  # the book forgets a finished order's client id
    with pytest.raises(KeyError):
        asyncio.run(transport.observe("GLOB", depth=1, trades=1))
