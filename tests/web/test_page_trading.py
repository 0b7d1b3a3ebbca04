"""The trading web page in a real browser (Debian's Chromium via Playwright) against a live server.

The exchange runs in the server's process on the test database, with ACME listed and two trades
made through the API a minute apart, so the chart has candles and the tape has trades.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.schemas import AssetListing
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from tests.web.auth_helpers import SECRET, SecretStr, create_app, exchange_runtime
from tests.web.browser import artifacts_dir, chromium, live_server, require_browser

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, ViewportSize

CASH = 10_000_000
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock, database_url: str) -> AsyncIterator[Runtime]:
    require_browser(database_url)
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
        )
        yield rt


@pytest.fixture
async def server(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[str]:
    """The live server's base URL, after two trades a minute apart (two 1-minute candles)."""
    async with live_server(create_app(runtime)) as base:
        async with httpx.AsyncClient(base_url=base) as maker, httpx.AsyncClient(base_url=base) as taker:
            await _sign_in(runtime, maker, "maker")
            await _sign_in(runtime, taker, "taker")
            async with httpx.AsyncClient(base_url=base) as alice:
                await _sign_in(runtime, alice, "alice")  # the browser's trader, with cash
            for price in (10_050, 10_100):
                sell = {"symbol": "ACME", "side": "sell", "type": "limit", "quantity": 5} | {
                    "price_cents": price
                }
                assert (await maker.post("/api/v1/orders", json=sell)).status_code == 201
                buy = {"symbol": "ACME", "side": "buy", "type": "market", "quantity": 5}
                assert (await taker.post("/api/v1/orders", json=buy)).status_code == 201
                assert isinstance(runtime.exchange, InProcessClient)
                await runtime.exchange.exchange.flush()
                clock.advance(timedelta(minutes=1))
        yield base


async def _sign_in(runtime: Runtime, http: httpx.AsyncClient, name: str) -> None:
    login = await http.post("/api/v1/auth/dev-login", json={"name": name})
    assert login.status_code == 200, login.text
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    account = int((await http.get("/api/v1/me")).json()["account_id"])
    await runtime.exchange.deposit(account, CASH)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


def watch_console(page: Page) -> list[str]:
    """Every console error and uncaught exception of `page`, as text."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


async def test_the_market_list_links_each_symbol_with_its_price_and_sparkline(
    server: str, browser: Browser
) -> None:
    page = await browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(5_000)
    errors = watch_console(page)
    await page.goto(server + "/")
    link = page.locator("#markets a", has_text="ACME")
    await link.wait_for()
    row = page.locator("#markets tbody tr").filter(has=page.locator("a", has_text="ACME"))
    assert (await row.locator("td").nth(1).text_content()) == "101.00"  # the last trade
    assert "+0.50 (+0.50%)" in (await row.locator("td").nth(2).text_content() or "")  # from 100.50 in 24 h
    await row.locator("svg.sparkline polyline").wait_for(state="attached")  # the 24 h sparkline
    await link.click()
    await page.wait_for_url(server + "/markets/ACME")
    assert errors == []


async def test_trading_on_the_symbol_page(
    server: str, browser: Browser, runtime: Runtime, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(5_000)
    errors = watch_console(page)
    await page.goto(server + "/markets/ACME")

    # The chart draws the two 1-minute candles from the API; the tape shows both trades.
    await page.wait_for_function("window.kyriosChart && window.kyriosChart.candles.data().length === 2")
    closes = await page.evaluate("window.kyriosChart.candles.data().map((bar) => bar.close)")
    assert closes == [100.5, 101.0]
    assert await page.locator("#chart canvas").count() > 0
    await page.locator("#tape tbody tr").nth(1).wait_for()
    assert await page.locator("#tape tbody tr").count() == 2
    await page.click("#intervals button[data-interval='1h']")
    await page.wait_for_function("window.kyriosChart.candles.data().length === 1")

    # Sign in (dev login) and rest a buy at 95.00: it shows in the ladder and the open orders.
    await page.fill("#login-name", "alice")
    await page.click("#login-form button[type=submit]")
    await page.locator("#whoami", has_text="alice").wait_for()
    await page.fill("#order-price", "95.01")
    await page.fill("#order-qty", "3")
    await page.click("#order-submit")
    assert "0.05" in (await page.locator("#order-error").text_content() or "")  # refused before sending
    await page.fill("#order-price", "95.00")
    assert (await page.locator("#order-cost").text_content()) == "Estimated cost 285.00"
    await page.click("#order-submit")
    await page.locator("#order-ok", has_text="placed").wait_for()
    bid = page.locator("#bids tr[data-price='9500']")
    await bid.wait_for()
    assert (await bid.locator("td").nth(1).text_content()) == "3"
    mine = page.locator("#open-orders tbody tr[data-order-id]")
    await mine.wait_for()
    assert await mine.locator("td").nth(1).text_content() == "95.00"
    assert (await page.locator("#portfolio-reserved").text_content()) == "285.00"

    await page.screenshot(path=str(artifacts_dir(tmp_path) / "symbol-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifacts_dir(tmp_path) / "symbol-phone.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)

    # Cancel it: it leaves the open orders and the book.
    await mine.locator("button.cancel-order").click()
    await page.locator("#open-orders tbody tr[data-order-id]").wait_for(state="detached")
    await bid.wait_for(state="detached")

    # Filled against another trader's resting sell: the position and its P&L show.
    async with httpx.AsyncClient(base_url=server) as maker:
        await _sign_in(runtime, maker, "maker")
        sell = {"symbol": "ACME", "side": "sell", "type": "limit", "quantity": 2, "price_cents": 10_100}
        assert (await maker.post("/api/v1/orders", json=sell)).status_code == 201
    await page.locator("#asks tr[data-price='10100']").wait_for()
    await page.select_option("#order-type", "market")
    await page.fill("#order-qty", "2")
    assert (await page.locator("#order-cost").text_content()) == "Estimated cost 202.00"  # at the best ask
    await page.click("#order-submit")
    position = page.locator("#positions tbody tr", has_text="ACME")
    await position.wait_for()
    assert [await td.text_content() for td in await position.locator("td").all()] == [
        "ACME",
        "2",
        "101.00",
        "0.00",
    ]
    await page.select_option("#order-type", "limit")

    assert errors == []
    # A server refusal is shown in the error shape's words: more than the cash.
    await page.fill("#order-qty", "200000")
    await page.click("#order-submit")
    await page.locator("#order-error").filter(has_text="available").wait_for()

    # Japanese: the page's words and the server's messages change.
    await page.select_option("#lang", "ja")
    await page.locator("#order-submit", has_text="注文する").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "ja"
    assert (await page.locator("[data-t='order_book']").text_content()) == "板"
    await page.click("#order-submit")
    await page.locator("#order-error").filter(has_text="使える資金").wait_for()  # the refusal, in Japanese

    await page.click("#logout")
    await page.locator("#login-form").wait_for()
    refused = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    assert errors == [refused, refused]  # only the browser's notes of the two refusals asked for


async def test_the_symbol_page_shows_the_margin_of_a_short(
    server: str, browser: Browser, runtime: Runtime
) -> None:
    page = await browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(5_000)
    errors = watch_console(page)
    async with httpx.AsyncClient(base_url=server) as shorty, httpx.AsyncClient(base_url=server) as others:
        login = await shorty.post("/api/v1/auth/dev-login", json={"name": "shorty"})
        shorty.cookies.clear()
        shorty.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        await runtime.exchange.deposit(int((await shorty.get("/api/v1/me")).json()["account_id"]), 40_000)
        await page.goto(server + "/markets/ACME")
        await page.fill("#login-name", "shorty")
        await page.click("#login-form button[type=submit]")
        await page.locator("#whoami", has_text="shorty").wait_for()

        async def trade(seller: httpx.AsyncClient, quantity: int, price_cents: int) -> None:
            order = {"symbol": "ACME", "type": "limit", "quantity": quantity, "price_cents": price_cents}
            assert (await seller.post("/api/v1/orders", json=order | {"side": "sell"})).status_code == 201
            assert (await others.post("/api/v1/orders", json=order | {"side": "buy"})).status_code == 201
            assert isinstance(runtime.exchange, InProcessClient)
            await runtime.exchange.exchange.flush()

        await _sign_in(runtime, others, "taker")
        # Short 2 at 101.00 with 400.00: 150 % of 202.00 is held; equity 400.00 ≥ 303.00.
        await trade(shorty, 2, 10_100)
        badge = page.locator("#portfolio-margin .badge")
        await page.locator("#portfolio-margin .badge[data-status='ok']").wait_for()
        assert (await badge.text_content()) == "Margin OK"
        levels = await page.locator("#portfolio-margin").text_content() or ""
        assert "initial margin 303.00, maintenance 252.50" in levels, levels

        # The price jumps to 180.00: equity 242.00 < 125 % of 360.00, and the page says so at once.
        async with httpx.AsyncClient(base_url=server) as maker:
            await _sign_in(runtime, maker, "maker")
            await trade(maker, 1, 18_000)
        await page.locator("#portfolio-margin .badge[data-status='restricted']").wait_for()
        assert (await badge.text_content()) == "Below maintenance margin"
        assert "reduce your risk" in (await page.locator("#portfolio-margin").text_content() or "")
    # The portfolio page says the same.
    await page.goto(server + "/portfolio")
    await page.locator("#margin-box .badge[data-status='restricted']").wait_for()
    shown = await page.locator("#margin-box").text_content() or ""
    assert "initial margin 540.00, maintenance 450.00" in shown, shown
    assert errors == []
