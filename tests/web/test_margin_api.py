"""Margin over real HTTP and the real socket: a refused short, the margin in the portfolio, the
warning on the private channel and the below-maintenance restriction, in English and Japanese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, create_app, exchange_runtime
from tests.web.ws_helpers import connect, request, served, until

PRICE, HIGH = 10_000, 12_000


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=PRICE, tick_size_cents=5)
        )
        yield rt


@pytest.fixture
async def app(runtime: Runtime) -> KyriosApp:
    return create_app(runtime)


async def sign_in(
    runtime: Runtime, http: httpx.AsyncClient, name: str, cash: int
) -> tuple[int, dict[str, str]]:
    """Dev-login `name` and fund it; (account id, its bearer header)."""
    login = await http.post("/api/v1/auth/dev-login", json={"name": name})
    assert login.status_code == 200, login.text
    http.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    account = int((await http.get("/api/v1/me", headers=headers)).json()["account_id"])
    await runtime.exchange.deposit(account, cash)
    return account, headers


async def order(
    http: httpx.AsyncClient, who: dict[str, str], side: str, quantity: int, price: int
) -> httpx.Response:
    body = {"symbol": "ACME", "side": side, "type": "limit", "quantity": quantity, "price_cents": price}
    return await http.post("/api/v1/orders", json=body, headers=who)


async def placed(http: httpx.AsyncClient, who: dict[str, str], side: str, quantity: int, price: int) -> None:
    answer = await order(http, who, side, quantity, price)
    assert answer.status_code == 201, answer.text


async def settled(runtime: Runtime) -> None:
    assert isinstance(runtime.exchange, InProcessClient)
    await runtime.exchange.exchange.flush()


async def margin_of(http: httpx.AsyncClient, who: dict[str, str]) -> dict[str, Any]:
    portfolio = await http.get("/api/v1/portfolio", headers=who)
    assert portfolio.status_code == 200, portfolio.text
    return dict(portfolio.json()["margin"])


async def test_a_short_is_cash_backed_and_below_maintenance_only_risk_reducing_orders_pass(
    app: KyriosApp, runtime: Runtime
) -> None:
    async with served(app) as base, httpx.AsyncClient(base_url=base.replace("ws://", "http://")) as http:
        alice, as_alice = await sign_in(runtime, http, "alice", 16_000)
        _, as_bob = await sign_in(runtime, http, "bob", 10_000_000)
        _, as_carol = await sign_in(runtime, http, "carol", 10_000_000)

        refused = await order(http, as_alice, "sell", 2, PRICE)
        assert refused.status_code == 409
        assert refused.json()["error"] == {
            "code": "insufficient_funds",
            "message": "Order rejected: this sell could open a short of 2, which needs 300.00 of free cash"
            " as initial margin, but you have 160.00 free.",
        }
        in_japanese = await order(http, as_alice | {"Accept-Language": "ja"}, "sell", 2, PRICE)
        assert "当初証拠金として 300.00 の空き現金が必要" in in_japanese.json()["error"]["message"]

        await placed(http, as_alice, "sell", 1, PRICE)
        await placed(http, as_carol, "buy", 1, PRICE)
        await settled(runtime)
        assert await margin_of(http, as_alice) == {
            "equity_cents": 16_000,
            "short_value_cents": 10_000,
            "requirement_cents": 15_000,
            "maintenance_cents": 12_500,
            "held_cents": 15_000,
            "status": "ok",
        }

        async with connect(f"{base}/ws") as alice_ws:
            await request(alice_ws, op="auth", token=as_alice["Authorization"].removeprefix("Bearer "))
            assert (await until(alice_ws, "system", "authenticated"))["account_id"] == alice
            await request(alice_ws, op="subscribe", channels=["user"])
            await until(alice_ws, "system", "subscribed")
            await placed(http, as_bob, "sell", 2, HIGH)
            await placed(http, as_carol, "buy", 1, HIGH)  # ACME is marked at 120.00
            warning = await until(alice_ws, "user", "margin")
        assert (warning["status"], warning["equity_cents"], warning["maintenance_cents"]) == (
            "restricted",
            14_000,
            15_000,
        )
        assert (await margin_of(http, as_alice))["status"] == "restricted"

        below = await order(http, as_alice, "sell", 1, HIGH)
        assert below.status_code == 409
        assert below.json()["error"] == {
            "code": "conflict",
            "message": "Order rejected: your account is below its maintenance margin: only orders that"
            " reduce risk are accepted.",
        }
        japanese = await order(http, as_alice | {"Accept-Language": "ja"}, "buy", 2, HIGH)  # it would go long
        assert japanese.json()["error"]["message"] == (
            "注文を受け付けられません: 口座が維持証拠金を下回っています。リスクを減らす注文のみ受け付けます。"
        )
        cover = await http.post(
            "/api/v1/orders",
            json={"symbol": "ACME", "side": "buy", "type": "market", "quantity": 1},
            headers=as_alice,
        )
        assert cover.status_code == 201, cover.text
        await settled(runtime)
        assert await margin_of(http, as_alice) == {
            "equity_cents": 14_000,
            "short_value_cents": 0,
            "requirement_cents": 0,
            "maintenance_cents": 0,
            "held_cents": 0,
            "status": "ok",
        }
