"""The admin API over real HTTP: listings, halts, cash in and out, rules; and who may not use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange import invariants
from kyrios.exchange.models import Role
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.kit import dev_discord_id
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, csrf, exchange_runtime
from tests.web.test_trading_api import limit_order, sign_in

ADMIN = "root"


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
        )
        await rt.exchange.create_user(ADMIN, role=Role.ADMIN, discord_id=dev_discord_id(ADMIN))
        yield rt


@pytest.fixture
def app(runtime: Runtime) -> KyriosApp:
    return create_app(runtime)


@pytest.fixture
async def admin(app: KyriosApp) -> AsyncIterator[httpx.AsyncClient]:
    """The ADMIN account, signed in with a bearer token."""
    async with client(app) as http:
        login = await http.post("/api/v1/auth/dev-login", json={"name": ADMIN})
        http.cookies.clear()
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield http


async def ledger_count(http: httpx.AsyncClient) -> int:
    return len((await http.get("/api/v1/cash/ledger")).json()["items"])


async def test_an_admin_lists_creates_halts_and_resumes_assets(
    runtime: Runtime, app: KyriosApp, admin: httpx.AsyncClient
) -> None:
    assert [a["symbol"] for a in (await admin.get("/api/v1/admin/assets")).json()] == ["ACME"]
    listing = {"symbol": "BOLT", "name": "Bolt", "supply": 500, "price_cents": 2_500, "tick_size_cents": 5}
    created = await admin.post("/api/v1/admin/assets", json=listing)
    assert created.status_code == 201, created.text
    assert (created.json()["symbol"], created.json()["status"], created.json()["issued_supply"]) == (
        "BOLT",
        "TRADING",
        500,
    )
    again = await admin.post("/api/v1/admin/assets", json=listing, headers={"Accept-Language": "ja"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    for bad in ({"symbol": "bolt"}, {"symbol": "ZED", "price_cents": 2_501}, {"symbol": "ZED", "supply": -1}):
        refused = await admin.post("/api/v1/admin/assets", json=listing | bad)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid", refused.text
    assert [a["symbol"] for a in (await admin.get("/api/v1/admin/assets")).json()] == ["ACME", "BOLT"]

    halted = await admin.post("/api/v1/admin/assets/ACME/halt")
    assert halted.status_code == 200 and halted.json()["status"] == "HALTED"
    async with client(app) as player:
        await sign_in(runtime, player, "alice")
        refused = await player.post("/api/v1/orders", json=limit_order("buy", 1, 9_000))
        assert refused.status_code == 409
        [rejected] = (await player.get("/api/v1/orders", params={"status": "REJECTED"})).json()["items"]
        assert rejected["reject_reason"] == "book_halted"
        resumed = await admin.post("/api/v1/admin/assets/ACME/resume")
        assert resumed.json()["status"] == "TRADING"
        assert (await player.post("/api/v1/orders", json=limit_order("buy", 1, 9_000))).status_code == 201
    unknown = await admin.post("/api/v1/admin/assets/NOPE/halt", headers={"Accept-Language": "ja"})
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "銘柄 NOPE はありません。"


async def test_deposits_and_withdrawals_are_ledgered_and_bad_ones_change_nothing(
    runtime: Runtime, app: KyriosApp, admin: httpx.AsyncClient
) -> None:
    async with client(app) as player:
        account = await sign_in(runtime, player, "alice", cash=0)
        given = await admin.post(
            f"/api/v1/admin/accounts/{account}/deposits", json={"amount_cents": 50_000, "detail": "prize"}
        )
        assert given.status_code == 201, given.text
        assert given.json() == {
            "account_id": account,
            "delta_cents": 50_000,
            "cash_cents": 50_000,
            "detail": "admin root: prize",
        }
        assert (await player.post("/api/v1/orders", json=limit_order("buy", 3, 10_000))).status_code == 201
        taken = await admin.post(
            f"/api/v1/admin/accounts/{account}/withdrawals", json={"amount_cents": 15_000}
        )
        assert taken.json() | {"detail": ""} == {
            "account_id": account,
            "delta_cents": -15_000,
            "cash_cents": 5_000,
            "detail": "",
        }
        ledger = (await player.get("/api/v1/cash/ledger")).json()["items"]
        assert [(row["delta_cents"], row["reason"], row["detail"]) for row in ledger] == [
            (-15_000, "withdrawal", "admin root"),
            (50_000, "deposit", "admin root: prize"),
        ]

        before = (await player.get("/api/v1/portfolio")).json()
        refusals: list[tuple[str, dict[str, Any], int, str]] = [
            ("withdrawals", {"amount_cents": 5_001}, 409, "50.01 but have 50.00 free"),  # not the reserved
            ("withdrawals", {"amount_cents": -1}, 422, "positive whole number of cents"),
            ("deposits", {"amount_cents": 0}, 422, "positive whole number of cents"),
            ("deposits", {"amount_cents": 10**30}, 422, "too large"),
        ]
        for kind, body, status, text in refusals:
            refused = await admin.post(f"/api/v1/admin/accounts/{account}/{kind}", json=body)
            assert refused.status_code == status and text in refused.json()["error"]["message"], refused.text
        missing = await admin.post(
            "/api/v1/admin/accounts/999999/deposits",
            json={"amount_cents": 1},
            headers={"Accept-Language": "ja"},
        )
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "ID 999999 の取引所ユーザーは見つかりません。"
        malformed = await admin.post(f"/api/v1/admin/accounts/{account}/deposits", json={"amount": 1})
        assert malformed.status_code == 422
        assert (await player.get("/api/v1/portfolio")).json() == before
        assert await ledger_count(player) == 2
    async with runtime.db.read() as session:
        assert await invariants.check(session) == []


async def test_an_admin_opens_accounts_and_lists_them(admin: httpx.AsyncClient) -> None:
    opened = await admin.post("/api/v1/admin/accounts", json={"username": "maker-7"})
    assert opened.status_code == 201 and opened.json()["role"] == "BOT"
    taken = await admin.post("/api/v1/admin/accounts", json={"username": "maker-7"})
    assert taken.status_code == 409
    names = {(a["username"], a["role"]) for a in (await admin.get("/api/v1/admin/accounts")).json()}
    assert {("maker-7", "BOT"), (ADMIN, "ADMIN")} <= names


async def test_rules_are_read_and_changed_and_bad_changes_refused(admin: httpx.AsyncClient) -> None:
    defaults = ExchangeRules()
    read = (await admin.get("/api/v1/admin/rules")).json()
    assert read == {
        "max_short_quantity": defaults.max_short_quantity,
        "market_collar_bps": defaults.market_collar_bps,
        "orders_per_second": defaults.orders_per_second,
        "order_burst": defaults.order_burst,
        "initial_margin_bps": defaults.initial_margin_bps,
        "maintenance_margin_bps": defaults.maintenance_margin_bps,
        "liquidation_enabled": defaults.liquidation_enabled,
    }
    changed = await admin.patch("/api/v1/admin/rules", json={"market_collar_bps": 250, "order_burst": 7})
    assert changed.status_code == 200 and changed.json() == read | {
        "market_collar_bps": 250,
        "order_burst": 7,
    }
    out_of_bounds = await admin.patch(
        "/api/v1/admin/rules", json={"market_collar_bps": 0}, headers={"Accept-Language": "ja"}
    )
    assert (
        out_of_bounds.status_code == 422 and "market_collar_bps" in out_of_bounds.json()["error"]["message"]
    )
    for bad in ({}, {"no_such_rule": 1}, {"order_burst": "many"}):
        assert (await admin.patch("/api/v1/admin/rules", json=bad)).status_code == 422
    assert (await admin.get("/api/v1/admin/rules")).json() == changed.json()


ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/admin/assets", None),
    ("POST", "/api/v1/admin/assets", {"symbol": "EVIL", "name": "Evil", "supply": 1}),
    ("POST", "/api/v1/admin/assets/ACME/halt", None),
    ("POST", "/api/v1/admin/assets/ACME/resume", None),
    ("GET", "/api/v1/admin/accounts", None),
    ("POST", "/api/v1/admin/accounts", {"username": "sock-puppet"}),
    ("POST", "/api/v1/admin/accounts/{me}/deposits", {"amount_cents": 10**9}),
    ("POST", "/api/v1/admin/accounts/{me}/withdrawals", {"amount_cents": 1}),
    ("GET", "/api/v1/admin/rules", None),
    ("PATCH", "/api/v1/admin/rules", {"order_burst": 1}),
]


async def test_players_bots_and_strangers_are_refused_every_admin_route(
    runtime: Runtime, app: KyriosApp, admin: httpx.AsyncClient
) -> None:
    await runtime.exchange.create_user("maker-1", role=Role.BOT)
    created = await admin.post("/api/v1/auth/api-keys", json={"user": "maker-1"})
    bot_key = {"X-API-Key": created.json()["key"]}
    rules_before = (await admin.get("/api/v1/admin/rules")).json()
    async with client(app) as player, client(app) as stranger:
        me = await sign_in(runtime, player, "mallory", cash=100)
        portfolio_before = (await player.get("/api/v1/portfolio")).json()
        for method, path, body in ADMIN_CALLS:
            url = path.format(me=me)
            as_player = await player.request(method, url, json=body, headers={"Accept-Language": "ja"})
            assert as_player.status_code == 403, (url, as_player.text)
            assert as_player.json() == {
                "error": {"code": "forbidden", "message": "これは取引所の管理者だけが行えます。"}
            }
            as_bot = await stranger.request(method, url, json=body, headers=bot_key)
            assert as_bot.status_code == 403 and as_bot.json()["error"] == {
                "code": "forbidden",
                "message": "Only an exchange administrator may do this.",
            }
            assert (await stranger.request(method, url, json=body)).status_code == 401
        assert (await player.get("/api/v1/portfolio")).json() == portfolio_before
    assert [a["status"] for a in (await admin.get("/api/v1/admin/assets")).json()] == ["TRADING"]
    assert (await admin.get("/api/v1/admin/rules")).json() == rules_before
    usernames = {a["username"] for a in (await admin.get("/api/v1/admin/accounts")).json()}
    assert "sock-puppet" not in usernames


async def test_a_cookie_signed_admin_writes_only_with_the_csrf_token(app: KyriosApp) -> None:
    async with client(app) as browser:
        assert (await browser.post("/api/v1/auth/dev-login", json={"name": ADMIN})).status_code == 200
        assert (await browser.get("/api/v1/admin/rules")).status_code == 200  # a read needs no token
        forged = await browser.post("/api/v1/admin/assets/ACME/halt")
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"
        assert (await browser.get("/api/v1/admin/assets")).json()[0]["status"] == "TRADING"
        halted = await browser.post("/api/v1/admin/assets/ACME/halt", headers=csrf(browser))
        assert halted.status_code == 200 and halted.json()["status"] == "HALTED"


async def test_the_admin_routes_and_their_shapes_are_documented(app: KyriosApp) -> None:
    async with client(app) as http:
        spec = (await http.get("/openapi.json")).json()
    paths = spec["paths"]
    assert {"get", "patch"} <= set(paths["/api/v1/admin/rules"])
    assert "post" in paths["/api/v1/admin/accounts/{account_id}/withdrawals"]
    schemas = spec["components"]["schemas"]
    assert {"AssetListing", "CashMove", "CashMoved", "NewAccount", "RulesView", "RulesChange"} <= set(schemas)
    assert set(schemas["RulesChange"]["properties"]) == set(schemas["RulesView"]["properties"])


async def test_an_admin_api_key_reaches_the_admin_routes_and_nothing_else(
    app: KyriosApp, admin: httpx.AsyncClient
) -> None:
    created = await admin.post("/api/v1/auth/api-keys", json={"user": ADMIN, "label": "scripts"})
    assert created.status_code == 201 and created.json()["scopes"] == ["admin"]
    refused = await admin.post("/api/v1/auth/api-keys", json={"user": ADMIN, "scopes": ["trade"]})
    assert refused.status_code == 422
    key = {"X-API-Key": created.json()["key"]}
    async with client(app) as script:
        opened = await script.post("/api/v1/admin/accounts", json={"username": "maker-9"}, headers=key)
        assert opened.status_code == 201  # no CSRF token: a key is no cookie
        found = await script.get("/api/v1/admin/accounts/maker-9", headers=key)
        assert found.json()["id"] == opened.json()["id"]
        assert (await script.get("/api/v1/admin/accounts/nobody", headers=key)).status_code == 404
        for path in ("/api/v1/portfolio", "/api/v1/orders"):
            assert (await script.get(path, headers=key)).status_code == 403
        placed = await script.post("/api/v1/orders", json=limit_order("buy", 1, 9_000), headers=key)
        assert placed.status_code == 403
        revoked = await admin.delete(f"/api/v1/auth/api-keys/{created.json()['key_id']}")
        assert revoked.status_code == 204
        assert (await script.get("/api/v1/admin/rules", headers=key)).status_code == 401
