"""The exchange's refusals read in the reader's language: through a client with a Japanese
translator, and through the web layer's one error table for a request in Japanese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import APIRouter

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import Conflict, Forbidden, InsufficientFunds, InvalidInput, OnCooldown
from kyrios.core.i18n import DoorStyle, Translator
from kyrios.exchange.client import DetachedClient, InProcessClient
from kyrios.exchange.models import OrderStatus
from kyrios.exchange.owner import ExchangeLease, ExchangeUnavailable
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest, OrderView
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from tests.exchange.conftest import PRICE, Market, open_market
from tests.exchange.test_service import buy, state

JAPANESE = Translator("ja")
TOO_DEAR = "注文を受け付けられません: この注文には 100,100.00 必要ですが、使える資金は 100,000.00 です。"


async def test_an_order_refused_for_cash_reads_in_japanese_and_changes_nothing(
    market: Market, runtime: Runtime
) -> None:
    client = InProcessClient(market.exchange)
    before = await state(runtime.db)
    with pytest.raises(InsufficientFunds) as refused:
        await client.submit_order(market.alice, buy(1_001, PRICE))
    assert refused.value.render(JAPANESE) == TOO_DEAR
    assert refused.value.message == (
        "Order rejected: this order needs 100,100.00 but you have 100,000.00 available."
    )
    await market.exchange.flush()
    assert await state(runtime.db) == before  # but for the order's REJECTED row
    [row] = (await client.order_page(market.alice, status=OrderStatus.REJECTED)).items
    assert (row.reject_reason, row.quantity, row.filled_quantity) == ("insufficient_cash", 1_001, 0)


async def test_refused_cancels_and_bad_prices_read_in_japanese(market: Market) -> None:
    client = InProcessClient(market.exchange)
    order = await client.submit_order(market.alice, buy(2, client_order_id="mine"))
    with pytest.raises(Forbidden) as foreign:
        await client.cancel_order(market.bob, order_id=order.id)
    assert foreign.value.render(JAPANESE) == f"注文 {order.id} は取り消せません: 他のユーザーの注文です。"
    await client.cancel_order(market.alice, client_order_id="mine")
    with pytest.raises(Conflict) as again:
        await client.cancel_order(market.alice, client_order_id="mine")
    assert again.value.render(JAPANESE) == (
        "クライアント注文ID「mine」の注文は取り消せません: すでに取り消されています。"
    )
    with pytest.raises(InvalidInput) as off_tick:
        await client.submit_order(market.alice, buy(1, 10_003))
    assert off_tick.value.render(JAPANESE) == (
        "注文を受け付けられません: 価格 100.03 が呼値の単位 0.05 の倍数ではありません。"
    )


async def test_a_refusal_naming_a_time_shows_it_as_the_door_does(
    runtime: Runtime, clock: FrozenClock
) -> None:
    owner = ExchangeLease(runtime.db, program="kyrios up")
    await owner.acquire()
    try:
        with pytest.raises(ExchangeUnavailable) as refused:
            await DetachedClient(runtime.db, clock).deposit(1, 100)  # a process that does not run it
    finally:
        await owner.release()
    since = refused.value.text.params["since"]
    plain = refused.value.render(JAPANESE)
    assert plain.startswith("取引所は `kyrios up`（ホスト ") and JAPANESE.time(since, "f") in plain
    on_discord = refused.value.render(Translator("ja", DoorStyle.DISCORD))
    assert f"<t:{int(since.timestamp())}:f> から）が動かしていて" in on_discord


def exchange_router(client: InProcessClient) -> APIRouter:
    """A stand-in for the coming exchange REST routes: one order and one cancel, as the client answers."""
    router = APIRouter(prefix="/test")

    @router.post("/orders/{user_id}")
    async def submit(user_id: int, request: OrderRequest) -> OrderView:
        return await client.submit_order(user_id, request)

    @router.delete("/orders/{user_id}/{order_id}")
    async def cancel(user_id: int, order_id: int) -> OrderView:
        return await client.cancel_order(user_id, order_id=order_id)

    return router


@pytest.fixture
async def api(runtime: Runtime, market: Market) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime)
    app.include_router(exchange_router(InProcessClient(market.exchange)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as http:
        yield http


async def test_the_web_error_table_answers_a_japanese_request_in_japanese(
    api: httpx.AsyncClient, market: Market
) -> None:
    order = buy(1_001, PRICE).model_dump(mode="json")
    japanese = await api.post(f"/test/orders/{market.alice}", json=order, headers={"Accept-Language": "ja"})
    assert japanese.status_code == 409
    assert japanese.json() == {"error": {"code": "insufficient_funds", "message": TOO_DEAR}}
    english = await api.post(f"/test/orders/{market.alice}", json=order)
    assert english.json()["error"]["message"].startswith("Order rejected: this order needs 100,100.00")
    placed = await api.post(f"/test/orders/{market.alice}", json=buy(1).model_dump(mode="json"))
    foreign = await api.delete(
        f"/test/orders/{market.bob}/{placed.json()['id']}", headers={"Accept-Language": "ja-JP,ja;q=0.9"}
    )
    assert foreign.status_code == 403
    assert (
        foreign.json()["error"]["message"]
        == f"注文 {placed.json()['id']} は取り消せません: 他のユーザーの注文です。"
    )


async def test_too_many_orders_says_when_to_retry_in_japanese(runtime: Runtime, clock: FrozenClock) -> None:
    market = await open_market(runtime, clock, ExchangeRules(orders_per_second=2, order_burst=1))
    try:
        app = create_app(runtime)
        app.include_router(exchange_router(InProcessClient(market.exchange)))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as api:
            order = buy(1, PRICE - 100).model_dump(mode="json")
            assert (await api.post(f"/test/orders/{market.alice}", json=order)).status_code == 200
            clock.advance(timedelta(seconds=0.1))
            refused = await api.post(
                f"/test/orders/{market.alice}", json=order, headers={"Accept-Language": "ja"}
            )
    finally:
        await market.exchange.aclose()
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == {
        "code": OnCooldown.kind,
        "message": "注文が多すぎます: 1秒あたり最大 2 件（一度に最大 1 件）です。"
        "0.40 秒後にもう一度お試しください。",
    }
