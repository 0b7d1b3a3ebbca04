"""The private trading API over real HTTP, with the exchange running in process on the test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange import invariants
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.models import AssetStatus, Role
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.api.trading import MAX_OPEN_ORDERS_PER_SYMBOL
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime, tokens_for

CASH = 10_000_000
ADMIN_DISCORD_ID = 4242424242424243


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


async def sign_in(runtime: Runtime, http: httpx.AsyncClient, name: str, cash: int = CASH) -> int:
    """Dev-login `name` on a client of its own (bearer token, no cookies); returns the account id."""
    login = await http.post("/api/v1/auth/dev-login", json={"name": name})
    assert login.status_code == 200, login.text
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    account = int((await http.get("/api/v1/me")).json()["account_id"])
    if cash:
        await runtime.exchange.deposit(account, cash)
    return account


async def settled(runtime: Runtime) -> None:
    """Wait until every acknowledged order is matched and persisted."""
    assert isinstance(runtime.exchange, InProcessClient)
    await runtime.exchange.exchange.flush()


def limit_order(side: str, quantity: int, price_cents: int, **extra: Any) -> dict[str, Any]:
    return {
        "symbol": "ACME",
        "side": side,
        "type": "limit",
        "quantity": quantity,
        "price_cents": price_cents,
    } | extra


async def test_an_order_is_placed_listed_and_canceled(runtime: Runtime, app: KyriosApp) -> None:
    async with client(app) as http:
        account = await sign_in(runtime, http, "alice")
        placed = await http.post("/api/v1/orders", json=limit_order("buy", 3, 9_900))
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "OPEN" and order["user_id"] == account and order["duplicate"] is False
        listed = (await http.get("/api/v1/orders", params={"open": "true"})).json()
        assert [o["id"] for o in listed["items"]] == [order["id"]] and listed["next_before"] is None
        portfolio = (await http.get("/api/v1/portfolio")).json()
        assert portfolio["reserved_cents"] == 3 * 9_900 and portfolio["cash_cents"] == CASH - 3 * 9_900

        canceled = await http.delete(f"/api/v1/orders/{order['id']}")
        assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
        again = await http.delete(f"/api/v1/orders/{order['id']}")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        assert (await http.get("/api/v1/orders", params={"open": "true"})).json()["items"] == []
        assert (await http.get("/api/v1/orders", params={"status": "CANCELED"})).json()["items"][0]["id"] == (
            order["id"]
        )
        portfolio = (await http.get("/api/v1/portfolio")).json()
        assert portfolio["reserved_cents"] == 0 and portfolio["cash_cents"] == CASH


async def test_crossed_orders_show_in_both_users_executions_portfolios_and_ledgers(
    runtime: Runtime, app: KyriosApp
) -> None:
    async with client(app) as alice, client(app) as bob:
        alice_id = await sign_in(runtime, alice, "alice")
        await sign_in(runtime, bob, "bob")
        resting = (await bob.post("/api/v1/orders", json=limit_order("sell", 10, 10_050))).json()
        taking = (await alice.post("/api/v1/orders", json=limit_order("buy", 4, 10_100))).json()
        await settled(runtime)

        [mine] = (await alice.get("/api/v1/executions")).json()["items"]
        assert mine | {"id": 0, "executed_at": ""} == {
            "id": 0,
            "symbol": "ACME",
            "order_id": taking["id"],
            "side": "buy",
            "liquidity": "taker",
            "price_cents": 10_050,
            "quantity": 4,
            "executed_at": "",
        }
        [theirs] = (await bob.get("/api/v1/executions")).json()["items"]
        assert theirs["id"] == mine["id"] and theirs["order_id"] == resting["id"]
        assert (theirs["side"], theirs["liquidity"], theirs["quantity"]) == ("sell", "maker", 4)

        bought = (await alice.get("/api/v1/portfolio")).json()
        assert bought["user_id"] == alice_id and bought["cash_cents"] == CASH - 4 * 10_050
        assert bought["reserved_cents"] == 0
        [position] = bought["positions"]
        assert position == {
            "symbol": "ACME",
            "quantity": 4,
            "average_price_cents": 10_050,
            "last_price_cents": 10_050,
            "market_value_cents": 4 * 10_050,
            "realized_pnl_cents": 0,
            "unrealized_pnl_cents": 0,
            "reserved_quantity": 0,
            "margin_cents": 0,
        }
        sold = (await bob.get("/api/v1/portfolio")).json()
        # the short sell of 10 holds 150 % of its value; the 4 sold moved their share to the position
        margin = 10 * 10_050 * 3 // 2
        assert sold["cash_cents"] == CASH + 4 * 10_050 - margin and sold["reserved_cents"] == margin
        assert [(p["quantity"], p["reserved_quantity"], p["margin_cents"]) for p in sold["positions"]] == [
            (-4, 6, 4 * 10_050 * 3 // 2)
        ]

        ledger = (await alice.get("/api/v1/cash/ledger")).json()["items"]
        assert [(row["delta_cents"], row["execution_id"]) for row in ledger] == [
            (-4 * 10_050, mine["id"]),
            (CASH, None),
        ]
        orders = (await bob.get("/api/v1/orders")).json()["items"]
        assert [(o["id"], o["status"], o["filled_quantity"]) for o in orders] == [
            (resting["id"], "PARTIALLY_FILLED", 4)
        ]


async def test_a_retried_client_order_id_returns_the_original(runtime: Runtime, app: KyriosApp) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice")
        body = limit_order("buy", 2, 9_000, client_order_id="retry-1")
        first = await http.post("/api/v1/orders", json=body)
        retry = await http.post("/api/v1/orders", json=body)
        assert first.status_code == 201 and retry.status_code == 200
        assert retry.json() == first.json() | {"duplicate": True}
        assert len((await http.get("/api/v1/orders")).json()["items"]) == 1
        assert (await http.get("/api/v1/portfolio")).json()["reserved_cents"] == 2 * 9_000

        canceled = await http.delete("/api/v1/orders", params={"client_order_id": "retry-1"})
        assert canceled.status_code == 200 and canceled.json()["id"] == first.json()["id"]


async def test_another_users_order_is_not_found_and_stays_open(runtime: Runtime, app: KyriosApp) -> None:
    async with client(app) as alice, client(app) as mallory:
        await sign_in(runtime, alice, "alice")
        await sign_in(runtime, mallory, "mallory")
        order = (
            await alice.post("/api/v1/orders", json=limit_order("buy", 1, 9_000, client_order_id="a"))
        ).json()
        missing = (await mallory.delete("/api/v1/orders/999999")).json()
        for answer in (
            await mallory.delete(f"/api/v1/orders/{order['id']}"),
            await mallory.get(f"/api/v1/orders/{order['id']}"),
        ):
            assert answer.status_code == 404
            assert answer.json()["error"]["message"] == f"There is no order {order['id']}."
        assert missing["error"]["code"] == "not_found"
        by_client_id = await mallory.delete("/api/v1/orders", params={"client_order_id": "a"})
        assert by_client_id.status_code == 404
        all_in_symbol = await mallory.delete("/api/v1/orders", params={"symbol": "ACME"})
        assert all_in_symbol.json() == {"canceled": []}
        assert (await mallory.get("/api/v1/orders")).json()["items"] == []
        still = (await alice.get(f"/api/v1/orders/{order['id']}")).json()
        assert still["status"] == "OPEN"


@pytest.mark.parametrize(
    ("body", "english", "japanese"),
    [
        (limit_order("buy", 0, 9_000), "quantity must be a positive whole number, got 0", "数量は正の整数"),
        (
            limit_order("sell", -5, 9_000),
            "quantity must be a positive whole number, got -5",
            "数量は正の整数",
        ),
        (limit_order("buy", 1, 9_001), "is not a multiple of the tick size", "呼値の単位"),
        (
            limit_order("buy", 1, 9_000) | {"symbol": "NOPE"},
            "There is no symbol NOPE.",
            "銘柄 NOPE はありません。",
        ),
    ],
)
async def test_bad_orders_are_refused_in_the_callers_language_and_change_nothing(
    runtime: Runtime, app: KyriosApp, body: dict[str, Any], english: str, japanese: str
) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice")
        before = (await http.get("/api/v1/portfolio")).json()
        for language, expected in (("en", english), ("ja", japanese)):
            refused = await http.post("/api/v1/orders", json=body, headers={"Accept-Language": language})
            assert refused.status_code == 422, refused.text
            error = refused.json()["error"]
            assert error["code"] == "invalid" and expected in error["message"]
        orders = (await http.get("/api/v1/orders")).json()["items"]
        if body["symbol"] == "NOPE":
            assert orders == []  # no such symbol to keep an order in
        else:  # each refusal kept as a REJECTED order, holding nothing
            assert [(o["status"], o["remaining_quantity"], o["filled_quantity"]) for o in orders] == [
                ("REJECTED", 0, 0)
            ] * 2
        assert (await http.get("/api/v1/portfolio")).json() == before


async def test_cancel_all_in_a_symbol_cancels_only_mine(runtime: Runtime, app: KyriosApp) -> None:
    async with client(app) as alice, client(app) as bob:
        await sign_in(runtime, alice, "alice")
        await sign_in(runtime, bob, "bob")
        mine = [
            (await alice.post("/api/v1/orders", json=limit_order("buy", 1, p))).json()["id"]
            for p in (9_000, 9_005)
        ]
        theirs = (await bob.post("/api/v1/orders", json=limit_order("buy", 1, 9_010))).json()["id"]
        canceled = (await alice.delete("/api/v1/orders", params={"symbol": "ACME"})).json()["canceled"]
        assert sorted(o["id"] for o in canceled) == mine
        assert (await bob.get(f"/api/v1/orders/{theirs}")).json()["status"] == "OPEN"
        neither = await alice.delete("/api/v1/orders")
        assert neither.status_code == 422


async def test_pages_follow_the_cursor_newest_first(
    runtime: Runtime, app: KyriosApp, clock: FrozenClock
) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice")
        ids = []
        for price in range(9_000, 9_025, 5):
            ids.append((await http.post("/api/v1/orders", json=limit_order("buy", 1, price))).json()["id"])
        first = (await http.get("/api/v1/orders", params={"limit": 2})).json()
        second = (
            await http.get("/api/v1/orders", params={"limit": 2, "before": first["next_before"]})
        ).json()
        third = (
            await http.get("/api/v1/orders", params={"limit": 2, "before": second["next_before"]})
        ).json()
        pages = [[o["id"] for o in page["items"]] for page in (first, second, third)]
        assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]] and third["next_before"] is None


async def test_too_many_requests_answer_429_with_retry_after_and_bots_get_more(
    runtime: Runtime, app: KyriosApp, clock: FrozenClock
) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice", cash=0)
        for _ in range(60):
            assert (await http.get("/api/v1/orders")).status_code == 200
        limited = await http.get("/api/v1/orders", headers={"Accept-Language": "ja"})
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        assert limited.json()["error"]["code"] == "cooldown"
        assert limited.json()["error"]["message"] == (
            "リクエストが多すぎます: 1 秒あたり 5 件まで（一度に 60 件まで）です。"
            "0.20 秒後にもう一度お試しください。"
        )
        clock.advance(timedelta(seconds=1))
        assert (await http.get("/api/v1/orders")).status_code == 200

        admin = await runtime.exchange.create_user("root", role=Role.ADMIN, discord_id=ADMIN_DISCORD_ID)
        token = tokens_for(runtime).issue(discord_id=ADMIN_DISCORD_ID, name="root", account_id=admin.id)
        await runtime.exchange.create_user("maker-1", role=Role.BOT)
        created = await http.post(
            "/api/v1/auth/api-keys",
            json={"user": "maker-1", "scopes": ["read", "trade"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        key = {"X-API-Key": created.json()["key"], "Authorization": ""}
        for _ in range(100):
            assert (await http.get("/api/v1/orders", headers=key)).status_code == 200


async def test_open_orders_per_symbol_are_capped(
    runtime: Runtime, app: KyriosApp, clock: FrozenClock
) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice")
        for _ in range(MAX_OPEN_ORDERS_PER_SYMBOL):
            clock.advance(timedelta(seconds=1))  # past both rate limits
            assert (await http.post("/api/v1/orders", json=limit_order("buy", 1, 9_000))).status_code == 201
        clock.advance(timedelta(seconds=1))
        refused = await http.post("/api/v1/orders", json=limit_order("buy", 1, 9_000))
        assert refused.status_code == 409
        assert refused.json()["error"]["message"] == (
            f"Order rejected: you already have {MAX_OPEN_ORDERS_PER_SYMBOL} open orders in ACME, the most "
            "allowed. Cancel some before placing more."
        )
        page = (await http.get("/api/v1/orders", params={"limit": 500})).json()["items"]
        assert len(page) == MAX_OPEN_ORDERS_PER_SYMBOL
        await http.delete(f"/api/v1/orders/{page[0]['id']}")
        clock.advance(timedelta(seconds=1))
        assert (await http.post("/api/v1/orders", json=limit_order("buy", 1, 9_000))).status_code == 201


async def test_the_routes_and_their_shapes_are_documented(app: KyriosApp) -> None:
    async with client(app) as http:
        spec = (await http.get("/openapi.json")).json()
    paths = spec["paths"]
    assert {"post", "get", "delete"} <= set(paths["/api/v1/orders"])
    for path in (
        "/api/v1/executions",
        "/api/v1/portfolio",
        "/api/v1/cash/ledger",
        "/api/v1/orders/{order_id}",
    ):
        assert path in paths
    schemas = spec["components"]["schemas"]
    assert {"OrderRequest", "OrderView", "Page_ExecutionView_", "PortfolioView", "CanceledOrders"} <= set(
        schemas
    )


async def test_simultaneous_orders_never_pass_the_open_order_cap(
    runtime: Runtime, app: KyriosApp, clock: FrozenClock
) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice")
        below = MAX_OPEN_ORDERS_PER_SYMBOL - 5
        for _ in range(below):
            clock.advance(timedelta(seconds=1))
            assert (await http.post("/api/v1/orders", json=limit_order("buy", 1, 9_000))).status_code == 201
        clock.advance(timedelta(seconds=60))  # both rate-limit buckets full again
        answers = await asyncio.gather(
            *(http.post("/api/v1/orders", json=limit_order("buy", 1, 9_000)) for _ in range(12))
        )
        codes = sorted(answer.status_code for answer in answers)
        assert set(codes) == {201, 409} and codes.count(201) <= 5
        open_now = (await http.get("/api/v1/orders", params={"open": "true", "limit": 500})).json()["items"]
        assert len(open_now) == below + codes.count(201) <= MAX_OPEN_ORDERS_PER_SYMBOL


async def test_orders_the_account_or_the_symbol_cannot_take_now_are_409_and_change_nothing(
    runtime: Runtime, app: KyriosApp
) -> None:
    async with client(app) as http:
        await sign_in(runtime, http, "alice", cash=50_000)
        before = (await http.get("/api/v1/portfolio")).json()
        poor = await http.post("/api/v1/orders", json=limit_order("buy", 10, 9_000))
        assert poor.status_code == 409 and poor.json()["error"]["code"] == "insufficient_funds"
        assert "this order needs" in poor.json()["error"]["message"]
        await runtime.exchange.set_status("ACME", AssetStatus.HALTED)
        halted = await http.post(
            "/api/v1/orders", json=limit_order("buy", 1, 9_000), headers={"Accept-Language": "ja"}
        )
        assert halted.status_code == 409 and halted.json()["error"] == {
            "code": "conflict",
            "message": "ACME は取引停止中です。受け付けているのは取消だけです。",
        }
        orders = (await http.get("/api/v1/orders")).json()["items"]
        assert [(o["status"], o["reject_reason"]) for o in orders] == [
            ("REJECTED", "book_halted"),
            ("REJECTED", "insufficient_cash"),
        ]
        assert (await http.get("/api/v1/portfolio")).json() == before


async def test_refused_orders_are_listed_as_rejected_with_a_reason_in_the_readers_language(
    runtime: Runtime, app: KyriosApp
) -> None:
    async with client(app) as http, client(app) as other:
        await sign_in(runtime, http, "alice", cash=50_000)
        await sign_in(runtime, other, "bob")
        body = limit_order("buy", 10, 9_000, client_order_id="too-dear")
        refused = await http.post("/api/v1/orders", json=body)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "insufficient_funds"
        off_tick = await http.post("/api/v1/orders", json=limit_order("sell", 1, 9_001))
        assert off_tick.status_code == 422

        english = (await http.get("/api/v1/orders", params={"status": "REJECTED"})).json()["items"]
        assert [(o["reject_reason"], o["reject_message"]) for o in english] == [
            ("price_off_tick", "The price was not a multiple of the tick size."),
            ("insufficient_cash", "There was not enough free cash for the order."),
        ]
        japanese = (
            await http.get(
                f"/api/v1/orders/{english[1]['id']}", headers={"Accept-Language": "ja-JP,ja;q=0.9"}
            )
        ).json()
        assert japanese["reject_message"] == "注文に使える資金が足りませんでした。"
        assert (japanese["quantity"], japanese["client_order_id"]) == (10, "too-dear")

        # a retry gets the REJECTED original back, as a retry of an accepted order gets its original
        retry = await http.post("/api/v1/orders", json=body)
        assert retry.status_code == 200
        assert retry.json() | {"reject_message": None} == english[1] | {
            "duplicate": True,
            "reject_message": None,
        }
        assert len((await http.get("/api/v1/orders")).json()["items"]) == 2
        assert (await other.get("/api/v1/orders", params={"status": "REJECTED"})).json()["items"] == []
        assert (await other.get(f"/api/v1/orders/{english[0]['id']}")).status_code == 404
    async with runtime.db.read() as session:
        assert await invariants.check(session) == []
