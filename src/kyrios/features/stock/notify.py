"""Market notifications: big price moves and members' large trades, posted to a guild's channel.

The bot process runs one `MarketNotifier` (started by this slice's cog). It follows the committed
trades on the runtime's bus, the `trades:<SYMBOL>` channels the sequencer publishes after each batch
and the WebSocket follows too, and posts through the `DiscordPort` in the guild's language.

Rules, per guild (`StockSettings`, set with `/stock config`):
- a big move: the last price is `move_alert_bp` or more away from the first price seen in the last
  `move_window_minutes` (or since the symbol was last announced there, if later). Announced at most
  once per window per symbol and guild, so a busy market cannot flood a channel;
- a large trade: one execution worth `trade_alert_cents` or more with a member of the guild on
  either side (the trader keyed by their Discord id). At most `TRADE_BURST` such posts per guild,
  refilled one every `TRADE_REFILL_SECONDS`; the rest are dropped, not queued.

Prices are the trades' own (integer cents) and times the trades' timestamps (the exchange's clock),
so a replay of the same trades announces the same things.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kyrios.core.bus import EventBus, Subscription
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.features import Feature
from kyrios.core.i18n import N_, Translator
from kyrios.core.ports import DiscordError, DiscordNotFound, DiscordPort
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.stock.models import StockSettings
from kyrios.slash.reply import Colour, Embed, Reply

if TYPE_CHECKING:
    from kyrios.exchange.client import ExchangeClient

log = logging.getLogger(__name__)

TRADE_BURST = 3
TRADE_REFILL_SECONDS = 120.0
SETTINGS_SECONDS = 5.0
"""How long the guilds' notification settings are reused before being read again."""
SYMBOLS_SECONDS = 30.0
"""How often the listed symbols are read again (a new listing is followed from then on)."""
MEMBER_SECONDS = 600.0
"""How long a member check (is this trader in that guild?) is remembered."""
MAX_WINDOW_MS = 24 * 3600 * 1000

MOVE_UP = N_("📈 {symbol} is up {percent}% in {minutes} minutes")
MOVE_DOWN = N_("📉 {symbol} is down {percent}% in {minutes} minutes")
MOVE_TEXT = N_("From {before:cents} to {after:cents}.")
BOUGHT = N_("💼 <@{discord_id}> bought {quantity} {symbol} at {price:cents} ({value:cents})")
SOLD = N_("💼 <@{discord_id}> sold {quantity} {symbol} at {price:cents} ({value:cents})")
TRADE_TITLE = N_("Large trade on {symbol}")
SIDE_LINES = {"buy": BOUGHT, "sell": SOLD}


@dataclass(frozen=True, slots=True)
class GuildRules:
    """One guild's notification settings."""

    guild_id: int
    channel_id: int
    move_bp: int
    window_ms: int
    trade_cents: int


@dataclass
class TokenBucket:
    """`capacity` posts at once, one more every `refill` seconds."""

    capacity: float
    refill: float
    tokens: float = 0.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        """Spend a token if there is one."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) / self.refill)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class SymbolTape:
    """Recent (ts ms, price) samples of one symbol, oldest first (one per price change or second)."""

    samples: deque[tuple[int, int]] = field(default_factory=deque)

    def add(self, ts: int, price: int) -> None:
        """Record a trade, dropping what no window can reach any more."""
        if self.samples and self.samples[-1][1] == price and ts - self.samples[-1][0] < 1000:
            return
        self.samples.append((ts, price))
        while self.samples and self.samples[0][0] < ts - MAX_WINDOW_MS:
            self.samples.popleft()

    def first_since(self, since: int) -> int | None:
        """The first price at or after `since`."""
        return next((price for ts, price in self.samples if ts >= since), None)


def move_bp(before: int, after: int) -> int:
    """The move from `before` to `after` in basis points, rounded towards zero."""
    return int((after - before) * 10_000 / before) if before else 0


class MarketNotifier:
    """Follows the trades on the bus and posts the guilds' notifications (see the module's doc)."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        exchange: Callable[[], ExchangeClient],
        port: Callable[[], DiscordPort | None],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.exchange = exchange
        self.port = port
        self.monotonic = monotonic
        self.tapes: dict[str, SymbolTape] = {}
        self.last_seq: dict[str, int] = {}
        self.announced: dict[tuple[int, str], int] = {}  # (guild, symbol) -> ts of the last move post
        self.buckets: dict[int, TokenBucket] = {}
        self.members: dict[tuple[int, int], tuple[bool, float]] = {}
        self._rules: list[GuildRules] = []
        self._rules_at = -SETTINGS_SECONDS
        self.posted = 0
        self.following = asyncio.Event()
        """Set once the listed symbols' trades are followed (trades committed later are seen)."""

    async def run(self) -> None:
        """Follow every listed symbol until cancelled; a failure on one trade is logged and skipped."""
        subscription: Subscription | None = None
        try:
            while True:
                symbols = await self._symbols()
                if subscription is None or set(subscription.channels) != {f"trades:{s}" for s in symbols}:
                    fresh = self.bus.subscribe(*(f"trades:{s}" for s in symbols))
                    if subscription is not None:
                        subscription.close()
                    subscription = fresh
                    self.following.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SYMBOLS_SECONDS):
                        while True:
                            _, message = await subscription.get()
                            await self._safely(message)
        finally:
            if subscription is not None:
                subscription.close()

    async def _symbols(self) -> list[str]:
        try:
            listed = await self.exchange().assets()
        except Exception:
            log.exception("could not read the listed symbols")
            return list(self.tapes)
        for asset in listed:
            if asset.symbol not in self.tapes:  # the price before any trade we see
                self.tapes[asset.symbol] = SymbolTape()
                self.tapes[asset.symbol].add(int(self.clock.now().timestamp() * 1000), asset.last_price_cents)
        return sorted(self.tapes)

    async def _safely(self, message: Mapping[str, Any]) -> None:
        try:
            await self.on_trade(message)
        except Exception:
            log.exception("market notification failed for %s", dict(message))

    async def on_trade(self, message: Mapping[str, Any]) -> None:
        """Fold one trade into its symbol's tape and post what it makes announceable."""
        if message.get("type") != "trade":
            return
        symbol, seq = str(message["symbol"]), int(message["seq"])
        if seq <= self.last_seq.get(symbol, -1):
            return  # seen already (two subscriptions overlap while the symbol list changes)
        self.last_seq[symbol] = seq
        ts, price, quantity = int(message["ts"]), int(message["price_cents"]), int(message["quantity"])
        tape = self.tapes.setdefault(symbol, SymbolTape())
        tape.add(ts, price)
        rules = await self.rules()
        for guild in rules:
            if guild.move_bp:
                await self._check_move(guild, symbol, tape, ts, price)
        value = price * quantity
        traders = [g for g in rules if g.trade_cents and value >= g.trade_cents]
        if traders:
            await self._announce_trade(traders, symbol, seq, price, quantity)

    async def rules(self) -> list[GuildRules]:
        """The guilds with a notification channel and the stock feature on (read every few seconds)."""
        now = self.monotonic()
        if now - self._rules_at < SETTINGS_SECONDS:
            return self._rules
        async with self.db.read() as session:
            rows = list(
                await session.scalars(
                    select(StockSettings).where(StockSettings.notify_channel_id.is_not(None))
                )
            )
            enabled = [
                row
                for row in rows
                if await guild_settings.is_feature_enabled(session, row.guild_id, Feature.STOCK)
            ]
        self._rules = [
            GuildRules(
                row.guild_id,
                int(row.notify_channel_id or 0),
                row.move_alert_bp,
                row.move_window_minutes * 60_000,
                row.trade_alert_cents,
            )
            for row in enabled
        ]
        self._rules_at = now
        return self._rules

    def forget_rules(self) -> None:
        """Read the settings again at the next trade (after a test or an admin changed them)."""
        self._rules_at = -SETTINGS_SECONDS

    async def _check_move(
        self, guild: GuildRules, symbol: str, tape: SymbolTape, ts: int, price: int
    ) -> None:
        last = self.announced.get((guild.guild_id, symbol))
        if last is not None and ts - last < guild.window_ms:
            return
        since = max(ts - guild.window_ms, last or 0)
        before = tape.first_since(since)
        if before is None or abs(move_bp(before, price)) < guild.move_bp:
            return
        self.announced[(guild.guild_id, symbol)] = ts
        words = await self._words(guild.guild_id)
        percent = format(abs(Decimal(price - before) * 100 / Decimal(before)).quantize(Decimal("0.01")), "f")
        title = MOVE_UP if price > before else MOVE_DOWN
        minutes = guild.window_ms // 60_000
        embed = Embed(
            title=words.t(title, symbol=symbol, percent=percent, minutes=minutes),
            description=words.t(MOVE_TEXT, before=before, after=price),
            colour=Colour.SUCCESS if price > before else Colour.ERROR,
        )
        await self._post(guild, embed)

    async def _announce_trade(
        self, guilds: list[GuildRules], symbol: str, seq: int, price: int, quantity: int
    ) -> None:
        parties = await self.exchange().trade_parties(symbol, seq)
        if not parties:
            return
        now = self.monotonic()
        for guild in guilds:
            members = [p for p in parties if await self._is_member(guild.guild_id, p.discord_id)]
            if not members:
                continue
            bucket = self.buckets.setdefault(
                guild.guild_id, TokenBucket(TRADE_BURST, TRADE_REFILL_SECONDS, TRADE_BURST, now)
            )
            if not bucket.take(now):
                continue
            words = await self._words(guild.guild_id)
            lines = [
                words.t(
                    SIDE_LINES[party.side.value],
                    discord_id=str(party.discord_id),
                    quantity=quantity,
                    symbol=symbol,
                    price=price,
                    value=price * quantity,
                )
                for party in members
            ]
            embed = Embed(title=words.t(TRADE_TITLE, symbol=symbol), description="\n".join(lines))
            await self._post(guild, embed)

    async def _is_member(self, guild_id: int, discord_id: int) -> bool:
        now = self.monotonic()
        known = self.members.get((guild_id, discord_id))
        if known is not None and now - known[1] < MEMBER_SECONDS:
            return known[0]
        port = self.port()
        if port is None:
            return False
        try:
            await port.member(guild_id, discord_id)
            member = True
        except DiscordNotFound:
            member = False
        self.members[(guild_id, discord_id)] = (member, now)
        return member

    async def _words(self, guild_id: int) -> Translator:
        async with self.db.read() as session:
            return await guild_settings.guild_translator(session, guild_id)

    async def _post(self, guild: GuildRules, embed: Embed) -> None:
        port = self.port()
        if port is None:
            return
        try:
            await port.send_message(guild.channel_id, Reply.embed(embed).to_message())
            self.posted += 1
        except DiscordError as exc:
            log.warning("could not post a market notification in channel %s: %s", guild.channel_id, exc)
