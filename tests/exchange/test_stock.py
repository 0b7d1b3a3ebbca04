"""`/stock` through the real registry (and the signed HTTP door) with the exchange running in-process."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.exchange import chart
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import AssetStatus, ExchangeAsset, ExchangeCashLedger, ExchangeOrder
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing, OrderRequest, PortfolioView
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.reply import Reply
from kyrios.testing.emulator.interactions import http_answer
from kyrios.testing.interactions import InteractionSigner, command_payload
from kyrios.web.main import create_app
from tests.helpers import count_rows, invoke, text_of

ALICE, BOB = 42, 43
START_CASH = 1_000_000  # 10,000.00
SYMBOL = "ACME"


@pytest.fixture
async def market(runtime: Runtime) -> AsyncIterator[Runtime]:
    """The runtime running the exchange, ACME listed at 100.00 (tick 0.05); alice and bob have
    accounts with 10,000.00 each."""
    lease = ExchangeLease(runtime.db, program="stock tests")
    await lease.acquire()
    await runtime.run_exchange(lease)
    client = runtime.exchange
    await client.create_asset(
        AssetListing(symbol=SYMBOL, name="Acme Corp", supply=10_000, price_cents=10_000, tick_size_cents=5)
    )
    for discord_id in (ALICE, BOB):
        account = await client.trader(discord_id, f"user{discord_id}")
        await client.deposit(account.id, START_CASH)
    yield runtime


async def issuer_id(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        asset = await session.get(ExchangeAsset, SYMBOL)
        assert asset is not None
        return asset.issuer_user_id


async def portfolio(runtime: Runtime, discord_id: int) -> PortfolioView:
    account = await runtime.exchange.trader(discord_id, f"user{discord_id}")
    return await runtime.exchange.portfolio(account.id)


async def stock(runtime: Runtime, command: str, *, user_id: int = ALICE, **options: Any) -> Reply:
    return await invoke(runtime, f"stock {command}", user_id=user_id, **options)


async def offer_from_issuer(runtime: Runtime, quantity: int = 500, price_cents: int = 10_000) -> None:
    request = OrderRequest(
        symbol=SYMBOL, side=Side.SELL, type=OrderType.LIMIT, quantity=quantity, price_cents=price_cents
    )
    await runtime.exchange.submit_order(await issuer_id(runtime), request)


async def test_buy_and_sell_cross_between_two_discord_users(market: Runtime) -> None:
    await offer_from_issuer(market, quantity=20)
    bought = await stock(market, "buy", user_id=BOB, symbol="acme", quantity=20)  # market order
    assert not bought.is_error, text_of(bought)
    assert "20/20 filled" in text_of(bought)

    resting = await stock(market, "buy", symbol=SYMBOL, quantity=10, price="101.00")
    assert "0/10 filled · open" in text_of(resting)
    sold = await stock(market, "sell", user_id=BOB, symbol=SYMBOL, quantity=10, price="101")
    assert "10/10 filled · filled" in text_of(sold), text_of(sold)

    alice, bob = await portfolio(market, ALICE), await portfolio(market, BOB)
    assert alice.cash_cents == START_CASH - 10 * 10_100 and alice.reserved_cents == 0
    assert [(p.symbol, p.quantity, p.average_price_cents) for p in alice.positions] == [(SYMBOL, 10, 10_100)]
    assert bob.cash_cents == START_CASH - 20 * 10_000 + 10 * 10_100
    assert [(p.symbol, p.quantity, p.realized_pnl_cents) for p in bob.positions] == [(SYMBOL, 10, 1_000)]

    shown = text_of(await stock(market, "portfolio"))
    assert "8,990.00" in shown  # free cash
    assert "**ACME** 10 @ 101.00 · last 101.00 · value 1,010.00" in shown
    bob_shown = text_of(await stock(market, "portfolio", user_id=BOB))
    assert "realized +10.00" in bob_shown

    await offer_from_issuer(market, quantity=50, price_cents=10_500)
    price = text_of(await stock(market, "price", symbol=SYMBOL))
    assert "Last: 101.00" in price
    assert "Best ask: 105.00 × 50" in price
    assert "+1.00 (+1.00%)" in price  # first trade of the day at 100.00

    board = text_of(await stock(market, "leaderboard"))
    # bob: 9,010.00 + 10 × 101.00 = 10,020.00 · alice: 8,990.00 + 10 × 101.00 = 10,000.00
    assert f"**1.** <@{BOB}> · 10,020.00" in board and f"**2.** <@{ALICE}> · 10,000.00" in board, board


async def test_leaderboard_over_a_period_ranks_trading_pnl_without_deposits(
    market: Runtime, clock: FrozenClock
) -> None:
    assert market.recorder is not None
    await market.recorder.record()  # both at 10,000.00
    clock.advance(timedelta(days=2))
    await offer_from_issuer(market, quantity=10, price_cents=10_000)
    await offer_from_issuer(market, quantity=10, price_cents=10_400)
    assert not (await stock(market, "buy", user_id=BOB, symbol=SYMBOL, quantity=10, price="100")).is_error
    assert not (await stock(market, "buy", symbol=SYMBOL, quantity=10, price="104")).is_error
    alice = await market.exchange.trader(ALICE, f"user{ALICE}")
    await market.exchange.deposit(alice.id, 500_000)  # more cash is no gain
    await market.recorder.record()

    day = text_of(await stock(market, "leaderboard", period="day"))
    assert "P&L over the last 24 hours" in day
    # bob: 10 bought at 100.00, now 104.00 → +40.00 of 10,000.00; alice: bought at the last price
    assert f"**1.** <@{BOB}> · +40.00 (+0.40%) · net worth 10,040.00" in day, day
    assert f"**2.** <@{ALICE}> · 0.00 (+0.00%) · net worth 15,000.00" in day, day
    everything = text_of(await stock(market, "leaderboard", period="all"))
    assert f"**1.** <@{ALICE}> · 15,000.00" in everything and f"**2.** <@{BOB}> · 10,040.00" in everything
    japanese = await market.registry.dispatch(
        Invocation(
            actor=Actor(id=ALICE, name="アリス"),
            guild_id=1,
            command="stock leaderboard",
            options={"period": "week"},
            locale="ja",
        )
    )
    assert "7日間" in text_of(japanese) and f"<@{BOB}> · +40.00 (+0.40%)" in text_of(japanese)
    refused = await stock(market, "leaderboard", period="month")
    assert refused.is_error and "day, week, all" in text_of(refused), text_of(refused)


async def test_orders_and_cancel(market: Runtime) -> None:
    placed = await stock(market, "buy", symbol=SYMBOL, quantity=5, price="90.00")
    async with market.db.read() as session:
        order_id = (await session.scalars(select(ExchangeOrder.id).order_by(ExchangeOrder.id.desc()))).first()
    assert order_id is not None and f"#{order_id}" in text_of(placed)
    assert (await portfolio(market, ALICE)).reserved_cents == 45_000
    listed = await stock(market, "orders")
    assert listed.ephemeral and f"`#{order_id}` Buy **5** ACME @ 90.00" in text_of(listed)

    refused = await stock(market, "cancel", user_id=BOB, order_id=order_id)
    assert refused.is_error
    assert (await portfolio(market, ALICE)).reserved_cents == 45_000

    canceled = await stock(market, "cancel", order_id=order_id)
    assert "canceled" in text_of(canceled)
    after = await portfolio(market, ALICE)
    assert (after.cash_cents, after.reserved_cents) == (START_CASH, 0)
    assert "You have no open orders." in text_of(await stock(market, "orders"))


async def test_japanese_replies(market: Runtime) -> None:
    inv = Invocation(
        actor=Actor(id=ALICE, name="アリス"),
        guild_id=1,
        command="stock portfolio",
        source=Source.CONSOLE,
        locale="ja",
    )
    reply = await market.registry.dispatch(inv)
    assert "ポートフォリオ" in text_of(reply)
    refused = await market.registry.dispatch(
        Invocation(
            actor=inv.actor, guild_id=1, command="stock price", options={"symbol": "NOPE"}, locale="ja"
        )
    )
    assert refused.is_error and "NOPE" in text_of(refused)
    assert "There is" not in text_of(refused)


async def test_refusals_change_nothing(market: Runtime) -> None:
    before_orders = await count_rows(market, ExchangeOrder)
    before_ledger = await count_rows(market, ExchangeCashLedger)
    unknown = await stock(market, "buy", symbol="NOPE", quantity=1, price="1")
    assert unknown.is_error and "NOPE" in text_of(unknown)
    bad_price = await stock(market, "buy", symbol=SYMBOL, quantity=1, price="1.234")
    assert bad_price.is_error and "at most two decimals" in text_of(bad_price)
    bad_quantity = await stock(market, "buy", symbol=SYMBOL, quantity=0, price="100")
    assert bad_quantity.is_error
    too_dear = await stock(market, "buy", symbol=SYMBOL, quantity=200, price="100")
    assert too_dear.is_error and "available" in text_of(too_dear), text_of(too_dear)
    await market.exchange.set_status(SYMBOL, AssetStatus.HALTED)
    halted = await stock(market, "buy", symbol=SYMBOL, quantity=1, price="100")
    assert halted.is_error and "halted" in text_of(halted), text_of(halted)
    after = await portfolio(market, ALICE)
    assert (after.cash_cents, after.reserved_cents, after.positions) == (START_CASH, 0, [])
    assert await count_rows(market, ExchangeCashLedger) == before_ledger
    # the refused orders are recorded as REJECTED with their reasons; nothing else was written
    async with market.db.read() as session:
        rows = (await session.execute(select(ExchangeOrder.status, ExchangeOrder.reject_reason))).all()
    assert len(rows) - before_orders == 2
    assert sorted(rows) == [("REJECTED", "book_halted"), ("REJECTED", "insufficient_cash")]


async def test_without_a_running_exchange_writes_are_refused_with_the_clients_message(
    runtime: Runtime,
) -> None:
    reply = await stock(runtime, "buy", symbol=SYMBOL, quantity=1, price="100")
    assert reply.is_error and "No process runs the exchange" in text_of(reply)
    assert await count_rows(runtime, ExchangeOrder) == 0


async def test_stock_buy_through_the_signed_http_door(
    market: Runtime, signer: InteractionSigner, clock: FrozenClock
) -> None:
    await offer_from_issuer(market)
    app = create_app(market)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as http:
        body, headers = signer.sign(command_payload("stock buy", {"symbol": SYMBOL, "quantity": 3}))
        response = await http.post("/interactions", content=body, headers=headers)
    assert response.status_code == 200
    data = response.json()
    assert data["type"] == 4, data
    assert "3/3 filled" in data["data"]["embeds"][0]["description"]
    alice = await portfolio(market, ALICE)
    assert alice.cash_cents == START_CASH - 3 * 10_000
    assert [(p.symbol, p.quantity) for p in alice.positions] == [(SYMBOL, 3)]


async def trade_at(runtime: Runtime, price_cents: int, quantity: int = 1) -> None:
    """The issuer offers at `price_cents` and bob takes it: one trade, one persisted bar."""
    await offer_from_issuer(runtime, quantity=quantity, price_cents=price_cents)
    bought = await stock(runtime, "buy", user_id=BOB, symbol=SYMBOL, quantity=quantity)
    assert not bought.is_error, text_of(bought)


def chart_of(reply: Reply) -> Image.Image:
    """The reply's PNG chart, decoded; its embed shows it as the image."""
    (upload,) = reply.files
    assert upload.content_type == "image/png"
    assert reply.embeds[0].image_url == f"attachment://{upload.filename}"
    return Image.open(io.BytesIO(upload.data))


async def test_price_attaches_a_chart_of_the_recent_bars(market: Runtime, clock: FrozenClock) -> None:
    none_yet = await stock(market, "price", symbol=SYMBOL)
    assert none_yet.files == [] and "No chart yet" in text_of(none_yet)
    for price_cents in (10_000, 10_500, 9_800):
        await trade_at(market, price_cents)
        clock.advance(timedelta(minutes=2))
    reply = await stock(market, "price", symbol=SYMBOL)
    image = chart_of(reply)
    assert (image.format, image.size) == ("PNG", (chart.WIDTH, chart.HEIGHT))
    assert reply.files[0].filename == "acme-1m.png"
    assert "the last 60 1-minute bars" in text_of(reply)
    # a falling last price: the headline and the last-price marker are drawn in the "down" colour
    assert image.convert("RGB").getpixel((chart.WIDTH - 4, 20)) in (chart.DOWN, chart.BACKGROUND)
    colours = {colour for _, colour in image.convert("RGB").getcolors(100_000) or ()}
    assert {chart.UP, chart.DOWN} <= colours

    later = await market.registry.dispatch(
        Invocation(
            actor=Actor(id=ALICE, name="アリス"),
            guild_id=1,
            command="stock price",
            options={"symbol": SYMBOL},
            locale="ja",
        )
    )
    assert chart_of(later).size == (chart.WIDTH, chart.HEIGHT)
    assert "1分足" in text_of(later), text_of(later)


async def test_a_quiet_symbol_is_charted_in_a_coarser_interval(market: Runtime, clock: FrozenClock) -> None:
    await trade_at(market, 10_000)
    clock.advance(timedelta(hours=3))
    reply = await stock(market, "price", symbol=SYMBOL)
    assert reply.files[0].filename == "acme-5m.png"
    assert "5-minute bars" in text_of(reply)


async def test_price_chart_through_the_signed_http_door_is_a_multipart_answer(
    market: Runtime, signer: InteractionSigner
) -> None:
    await trade_at(market, 10_000)
    app = create_app(market)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as http:
        body, headers = signer.sign(command_payload("stock price", {"symbol": SYMBOL}))
        response = await http.post("/interactions", content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/form-data; boundary=")
    answer, files = http_answer(response)
    assert answer["type"] == 4
    data = answer["data"]
    assert data["attachments"] == [
        {"id": 0, "filename": "acme-1m.png", "description": files_description(data)}
    ]
    assert data["embeds"][0]["image"] == {"url": "attachment://acme-1m.png"}
    ((filename, png, kind),) = files
    assert (filename, kind) == ("acme-1m.png", "image/png")
    assert Image.open(io.BytesIO(png)).size == (chart.WIDTH, chart.HEIGHT)


def files_description(data: dict[str, Any]) -> str:
    """The chart's alt text: the embed footer's last line says the same."""
    footer: str = data["embeds"][0]["footer"]["text"]
    return footer.splitlines()[-1]


async def test_the_portfolio_shows_the_margin_of_a_short(market: Runtime) -> None:
    assert "Margin" not in text_of(await stock(market, "portfolio"))  # no short, no margin line
    sold = await stock(market, "sell", symbol=SYMBOL, quantity=10, price="100")
    assert not sold.is_error, text_of(sold)
    bought = await stock(market, "buy", user_id=BOB, symbol=SYMBOL, quantity=10, price="100")
    assert "10/10 filled" in text_of(bought)
    shown = text_of(await stock(market, "portfolio"))
    # 10,000.00 + 1,000.00 proceeds − 1,000.00 owed: equity 10,000.00 against 150 % of 1,000.00
    assert "OK: equity 10,000.00, initial margin 1,500.00" in shown, shown
    in_japanese = text_of(
        await market.registry.dispatch(
            Invocation(
                actor=Actor(id=ALICE, name="アリス"), guild_id=1, command="stock portfolio", locale="ja"
            )
        )
    )
    assert "正常: 純資産 10,000.00、当初証拠金 1,500.00" in in_japanese, in_japanese
