"""The symbol page's live data over `/ws` in a real browser (Debian's Chromium via Playwright).

The server is the app under uvicorn with the exchange in its process on the test database; other
traders act through the REST API or the exchange client, and the page must show what they did
from the socket alone: no REST polling while it is connected (the test watches its requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import DomainError
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.main import KyriosApp
from kyrios.web.ws.book import checksum
from tests.web.auth_helpers import SECRET, SecretStr, create_app, exchange_runtime
from tests.web.browser import artifacts_dir, chromium, live_server, require_browser
from tests.web.test_page_trading import CASH, DESKTOP, PHONE, watch_console

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

SYMBOL = "ACME"
PRICE = 10_000
TICK = 5
ALL = 1_000_000


@dataclass
class Live:
    """The live server: base URL, its app (for the WebSocket hub) and signed-in REST traders."""

    base: str
    app: KyriosApp
    runtime: Runtime
    traders: dict[str, tuple[int, httpx.AsyncClient]]

    async def place(self, name: str, side: str, quantity: int, price: int | None = None) -> dict[str, Any]:
        """An order of trader `name` through the REST API."""
        order: dict[str, Any] = {"symbol": SYMBOL, "side": side, "quantity": quantity}
        order |= {"type": "limit", "price_cents": price} if price is not None else {"type": "market"}
        placed = await self.traders[name][1].post("/api/v1/orders", json=order)
        assert placed.status_code == 201, placed.text
        await self.flush()
        return dict(placed.json())

    async def flush(self) -> None:
        assert isinstance(self.runtime.exchange, InProcessClient)
        await self.runtime.exchange.exchange.flush()


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock, database_url: str) -> AsyncIterator[Runtime]:
    require_browser(database_url)
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol=SYMBOL, name="Acme", supply=10_000, price_cents=PRICE, tick_size_cents=TICK)
        )
        await rt.exchange.change_rules(orders_per_second=100_000, order_burst=1_000_000)
        yield rt


@pytest.fixture
async def live(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[Live]:
    """The server after one trade (100.50), with the traders maker, taker, alice and six more."""
    app = create_app(runtime)
    async with live_server(app) as base, contextlib.AsyncExitStack() as stack:
        traders: dict[str, tuple[int, httpx.AsyncClient]] = {}
        for name in ("maker", "taker", "alice", *(f"bot{i}" for i in range(6))):
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
            traders[name] = (await _sign_in(runtime, http, name), http)
        server = Live(base, app, runtime, traders)
        await server.place("maker", "sell", 5, 10_050)
        await server.place("taker", "buy", 5)
        clock.advance(timedelta(seconds=5))
        yield server


async def _sign_in(runtime: Runtime, http: httpx.AsyncClient, name: str) -> int:
    """Dev-login `name` on `http` (bearer token), fund it; its account id."""
    login = await http.post("/api/v1/auth/dev-login", json={"name": name})
    assert login.status_code == 200, login.text
    http.cookies.clear()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    account = int((await http.get("/api/v1/me")).json()["account_id"])
    await runtime.exchange.deposit(account, CASH)
    return account


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def open_page(browser: Browser, base: str) -> tuple[Page, list[str], list[str]]:
    """The symbol page once its socket is live; (page, console errors, REST market-data polls)."""
    page = await browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(10_000)
    errors = watch_console(page)
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/api/v1/depth/" in request.url else None)
    await page.goto(f"{base}/markets/{SYMBOL}")
    await page.locator("#connection[data-state='live']").wait_for()
    await page.wait_for_function("window.kyriosFeed && window.kyriosFeed.stats.snapshots > 0")
    return page, errors, polls


async def shown_book(page: Page) -> dict[str, list[list[Any]]]:
    """The ladder as drawn: each side's rows (price in cents, quantity text), best first."""
    result: dict[str, list[list[Any]]] = await page.evaluate(
        """() => ({
          asks: [...document.querySelectorAll('#asks tr')].reverse()
            .map((row) => [Number(row.dataset.price), row.cells[1].textContent]),
          bids: [...document.querySelectorAll('#bids tr')]
            .map((row) => [Number(row.dataset.price), row.cells[1].textContent]),
        })"""
    )
    return result


async def assert_book_is_the_servers(page: Page, runtime: Runtime) -> None:
    """Wait until the page's book is the server's whole book; then its top 10 per side on screen."""
    depth = await runtime.exchange.depth(SYMBOL, ALL)
    expected = {
        "bids": [[price, quantity] for price, quantity in depth.bids],
        "asks": [[price, quantity] for price, quantity in depth.asks],
    }
    await page.wait_for_function(
        """(expected) => {
          const book = window.kyriosFeed.book;
          const side = (levels) => levels.map((l) => [l.price_cents, l.quantity]);
          return JSON.stringify({ bids: side(book.bestBids()), asks: side(book.bestAsks()) })
            === JSON.stringify(expected);
        }""",
        arg=expected,
    )
    top = {side: [[price, f"{qty:,}"] for price, qty in levels[:10]] for side, levels in expected.items()}
    for _ in range(100):  # the ladder is drawn right after the book changes
        if await shown_book(page) == top:
            break
        await asyncio.sleep(0.05)
    assert await shown_book(page) == top


async def random_orders(live: Live, rng: random.Random, count: int) -> None:
    """`count` random limit and market orders of the bots through the exchange client, ten at a time."""
    bots = [live.traders[f"bot{i}"][0] for i in range(6)]

    async def one() -> None:
        side = rng.choice((Side.BUY, Side.SELL))
        if rng.random() < 0.15:
            order = OrderRequest(symbol=SYMBOL, side=side, type=OrderType.MARKET, quantity=rng.randint(1, 4))
        else:
            price = PRICE + TICK * rng.randint(-15, 15)
            order = OrderRequest(symbol=SYMBOL, side=side, quantity=rng.randint(1, 6), price_cents=price)
        with contextlib.suppress(DomainError):  # refused (e.g. the short limit): part of a random stream
            await live.runtime.exchange.submit_order(rng.choice(bots), order)

    for start in range(0, count, 10):
        await asyncio.gather(*(one() for _ in range(min(10, count - start))))
    await live.flush()


async def test_the_page_shows_other_traders_orders_and_trades_from_the_socket(
    live: Live, browser: Browser, clock: FrozenClock, tmp_path: Path
) -> None:
    page, errors, polls = await open_page(browser, live.base)
    await page.locator("#tape tbody tr").first.wait_for()
    assert await page.locator("#tape tbody tr").count() == 1  # the REST history

    # Another trader rests a sell: the ladder shows it; a buy then trades with it: the tape.
    await live.place("maker", "sell", 7, 10_200)
    ask = page.locator("#asks tr[data-price='10200']")
    await ask.wait_for()
    assert await ask.locator("td").nth(1).text_content() == "7"
    await live.place("taker", "buy", 3)
    await page.locator("#tape tbody tr").nth(1).wait_for()
    assert await page.locator("#tape tbody tr").count() == 2  # the new trade once, not twice
    newest = page.locator("#tape tbody tr").first
    assert await newest.locator("td").nth(0).text_content() == "102.00"
    assert await newest.locator("td").nth(1).text_content() == "3"
    await page.locator("#asks tr[data-price='10200'] td", has_text="4").wait_for()
    await page.locator("#last", has_text="102.00").wait_for()

    # The chart's current bar follows: on 5m it is the live 1-minute bars folded into the period,
    # the same bar the server persists.
    await page.click("#intervals button[data-interval='5m']")
    await page.wait_for_function("window.kyriosChart.candles.data().length > 0")
    clock.advance(timedelta(seconds=70))  # a new minute in the same 5 minutes (START is on the hour)
    await live.place("maker", "sell", 2, 10_300)
    await live.place("taker", "buy", 6)
    rest = await live.traders["alice"][1].get(f"/api/v1/candles/{SYMBOL}?interval=5m")
    persisted = rest.json()["candles"][-1]
    await page.wait_for_function(
        "(close) => window.kyriosChart.candles.data().at(-1).close === close",
        arg=persisted["close_cents"] / 100,
    )
    drawn = await page.evaluate("window.kyriosChart.candles.data().at(-1)")
    assert [drawn["time"], drawn["open"], drawn["high"], drawn["low"], drawn["close"]] == [
        persisted["time"],
        persisted["open_cents"] / 100,
        persisted["high_cents"] / 100,
        persisted["low_cents"] / 100,
        persisted["close_cents"] / 100,
    ]
    assert await page.evaluate("window.kyriosChart.volumes.data().at(-1).value") == persisted["volume"]

    # Signed in: alice's resting bid leaves her open orders when a seller fills it (the user
    # channel), and her position's P&L moves with other traders' prices (no account read between).
    await page.fill("#login-name", "alice")
    await page.click("#login-form button[type=submit]")
    await page.locator("#whoami", has_text="alice").wait_for()
    await page.locator("#connection[data-state='live']").wait_for()
    await page.fill("#order-price", "99.00")
    await page.fill("#order-qty", "2")
    await page.click("#order-submit")
    await page.locator("#open-orders tbody tr[data-order-id]").wait_for()
    await live.place("bot0", "sell", 2, 9_900)
    await page.locator("#open-orders tbody tr[data-order-id]").wait_for(state="detached")
    position = page.locator("#positions tbody tr", has_text=SYMBOL)
    await position.wait_for()
    cells = [await td.text_content() for td in await position.locator("td").all()]
    assert cells == [SYMBOL, "2", "99.00", "0.00"]
    await asyncio.sleep(0.5)  # the account reads the fill's frames asked for are over
    accounts: list[str] = []
    page.on("request", lambda request: accounts.append(request.url) if "/portfolio" in request.url else None)
    await live.place("bot1", "sell", 1, 10_000)
    await live.place("bot2", "buy", 1)  # last price 100.00: alice's 2 units are 2.00 up
    await position.locator("td", has_text="2.00").wait_for()
    assert accounts == []

    await page.screenshot(path=str(artifacts_dir(tmp_path) / "symbol-live-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(artifacts_dir(tmp_path) / "symbol-live-phone.png"), full_page=True)

    # Japanese: the connection indicator too.
    await page.select_option("#lang", "ja")
    await page.locator("#connection", has_text="リアルタイム").wait_for()
    assert polls == []  # connected all along: no REST polling
    assert errors == []


async def test_the_book_on_the_page_is_the_servers_after_a_random_order_stream(
    live: Live, browser: Browser
) -> None:
    page, errors, polls = await open_page(browser, live.base)
    rng = random.Random(11)
    for _ in range(4):
        await random_orders(live, rng, 60)
        await assert_book_is_the_servers(page, live.runtime)
    stats = await page.evaluate("window.kyriosFeed.stats")
    assert (stats["gaps"], stats["mismatches"], stats["snapshots"]) == (0, 0, 1)

    # A copy that went wrong (as after a lost frame) is caught by the next delta's checksum, or
    # by its seq, and the page starts again from a fresh snapshot.
    await page.evaluate("window.kyriosFeed.book.bids.set(1_000_000, 1)")  # a best bid no delta touches
    await random_orders(live, rng, 20)
    await assert_book_is_the_servers(page, live.runtime)
    await page.evaluate("window.kyriosFeed.book.seq -= 1")
    await random_orders(live, rng, 20)
    await assert_book_is_the_servers(page, live.runtime)
    stats = await page.evaluate("window.kyriosFeed.stats")
    assert (stats["mismatches"], stats["gaps"], stats["snapshots"]) == (1, 1, 3)
    assert polls == []
    assert errors == []


async def test_the_page_reconnects_and_resynchronises_after_the_server_drops_it(
    live: Live, browser: Browser
) -> None:
    page, errors, polls = await open_page(browser, live.base)
    rng = random.Random(3)
    await random_orders(live, rng, 40)
    await assert_book_is_the_servers(page, live.runtime)

    # The hub drops the page's connection the way it drops a slow consumer (close code 4008).
    hub = live.app.state.ws_hub
    assert len(hub.clients) == 1
    for client in tuple(hub.clients):
        client.dropped.set()
    await page.locator("#connection[data-state='reconnecting']").wait_for()
    await random_orders(live, rng, 40)  # while the page is away
    await page.locator("#connection[data-state='live']").wait_for()
    await assert_book_is_the_servers(page, live.runtime)
    await random_orders(live, rng, 40)  # and the new connection goes on with deltas
    await assert_book_is_the_servers(page, live.runtime)
    stats = await page.evaluate("window.kyriosFeed.stats")
    assert (stats["opens"], stats["snapshots"], stats["gaps"], stats["mismatches"]) == (2, 2, 0, 0)
    assert hub.dropped == 1 and len(hub.clients) == 1
    await page.locator("#connection", has_text="Live").wait_for()
    assert polls == []
    assert errors == []


async def test_the_page_polls_rest_while_the_socket_cannot_connect(live: Live, browser: Browser) -> None:
    page = await browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(10_000)
    await page.add_init_script(
        "window.WebSocket = class extends WebSocket { constructor() { super('ws://127.0.0.1:9/ws'); } }"
    )  # every connection attempt goes to a closed port
    await page.goto(f"{live.base}/markets/{SYMBOL}")
    await page.locator("#connection[data-state='polling']").wait_for()
    await live.place("maker", "sell", 4, 10_400)
    await page.locator("#asks tr[data-price='10400']").wait_for()
    await page.select_option("#lang", "ja")
    await page.locator("#connection", has_text="オフライン").wait_for()


async def test_a_handler_that_throws_does_not_stop_the_feed(live: Live, browser: Browser) -> None:
    page, errors, _ = await open_page(browser, live.base)
    await page.evaluate(
        """async () => {
          const { follow } = await import('/static/js/feed.js');
          window.calls = 0;
          const trades = () => { window.calls += 1; throw new Error('a broken handler'); };
          window.broken = follow('ACME', { trades });
        }"""
    )
    await page.wait_for_function("window.broken.stats.snapshots === 1")  # subscribed
    await live.place("maker", "sell", 2, 10_100)
    await live.place("taker", "buy", 1)
    await page.wait_for_function("window.calls === 1")
    await live.place("taker", "buy", 1)
    await page.wait_for_function("window.calls === 2")  # the feed went on after the handler threw
    await page.locator("#tape tbody tr").nth(2).wait_for()  # and so did the page's own
    assert len(errors) == 2 and all("a broken handler" in error for error in errors), errors


async def test_the_pages_checksum_is_the_servers(live: Live, browser: Browser) -> None:
    page, errors, _ = await open_page(browser, live.base)
    rng = random.Random(9)
    texts = ["", "a", "123457", "".join(str(rng.randint(0, 9)) for _ in range(400))]
    crcs = await page.evaluate(
        """async (texts) => {
          const { crc32 } = await import('/static/js/book.js');
          return texts.map(crc32);
        }""",
        texts,
    )
    assert crcs == [zlib.crc32(text.encode()) for text in texts]
    bid_levels = {PRICE - TICK * rng.randint(1, 40): rng.randint(1, 5000) for _ in range(25)}
    ask_levels = {PRICE + TICK * rng.randint(1, 40): rng.randint(1, 5000) for _ in range(25)}
    bids, asks = sorted(bid_levels.items(), reverse=True), sorted(ask_levels.items())
    ours = await page.evaluate(
        """async ([bids, asks]) => {
          const { LocalBook } = await import('/static/js/book.js');
          const book = new LocalBook();
          book.reset({ seq: 1, bids, asks });
          return book.checksum();
        }""",
        [bids, asks],
    )
    assert ours == checksum(bids, asks)
    assert errors == []
