"""The portfolio and leaderboard pages in a real browser (Debian's Chromium via Playwright).

The exchange runs in the server's process on the test database with ACME listed. Alice buys 10 at
100.00 and the history is recorded; an hour later bob buys 5 at 110.00 (alice's shares now worth
1,100.00) and it is recorded again, so alice's chart has points and the day's ranking has an order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.models import ExchangeAsset
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from tests.web.auth_helpers import SECRET, SecretStr, create_app, exchange_runtime
from tests.web.browser import artifacts_dir, chromium, live_server, require_browser
from tests.web.test_page_trading import DESKTOP, PHONE, watch_console

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CASH = 1_000_000  # 10,000.00


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock, database_url: str) -> AsyncIterator[Runtime]:
    require_browser(database_url)
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
        )
        yield rt


async def _account(http: httpx.AsyncClient, name: str) -> int:
    login = await http.post("/api/v1/auth/dev-login", json={"name": name})
    assert login.status_code == 200, login.text
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return int((await http.get("/api/v1/me")).json()["account_id"])


async def _buy_from_issuer(runtime: Runtime, buyer: int, quantity: int, price: int) -> None:
    async with runtime.db.read() as session:
        issuer = await session.scalar(select(ExchangeAsset.issuer_user_id))
    assert issuer is not None and isinstance(runtime.exchange, InProcessClient)
    offer = {"symbol": "ACME", "side": "sell", "type": "limit", "quantity": quantity, "price_cents": price}
    await runtime.exchange.submit_order(issuer, OrderRequest.model_validate(offer))
    await runtime.exchange.submit_order(buyer, OrderRequest.model_validate(offer | {"side": "buy"}))
    await runtime.exchange.exchange.flush()


@pytest.fixture
async def server(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[str]:
    """The live server's base URL after the trades of the module docstring."""
    assert runtime.recorder is not None
    async with live_server(create_app(runtime)) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            alice, bob = await _account(http, "alice"), await _account(http, "bob")
        for account in (alice, bob):
            await runtime.exchange.deposit(account, CASH)
        await _buy_from_issuer(runtime, alice, 10, 10_000)
        await runtime.recorder.record()
        clock.advance(timedelta(hours=1))
        await _buy_from_issuer(runtime, bob, 5, 11_000)
        await runtime.recorder.record()
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def sign_in(page: Page, name: str) -> None:
    await page.fill("#login-name", name)
    await page.click("#login-form button[type=submit]")
    await page.locator("#whoami").wait_for()


async def test_the_portfolio_page_draws_the_net_worth_chart(
    server: str, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(5_000)
    errors = watch_console(page)
    await page.goto(server + "/portfolio")
    await page.locator("#signed-out").wait_for()  # nothing to show before signing in
    await sign_in(page, "alice")

    # Week: both recorded points (10,000.00 then 10,100.00), the last one now.
    await page.click("#periods [data-period=week]")
    await page.wait_for_function("window.kyriosNetWorth && window.kyriosNetWorth.area.data().length === 2")
    values = await page.evaluate("window.kyriosNetWorth.area.data().map((point) => point.value)")
    assert values == [10_000.0, 10_100.0]
    assert await page.locator("#net-worth-chart canvas").count() > 0
    assert await page.locator("#net-worth").text_content() == "10,100.00"
    assert await page.locator("#change").text_content() == "+100.00 (+1.00%)"
    assert await page.locator("#net-deposits").text_content() == "10,000.00"
    row = page.locator("#positions tbody tr").first
    cells = [await row.locator("td").nth(i).text_content() for i in range(7)]
    assert cells == ["ACME", "10", "100.00", "110.00", "1,100.00", "+100.00", "0.00"]

    # Japanese: the words switch, the figures stay.
    await page.select_option("#lang", "ja")
    await page.locator("#change-label", has_text="損益").wait_for()
    assert await page.locator("[data-t=net_worth]").first.text_content() == "純資産"
    await page.screenshot(path=str(artifacts_dir(tmp_path) / "portfolio-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifacts_dir(tmp_path) / "portfolio-phone.png"), full_page=True)
    assert errors == []


async def test_the_leaderboard_page_switches_periods(server: str, browser: Browser, tmp_path: Path) -> None:
    page = await browser.new_page(viewport=PHONE)
    page.set_default_timeout(5_000)
    errors = watch_console(page)
    await page.goto(server + "/")
    await page.click("#nav-links a[href='/leaderboard']")
    await page.wait_for_url(server + "/leaderboard")

    rows = page.locator("#leaderboard tbody tr")
    await rows.nth(1).wait_for()
    all_time = [await rows.nth(i).locator("td").nth(1).text_content() for i in range(2)]
    assert all_time == ["alice", "bob"]  # 10,100.00 and 10,000.00
    assert await rows.first.locator("td").nth(3).text_content() == "+100.00"

    await page.click("#periods [data-period=day]")
    await page.wait_for_url(server + "/leaderboard?period=day")
    await page.locator("#leaderboard tbody tr").first.wait_for()
    assert await rows.first.locator("td").nth(1).text_content() == "alice"
    assert await rows.first.locator("td").nth(4).text_content() == "+1.00%"
    assert await page.locator("#ranking-note").text_content() == (
        "Ranked by trading P&L over the period; deposits and withdrawals are left out."
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifacts_dir(tmp_path) / "leaderboard-phone.png"), full_page=True)
    assert errors == []
