"""Market notifications: what a guild's channel is told, and what it is spared on a busy market.

The real exchange publishes its committed trades on the runtime's bus; the notifier follows them
and posts through a REST port to the Discord emulator, where the test reads the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.core.discord_rest import RestDiscordPort
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import ExchangeAsset
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.features.stock.notify import TRADE_BURST, MarketNotifier
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.pytest_fixtures import discord_emulator
from kyrios.testing.emulator.server import channel_messages_path
from tests.helpers import invoke, text_of

__all__ = ["discord_emulator"]

MEMBER, STRANGER = 42, 77
SYMBOL = "ACME"


@pytest.fixture
async def market(runtime: Runtime) -> AsyncIterator[Runtime]:
    """The exchange running: ACME listed at 100.00; the member and a non-member funded."""
    lease = ExchangeLease(runtime.db, program="stock notify tests")
    await lease.acquire()
    await runtime.run_exchange(lease)
    await runtime.exchange.create_asset(
        AssetListing(symbol=SYMBOL, name="Acme Corp", supply=100_000, price_cents=10_000, tick_size_cents=5)
    )
    for discord_id in (MEMBER, STRANGER):
        account = await runtime.exchange.trader(discord_id, f"user{discord_id}")
        await runtime.exchange.deposit(account.id, 100_000_000)
    yield runtime


@pytest.fixture
async def channel(market: Runtime, discord_emulator: DiscordEmulator) -> AsyncIterator[int]:
    """#market in the emulated guild, and a notifier following the exchange and posting there."""
    market_channel = discord_emulator.add_channel(1, "market").id
    port = RestDiscordPort(discord_emulator.token, api_base=discord_emulator.api_base)
    notifier = MarketNotifier(market.db, market.bus, market.clock, lambda: market.exchange, lambda: port)
    task = asyncio.create_task(notifier.run())
    await asyncio.wait_for(notifier.following.wait(), timeout=10)
    try:
        yield market_channel
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await port.aclose()


async def configure(runtime: Runtime, **options: Any) -> str:
    reply = await invoke(runtime, "stock config", admin=True, **options)
    assert not reply.is_error, text_of(reply)
    return text_of(reply)


async def trade(runtime: Runtime, price_cents: int, *, buyer: int = MEMBER, quantity: int = 1) -> None:
    """The issuer offers at `price_cents` and `buyer` lifts it: one execution at that price."""
    async with runtime.db.read() as session:
        asset = await session.get(ExchangeAsset, SYMBOL)
        assert asset is not None
    offer = OrderRequest(
        symbol=SYMBOL, side=Side.SELL, type=OrderType.LIMIT, quantity=quantity, price_cents=price_cents
    )
    await runtime.exchange.submit_order(asset.issuer_user_id, offer)
    account = await runtime.exchange.trader(buyer, f"user{buyer}")
    bid = OrderRequest(
        symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, quantity=quantity, price_cents=price_cents
    )
    await runtime.exchange.submit_order(account.id, bid)


async def posted(emu: DiscordEmulator, channel_id: int, count: int) -> list[str]:
    """The titles of the first `count` notifications (waiting for them), then every one seen."""
    if count:
        await emu.wait_for_request("POST", channel_messages_path(channel_id), nth=count)
    await asyncio.sleep(0.2)  # anything more would have arrived by now
    return [r.json["embeds"][0]["title"] for r in emu.requests("POST", channel_messages_path(channel_id))]


async def test_a_big_move_is_announced_once_per_window(
    market: Runtime, channel: int, discord_emulator: DiscordEmulator, clock: FrozenClock
) -> None:
    shown = await configure(market, notify_channel=str(channel), move_percent="5", move_window=15)
    assert "moves of 5% or more within 15 minutes" in shown and "no trades" in shown
    await trade(market, 10_300)  # +3 %: below the threshold
    await trade(market, 10_600)  # +6 % from the listing price
    await trade(market, 11_300)  # further up, but within the same window: spared
    assert await posted(discord_emulator, channel, 1) == ["📈 ACME is up 6.00% in 15 minutes"]
    clock.advance(timedelta(minutes=16))  # a new window: its first price is the reference
    await trade(market, 11_300)
    await trade(market, 10_000)  # −11.5 %
    titles = await posted(discord_emulator, channel, 2)
    assert titles[1] == "📉 ACME is down 11.50% in 15 minutes", titles


async def test_members_large_trades_are_announced_at_most_a_burst_at_a_time(
    market: Runtime, channel: int, discord_emulator: DiscordEmulator
) -> None:
    await configure(market, notify_channel=str(channel), move_percent="0", trade_alert="500")
    await trade(market, 10_000, quantity=4)  # 400.00: too small
    await trade(market, 10_000, buyer=STRANGER, quantity=10)  # not a member of the guild
    for _ in range(TRADE_BURST + 2):
        await trade(market, 10_000, quantity=5)
    titles = await posted(discord_emulator, channel, TRADE_BURST)
    assert titles == ["Large trade on ACME"] * TRADE_BURST
    descriptions = [
        r.json["embeds"][0]["description"]
        for r in discord_emulator.requests("POST", channel_messages_path(channel))
    ]
    assert descriptions == [f"💼 <@{MEMBER}> bought 5 ACME at 100.00 (500.00)"] * TRADE_BURST


async def test_japanese_guilds_are_told_in_japanese_and_off_means_silence(
    market: Runtime, channel: int, discord_emulator: DiscordEmulator
) -> None:
    assert not (await invoke(market, "settings set", admin=True, locale="ja")).is_error
    await configure(market, notify_channel=str(channel), move_percent="2.5", trade_alert="0")
    await trade(market, 10_300)
    assert await posted(discord_emulator, channel, 1) == ["📈 ACME が 15 分で 3.00% 上昇"]
    shown = await configure(market, notify_off=True)
    assert "マーケット通知はオフです" in shown
    await trade(market, 9_000)
    assert len(await posted(discord_emulator, channel, 0)) == 1


async def test_bad_settings_are_refused_and_change_nothing(market: Runtime) -> None:
    before = await configure(market)
    refused: list[dict[str, Any]] = [
        {"move_percent": "150"},
        {"move_percent": "1.234"},
        {"trade_alert": "-5"},
    ]
    for options in refused:
        reply = await invoke(market, "stock config", admin=True, **options)
        assert reply.is_error, options
    assert await configure(market) == before
    member = await invoke(market, "stock config", move_percent="5")
    assert member.is_error
