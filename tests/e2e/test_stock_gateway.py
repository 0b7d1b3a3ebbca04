"""`/stock` through the gateway door: the real bot, the Discord emulator and the exchange in process.

A member trades, lists and cancels orders, reads their portfolio and a price with its chart (the PNG
arrives as the response message's attachment, served by the emulator's CDN), and the guild's market
channel hears about a big move and the member's large trade.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from kyrios.exchange import chart
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import ExchangeAsset
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.features.stock.cog import StockNotices
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.testing.emulator.server import channel_messages_path

MEMBER, OTHER = 42, 43
SYMBOL = "ACME"
ADMINISTRATOR = 1 << 3


@pytest.fixture
async def market(runtime: Runtime) -> AsyncIterator[Runtime]:
    """The exchange running in the test runtime: ACME listed at 100.00, both members funded."""
    lease = ExchangeLease(runtime.db, program="stock gateway tests")
    await lease.acquire()
    await runtime.run_exchange(lease)
    await runtime.exchange.create_asset(
        AssetListing(symbol=SYMBOL, name="Acme Corp", supply=10_000, price_cents=10_000, tick_size_cents=5)
    )
    for discord_id in (MEMBER, OTHER):
        account = await runtime.exchange.trader(discord_id, f"user{discord_id}")
        await runtime.exchange.deposit(account.id, 1_000_000)
    yield runtime


async def offer(runtime: Runtime, quantity: int, price_cents: int) -> None:
    """The issuer rests a sell order."""
    async with runtime.db.read() as session:
        asset = await session.get(ExchangeAsset, SYMBOL)
        assert asset is not None
        issuer = asset.issuer_user_id
    request = OrderRequest(
        symbol=SYMBOL, side=Side.SELL, type=OrderType.LIMIT, quantity=quantity, price_cents=price_cents
    )
    await runtime.exchange.submit_order(issuer, request)


async def run(emu: DiscordEmulator, path: str, options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Send a slash command over the gateway; the message the bot answered with."""
    sent = await emu.run_command(path, options, **kwargs)
    callback = await emu.wait_for_callback(sent["id"])
    assert callback["type"] == 4, callback
    return emu.messages[emu.interaction(sent["id"]).original_message_id or 0]


def words(message: Any) -> str:
    """Everything a reader sees of a message's text."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [
            embed.get("title", ""),
            embed.get("description", ""),
            embed.get("footer", {}).get("text", ""),
        ]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def test_trading_a_chart_and_the_market_channel_through_the_gateway(
    discord_emulator: DiscordEmulator, market: Runtime
) -> None:
    emu = discord_emulator
    emu.add_member(1, OTHER, "other")
    channel = emu.add_channel(1, "market")
    async with running_bot(emu, market) as bot:
        notices = bot.get_cog("stock")
        assert isinstance(notices, StockNotices)
        await asyncio.wait_for(notices.notifier.following.wait(), timeout=10)
        configured = await run(
            emu,
            "stock config",
            {"notify_channel": str(channel.id), "move_percent": "5", "move_window": 15, "trade_alert": "500"},
            permissions=ADMINISTRATOR,
            option_types={"notify_channel": 7},
        )
        assert f"Market notifications go to <#{channel.id}>" in words(configured), words(configured)

        await offer(market, 10, 10_000)
        bought = await run(emu, "stock buy", {"symbol": "acme", "quantity": 10})
        assert "10/10 filled" in words(bought), words(bought)

        resting = await run(emu, "stock buy", {"symbol": SYMBOL, "quantity": 5, "price": "90.00"})
        (order_id,) = re.findall(r"`#(\d+)`", words(resting))
        listed = await run(emu, "stock orders")
        assert f"`#{order_id}` Buy **5** ACME @ 90.00" in words(listed)
        canceled = await run(emu, "stock cancel", {"order_id": int(order_id)})
        assert "canceled" in words(canceled)
        assert "You have no open orders." in words(await run(emu, "stock orders"))

        portfolio = await run(emu, "stock portfolio")
        assert "**ACME** 10 @ 100.00" in words(portfolio), words(portfolio)

        # a big move: another member lifts the issuer's offer 10 % higher (a trade too small to announce)
        await offer(market, 4, 11_000)
        lifted = await run(emu, "stock buy", {"symbol": SYMBOL, "quantity": 4, "price": "110"}, user_id=OTHER)
        assert "4/4 filled" in words(lifted)
        posted = channel_messages_path(channel.id)
        await emu.wait_for_request("POST", posted, nth=2)
        embeds = [r.json["embeds"][0] for r in emu.requests("POST", posted)]
        titles = [n["title"] for n in embeds]
        assert "📈 ACME is up 10.00% in 15 minutes" in titles, embeds
        trade = next(n for n in embeds if n["title"] == "Large trade on ACME")
        assert trade["description"] == f"💼 <@{MEMBER}> bought 10 ACME at 100.00 (1,000.00)"

        price = await run(emu, "stock price", {"symbol": SYMBOL})
        assert "Last: 110.00" in words(price), words(price)
        (attachment,) = price.attachments
        assert attachment["filename"] == "acme-1m.png"
        assert price.embeds[0]["image"]["url"] == "attachment://acme-1m.png"
        async with httpx.AsyncClient() as cdn:
            png = (await cdn.get(attachment["url"])).content
        image = Image.open(io.BytesIO(png))
        assert (image.format, image.size) == ("PNG", (chart.WIDTH, chart.HEIGHT))
        assert len(emu.requests("POST", posted)) == 2  # nothing else was announced
