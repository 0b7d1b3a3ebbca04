"""The leaderboard and the net-worth history over HTTP, with real trades through the running exchange.

Three players open at START with 10,000.00 each. Alice buys 10 ACME at 100.00 from the issuer; an
hour later bob buys 5 at 110.00 (alice +100.00) and the history is recorded; two days later bob
buys 5 at 120.00 (alice +200.00 in all, +100.00 of it in the last day; bob +50.00) while carol
deposits 5,000.00 and withdraws 2,000.00, which is no gain at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.exchange.models import ExchangeAsset
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.main import KyriosApp
from tests.conftest import START
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime
from tests.web.test_trading_api import settled, sign_in

CASH = 1_000_000  # 10,000.00
JA = {"Accept-Language": "ja-JP,ja;q=0.9"}
T0 = int(START.timestamp())


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
        )
        yield rt


@pytest.fixture
def app(runtime: Runtime) -> KyriosApp:
    return create_app(runtime)


async def record(runtime: Runtime) -> None:
    """One tick of the owner's recorder, at the runtime's (frozen) time."""
    assert runtime.recorder is not None
    await runtime.recorder.record()


async def buy_from_issuer(runtime: Runtime, buyer: int, quantity: int, price: int) -> None:
    """The issuer offers `quantity` at `price` and `buyer` takes it (a limit order: a market order may
    trade only 5 % away from the last price)."""
    async with runtime.db.read() as session:
        issuer = await session.scalar(select(ExchangeAsset.issuer_user_id))
    assert issuer is not None
    offer = {"symbol": "ACME", "side": "sell", "type": "limit", "quantity": quantity, "price_cents": price}
    await runtime.exchange.submit_order(issuer, OrderRequest.model_validate(offer))
    bid = offer | {"side": "buy"}
    await runtime.exchange.submit_order(buyer, OrderRequest.model_validate(bid))
    await settled(runtime)


async def get(http: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def board(page: dict[str, Any]) -> list[tuple[int, str, int, int, float | None]]:
    return [
        (row["rank"], row["name"], row["net_worth_cents"], row["change_cents"], row["change_percent"])
        for row in page["rows"]
    ]


@pytest.fixture
async def traded(
    runtime: Runtime, app: KyriosApp, clock: FrozenClock
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The story of the module docstring, told through the API; yields each player's client."""
    async with client(app) as alice, client(app) as bob, client(app) as carol:
        alice_id = await sign_in(runtime, alice, "alice", CASH)
        bob_id = await sign_in(runtime, bob, "bob", CASH)
        carol_id = await sign_in(runtime, carol, "carol", CASH)
        await buy_from_issuer(runtime, alice_id, 10, 10_000)
        await record(runtime)
        clock.advance(timedelta(hours=1))
        await buy_from_issuer(runtime, bob_id, 5, 11_000)
        await record(runtime)
        clock.advance(timedelta(days=2))
        await buy_from_issuer(runtime, bob_id, 5, 12_000)
        await runtime.exchange.deposit(carol_id, 500_000)
        await runtime.exchange.withdraw(carol_id, 200_000)
        await record(runtime)
        for name, http in (("alice", alice), ("bob", bob), ("carol", carol)):
            await sign_in(runtime, http, name, 0)  # the first sign-in expired meanwhile
        yield {"alice": alice, "bob": bob, "carol": carol}


async def test_the_leaderboard_ranks_net_worth_or_the_periods_trading_pnl(
    app: KyriosApp, traded: dict[str, httpx.AsyncClient]
) -> None:
    async with client(app) as anonymous:
        everything = await get(anonymous, "/api/v1/leaderboard")  # all time by default
        day = await get(anonymous, "/api/v1/leaderboard", period="day")
        week = await get(anonymous, "/api/v1/leaderboard", period="week", limit=2)
    assert everything["period"] == "all" and everything["start"] is None
    assert board(everything) == [
        (1, "carol", 1_300_000, 0, 0.0),  # 5,000.00 in and 2,000.00 out: no gain
        (2, "alice", 1_020_000, 20_000, 2.0),
        (3, "bob", 1_005_000, 5_000, 0.5),
    ]
    assert day["start"] == T0 + 3_600 + 2 * 86_400 - 86_400
    assert board(day) == [
        (1, "alice", 1_020_000, 10_000, 0.99),  # from 10,100.00 at the day's start
        (2, "bob", 1_005_000, 5_000, 0.5),
        (3, "carol", 1_300_000, 0, 0.0),
    ]
    assert board(week) == [(1, "alice", 1_020_000, 20_000, 2.0), (2, "bob", 1_005_000, 5_000, 0.5)]


async def test_my_history_has_a_point_per_change_and_ends_now(
    traded: dict[str, httpx.AsyncClient], clock: FrozenClock
) -> None:
    now = int(clock.now().timestamp())
    week = await get(traded["alice"], "/api/v1/me/net-worth", period="week")
    assert (week["net_worth_cents"], week["net_deposits_cents"], week["change_cents"]) == (
        1_020_000,
        CASH,
        20_000,
    )
    assert [(p["time"], p["net_worth_cents"]) for p in week["points"]] == [
        (T0, CASH),
        (T0 + 3_600, 1_010_000),
        (now, 1_020_000),
    ]
    day = await get(traded["alice"], "/api/v1/me/net-worth", period="day")
    assert [(p["time"], p["net_worth_cents"]) for p in day["points"]] == [
        (now - 86_400, 1_010_000),  # the value at the day's start, from the point before it
        (now, 1_020_000),
    ]
    assert day["change_cents"] == 10_000
    carol = await get(traded["carol"], "/api/v1/me/net-worth", period="all")
    assert [(p["net_worth_cents"], p["net_deposits_cents"]) for p in carol["points"]] == [
        (CASH, CASH),
        (1_300_000, 1_300_000),
    ]
    assert carol["change_cents"] == 0


async def test_a_bad_period_is_refused_in_the_callers_language(
    app: KyriosApp, traded: dict[str, httpx.AsyncClient]
) -> None:
    async with client(app) as anonymous:
        refused = await anonymous.get("/api/v1/leaderboard", params={"period": "month"}, headers=JA)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "invalid" and "month" in error["message"] and "期間" in error["message"]
        english = await anonymous.get("/api/v1/leaderboard", params={"period": "year"})
        assert english.json()["error"]["message"] == (
            "There is no period 'year'; choose one of: day, week, all."
        )
        assert (await anonymous.get("/api/v1/me/net-worth")).status_code == 401
    mine = await traded["alice"].get("/api/v1/me/net-worth", params={"period": "decade"})
    assert mine.status_code == 422
    assert "day, week, month, all" in mine.json()["error"]["message"]


async def test_openapi_documents_the_shapes(app: KyriosApp) -> None:
    async with client(app) as http:
        schema = await get(http, "/openapi.json")
    leaderboard = schema["paths"]["/api/v1/leaderboard"]["get"]
    assert leaderboard["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Leaderboard"
    )
    period = next(p for p in leaderboard["parameters"] if p["name"] == "period")
    assert period["schema"]["enum"] == ["day", "week", "all"]
    history = schema["paths"]["/api/v1/me/net-worth"]["get"]["responses"]["200"]
    assert history["content"]["application/json"]["schema"]["$ref"].endswith("/NetWorthHistory")
    assert set(schema["components"]["schemas"]["NetWorthPoint"]["properties"]) == {
        "time",
        "net_worth_cents",
        "net_deposits_cents",
    }
