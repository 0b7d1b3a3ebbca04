"""The Lambda door answers signed interactions from an API Gateway (HTTP API v2) event."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from kyrios.exchange import chart
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import ExchangeAsset
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.emulator.interactions import http_answer
from kyrios.testing.interactions import InteractionSigner, command_payload
from kyrios.web import lambda_handler


def api_gateway_event(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /interactions",
        "rawPath": "/interactions",
        "rawQueryString": "",
        "headers": {key.lower(): value for key, value in headers.items()},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/interactions",
                "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4",
            },
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def test_lambda_handler_answers_ping_and_commands(
    runtime: Runtime, database_url: str, signer: InteractionSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYRIOS_DATABASE_URL", database_url)
    monkeypatch.setenv("KYRIOS_DISCORD_PUBLIC_KEY", signer.public_key_hex)
    monkeypatch.setattr(lambda_handler, "_adapter", None)
    body, headers = signer.sign({"type": 1})
    response = lambda_handler.handler(api_gateway_event(body, headers), None)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"type": 1}

    body, headers = signer.sign(command_payload("profile", user_id=7))
    response = lambda_handler.handler(api_gateway_event(body, headers), None)
    reply = json.loads(response["body"])
    assert reply["type"] == 4 and "profile" in reply["data"]["embeds"][0]["title"]

    forged = api_gateway_event(body, {**headers, "X-Signature-Ed25519": "00" * 64})
    assert lambda_handler.handler(forged, None)["statusCode"] == 401
    assert lambda_handler._adapter is not None
    app = lambda_handler._adapter.app
    assert isinstance(app, FastAPI)
    asyncio.run(app.state.runtime.aclose())


async def _trade_once(settings: Settings) -> None:
    """Run the exchange briefly on real time: list ACME and trade it once, so it has a bar."""
    runtime = build_runtime(settings)
    try:
        lease = ExchangeLease(runtime.db, program="lambda chart test")
        await lease.acquire()
        await runtime.run_exchange(lease)
        exchange = runtime.exchange
        await exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme Corp", supply=100, price_cents=10_000, tick_size_cents=5)
        )
        async with runtime.db.read() as session:
            asset = await session.get(ExchangeAsset, "ACME")
            assert asset is not None
        buyer = await exchange.trader(42, "tester")
        await exchange.deposit(buyer.id, 100_000)
        for user_id, side in ((asset.issuer_user_id, Side.SELL), (buyer.id, Side.BUY)):
            order = OrderRequest(
                symbol="ACME", side=side, type=OrderType.LIMIT, quantity=2, price_cents=10_000
            )
            await exchange.submit_order(user_id, order)
    finally:
        await runtime.aclose()


def test_lambda_answers_a_price_with_its_chart_as_a_base64_multipart_body(
    runtime: Runtime, settings: Settings, signer: InteractionSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.new_event_loop()  # Mangum runs the app on the current loop: one this test closes
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_trade_once(settings))
        monkeypatch.setenv("KYRIOS_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("KYRIOS_DISCORD_PUBLIC_KEY", signer.public_key_hex)
        monkeypatch.setattr(lambda_handler, "_adapter", None)
        body, headers = signer.sign(command_payload("stock price", {"symbol": "ACME"}))
        response = lambda_handler.handler(api_gateway_event(body, headers), None)
        assert lambda_handler._adapter is not None
        app = lambda_handler._adapter.app
        assert isinstance(app, FastAPI)
        loop.run_until_complete(app.state.runtime.aclose())
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
    assert response["statusCode"] == 200 and response["isBase64Encoded"]
    answer = httpx.Response(200, headers=response["headers"], content=base64.b64decode(response["body"]))
    data, files = http_answer(answer)
    assert data["type"] == 4 and data["data"]["attachments"][0]["filename"] == "acme-1m.png"
    ((filename, png, kind),) = files
    assert (filename, kind) == ("acme-1m.png", "image/png")
    assert Image.open(io.BytesIO(png)).size == (chart.WIDTH, chart.HEIGHT)
