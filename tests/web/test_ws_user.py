"""The private `user` channel over a real socket: the same JWT as the REST API, only one's own orders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.cookies import ACCESS_COOKIE
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, create_app, exchange_runtime, tokens_for
from tests.web.ws_helpers import connect, receive, request, served, until


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
        )
        yield rt


@pytest.fixture
async def app(runtime: Runtime) -> KyriosApp:
    return create_app(runtime)


async def sign_in(runtime: Runtime, http: httpx.AsyncClient, name: str) -> tuple[int, str]:
    """Dev-login `name`, fund it; (account id, access token)."""
    login = await http.post("/api/v1/auth/dev-login", json={"name": name})
    assert login.status_code == 200, login.text
    token = str(login.json()["access_token"])
    me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    account = int(me.json()["account_id"])
    await runtime.exchange.deposit(account, 10_000_000)
    return account, token


async def place(http: httpx.AsyncClient, token: str, side: str, price: int) -> dict[str, Any]:
    order = {"symbol": "ACME", "side": side, "type": "limit", "quantity": 2, "price_cents": price}
    placed = await http.post("/api/v1/orders", json=order, headers={"Authorization": f"Bearer {token}"})
    assert placed.status_code == 201, placed.text
    return dict(placed.json())


async def test_each_user_sees_only_their_own_orders(app: KyriosApp, runtime: Runtime) -> None:
    async with served(app) as base, httpx.AsyncClient(base_url=base.replace("ws://", "http://")) as http:
        alice, alice_token = await sign_in(runtime, http, "alice")
        bob, bob_token = await sign_in(runtime, http, "bob")
        http.cookies.clear()
        async with (
            connect(f"{base}/ws") as alice_ws,
            connect(f"{base}/ws", additional_headers={"Cookie": f"{ACCESS_COOKIE}={bob_token}"}) as bob_ws,
        ):
            await request(alice_ws, op="auth", token=alice_token)
            assert (await until(alice_ws, "system", "authenticated"))["account_id"] == alice
            await request(alice_ws, op="subscribe", channels=["user", f"user:{bob}"])
            refused = await until(alice_ws, "system", "error")
            assert (refused["code"], refused["subject"]) == ("forbidden", f"user:{bob}")
            assert (await until(alice_ws, "system", "subscribed"))["channels"] == ["user"]
            await request(bob_ws, op="subscribe", channels=[f"user:{bob}"])  # the cookie signed bob in
            assert (await until(bob_ws, "system", "subscribed"))["channels"] == [f"user:{bob}"]

            bid = await place(http, alice_token, "buy", 9_990)
            ask = await place(http, bob_token, "sell", 9_990)  # fills alice's bid
            seen_by_alice = [await receive(alice_ws) for _ in range(3)]
            seen_by_bob = [await receive(bob_ws) for _ in range(2)]
            assert [(f["type"], f["order_id" if f["type"] == "fill" else "id"]) for f in seen_by_alice] == [
                ("order", bid["id"]),
                ("order", bid["id"]),
                ("fill", bid["id"]),
            ]
            assert [f.get("status") for f in seen_by_alice] == ["OPEN", "FILLED", None]
            fill = seen_by_alice[2]
            assert (fill["side"], fill["liquidity"], fill["price_cents"], fill["quantity"]) == (
                "buy",
                "maker",
                9_990,
                2,
            )
            (order, fill) = seen_by_bob
            assert (order["type"], order["id"], order["status"], order["filled_quantity"]) == (
                "order",
                ask["id"],
                "FILLED",
                2,
            )
            assert (fill["type"], fill["order_id"], fill["side"], fill["liquidity"]) == (
                "fill",
                ask["id"],
                "sell",
                "taker",
            )
            assert fill["id"] == seen_by_alice[2]["id"]
            await place(http, bob_token, "sell", 10_100)
            assert (await until(bob_ws, "user", "order"))["status"] == "OPEN"
            await request(alice_ws, op="subscribe", channels=["trades:ACME"])
            ack = await receive(alice_ws)  # nothing of bob's came before it
            assert ack == {"channel": "system", "type": "subscribed", "channels": ["trades:ACME"]}


async def test_the_user_channel_is_refused_without_a_valid_token(app: KyriosApp, runtime: Runtime) -> None:
    forged = tokens_for(runtime, secret="another-secret-" + "y" * 60).issue(
        discord_id=1, name="mallory", account_id=1
    )
    async with served(app) as base, connect(f"{base}/ws?locale=ja") as ws:
        await request(ws, op="subscribe", channels=["user"])
        refused = await until(ws, "system", "error")
        assert refused["code"] == "unauthorized" and not refused["message"].isascii()
        await request(ws, op="auth", token=forged)
        refused = await until(ws, "system", "error")
        assert refused["code"] == "unauthorized" and refused["op"] == "auth"
        await request(ws, op="subscribe", channels=["user:1"])
        assert (await receive(ws))["code"] == "unauthorized"
