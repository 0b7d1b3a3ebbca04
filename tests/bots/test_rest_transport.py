"""The bots over the real REST API: API keys of BOT accounts, the exchange in process, real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.bots.agents import Agent, MarketMaker, NoiseTrader
from kyrios.bots.fair_value import AssetSpec, FairValueModel
from kyrios.bots.market_view import Cancel, PlaceLimit, PlaceMarket, Refusal, Replace
from kyrios.bots.rest_transport import RestTransport
from kyrios.bots.runner import Bot, BotRunner
from kyrios.core.clock import Clock, FrozenClock, SystemClock
from kyrios.core.rng import RandomSource
from kyrios.exchange import accounts, invariants
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.engine import Side
from kyrios.exchange.models import Role
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.database import wipe
from kyrios.web.auth import api_keys
from kyrios.web.main import create_app

TICK = 5
CASH = 100_000_000


@asynccontextmanager
async def exchange(settings: Settings, clock: Clock) -> AsyncIterator[Runtime]:
    """A runtime on a clean database running the exchange, with ACME listed."""
    runtime = build_runtime(settings, clock=clock, rng=RandomSource(7))
    await wipe(runtime.db)
    try:
        await runtime.start()
        lease = ExchangeLease(runtime.db, program="bot tests")
        await lease.acquire()
        await runtime.run_exchange(lease)
        await runtime.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=100_000, price_cents=10_000, tick_size_cents=TICK)
        )
        yield runtime
    finally:
        await runtime.aclose()


async def bot_key(runtime: Runtime, name: str, cash: int = CASH) -> str:
    """A funded BOT account and an API key (read and trade) for it."""
    user = await runtime.exchange.create_user(name, role=Role.BOT)
    if cash:
        await runtime.exchange.deposit(user.id, cash)

    async def unit(session: AsyncSession) -> api_keys.NewKey:
        bot = await accounts.resolve_user(session, name)
        return await api_keys.create_key(
            session, bot, scopes=list(api_keys.SCOPES), label=name, created_by=None, now=runtime.clock.now()
        )

    return (await runtime.db.run(unit)).key


async def settled(runtime: Runtime) -> None:
    assert isinstance(runtime.exchange, InProcessClient)
    await runtime.exchange.exchange.flush()


def http_for(runtime: Runtime) -> httpx.AsyncClient:
    app = create_app(runtime)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange(settings, clock) as rt:
        yield rt


async def test_observe_shows_the_real_book_tape_orders_and_portfolio(runtime: Runtime) -> None:
    async with http_for(runtime) as http:
        maker = RestTransport(http, await bot_key(runtime, "maker-1"), oracle=lambda symbol: 10_001.5)
        taker = RestTransport(http, await bot_key(runtime, "noise-1"))
        assert (
            await maker.execute(
                "ACME",
                [
                    PlaceLimit("b1", Side.BUY, 9_990, 3),
                    PlaceLimit("b2", Side.BUY, 9_985, 4),
                    PlaceLimit("a1", Side.SELL, 10_010, 5),
                ],
            )
            == []
        )
        assert await taker.execute("ACME", [PlaceMarket("m1", Side.BUY, 2)]) == []
        await settled(runtime)

        view = await maker.observe("ACME", depth=1, trades=10)
        assert view.tick_size_cents == TICK and view.fair_value_cents == 10_001.5
        assert [(level.price_cents, level.quantity) for level in view.bids] == [(9_990, 3)]
        assert [(level.price_cents, level.quantity) for level in view.asks] == [(10_010, 3)]
        assert [(t.price_cents, t.quantity, t.taker_side) for t in view.trades] == [(10_010, 2, Side.BUY)]
        assert sorted((o.client_order_id, o.remaining) for o in view.open_orders) == [
            ("a1", 3),
            ("b1", 3),
            ("b2", 4),
        ]
        assert view.position == -2
        # free cash: the bids' prices and the short sell's initial margin (150 % of 5 × 100.10) are held
        assert view.cash_cents == CASH - 3 * 9_990 - 4 * 9_985 - 5 * 10_010 * 3 // 2 + 2 * 10_010
        full = await maker.observe("ACME", depth=5, trades=10)
        assert [level.price_cents for level in full.bids] == [9_990, 9_985]
        taken = await taker.observe("ACME", depth=5, trades=10)
        assert taken.position == 2 and taken.open_orders == () and taken.fair_value_cents is None


async def test_cancel_and_replace_by_client_order_id_and_refusals_carry_the_exchange_code(
    runtime: Runtime,
) -> None:
    async with http_for(runtime) as http:
        bot = RestTransport(http, await bot_key(runtime, "maker-1"))
        poor = RestTransport(http, await bot_key(runtime, "poor-1", cash=1_000))
        assert await bot.execute("ACME", [PlaceLimit("b1", Side.BUY, 9_990, 3)]) == []
        refusals = await bot.execute(
            "ACME",
            [
                Replace("b1", PlaceLimit("b2", Side.BUY, 9_995, 2)),
                Cancel("nope"),
                Replace("gone", PlaceLimit("b3", Side.BUY, 9_000, 1)),
                PlaceLimit("odd", Side.BUY, 9_991, 1),
            ],
        )
        assert [r.client_order_id for r in refusals] == ["nope", "gone", "odd"]
        assert all(r.code for r in refusals)
        assert await poor.execute("ACME", [PlaceLimit("x", Side.BUY, 9_990, 10)]) == [
            Refusal("x", "insufficient_funds")
        ]
        await settled(runtime)
        view = await bot.observe("ACME", depth=5, trades=5)
        mine = [(o.client_order_id, o.price_cents, o.remaining) for o in view.open_orders]
        assert mine == [("b2", 9_995, 2)]
        assert [(level.price_cents, level.quantity) for level in view.bids] == [(9_995, 2)]
        assert await bot.execute("ACME", [Cancel("b2")]) == []
        await settled(runtime)
        assert (await bot.observe("ACME", depth=5, trades=5)).bids == ()


async def test_a_429_is_waited_out_and_retried(runtime: Runtime, clock: FrozenClock) -> None:
    waits: list[float] = []

    async with http_for(runtime) as http:

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            clock.advance(timedelta(seconds=seconds))

        bot = RestTransport(http, await bot_key(runtime, "maker-1"), sleep=sleep)
        for _ in range(650):  # past the BOT tier's burst of 600; every answer a 200 in the end
            assert (await bot.request("GET", "/portfolio")).status_code == 200
        assert bot.retries > 0 and waits and all(0 < wait <= 1 for wait in waits)


async def test_a_market_maker_and_noise_traders_trade_over_rest_and_the_books_stay_sound(
    settings: Settings,
) -> None:
    async with exchange(settings, SystemClock()) as runtime, http_for(runtime) as http:
        model = FairValueModel([AssetSpec("ACME", 10_000, tick_size_cents=TICK)], seed=3)
        agents: list[Agent] = [MarketMaker("market_maker-0", seed=3, wake_interval=0.3)]
        agents += [NoiseTrader(f"noise-{n}", seed=3, wake_interval=0.4) for n in range(4)]
        bots = [
            Bot(agent, "ACME", RestTransport(http, await bot_key(runtime, agent.name), oracle=model.price))
            for agent in agents
        ]
        stats = await BotRunner(model, bots, step=0.5).run(6)
        await settled(runtime)

        trades = (await http.get("/api/v1/trades/ACME", params={"limit": 1000})).json()["trades"]
        assert len(trades) >= 3, stats
        assert all(trade["price_cents"] % TICK == 0 for trade in trades)
        assert stats.errors == 0 and stats.actions > 0
        depth = (await http.get("/api/v1/depth/ACME")).json()
        assert depth["bids"] and depth["asks"]  # the market maker keeps quoting
        assert await runtime.db.run(invariants.check) == []
