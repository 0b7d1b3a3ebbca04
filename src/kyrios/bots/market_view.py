"""What an agent sees (`MarketView`), what it may do (actions), and how actions reach a market.

All plain frozen dataclasses: prices integer cents on the symbol's tick grid, quantities whole
units, times in (simulated or wall-clock) seconds. Sides are the engine's `Side`, whose values
("buy", "sell") are the API's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeAlias

from kyrios.exchange.engine.enums import Side


@dataclass(frozen=True)
class Level:
    """One aggregated price level of the book."""

    price_cents: int
    quantity: int


@dataclass(frozen=True)
class TradePrint:
    """A trade on the tape: the taker `taker_side` traded `quantity` at the maker's price."""

    time: float
    price_cents: int
    quantity: int
    taker_side: Side


@dataclass(frozen=True)
class OpenOrder:
    """One of the agent's own resting orders."""

    client_order_id: str
    side: Side
    price_cents: int
    quantity: int
    remaining: int


@dataclass(frozen=True)
class MarketView:
    """A snapshot of one symbol as one agent sees it at `time`.

    `bids` and `asks` are the top levels, best first; `trades` the latest trades, oldest first.
    `fair_value_cents` is the fundamental the bot runner's oracle shows (ABIDES' oracle), exact:
    agents that trade on value add their own observation noise; None when there is no oracle.
    """

    symbol: str
    time: float
    tick_size_cents: int
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()
    trades: tuple[TradePrint, ...] = ()
    open_orders: tuple[OpenOrder, ...] = ()
    position: int = 0
    cash_cents: int = 0
    fair_value_cents: float | None = None

    @property
    def best_bid(self) -> Level | None:
        """The best bid level, or None."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Level | None:
        """The best ask level, or None."""
        return self.asks[0] if self.asks else None

    @property
    def mid_cents(self) -> float | None:
        """The midpoint of the best bid and ask, or None unless both sides have orders."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price_cents + self.asks[0].price_cents) / 2

    @property
    def spread_cents(self) -> int | None:
        """Best ask minus best bid, or None unless both sides have orders."""
        if not self.bids or not self.asks:
            return None
        return self.asks[0].price_cents - self.bids[0].price_cents

    @property
    def last_price_cents(self) -> int | None:
        """The price of the latest trade on the tape, or None."""
        return self.trades[-1].price_cents if self.trades else None

    def reference_price(self) -> float | None:
        """The mid if the book is two-sided, else the last trade, else the one side there is."""
        mid = self.mid_cents
        if mid is not None:
            return mid
        if self.trades:
            return float(self.trades[-1].price_cents)
        side = self.bids or self.asks
        return float(side[0].price_cents) if side else None


@dataclass(frozen=True)
class PlaceLimit:
    """A good-till-cancelled limit order (it trades at once as far as it crosses the book)."""

    client_order_id: str
    side: Side
    price_cents: int
    quantity: int

    requests: ClassVar[int] = 1


@dataclass(frozen=True)
class PlaceMarket:
    """A market order; it never trades beyond `protection_price_cents` when one is given."""

    client_order_id: str
    side: Side
    quantity: int
    protection_price_cents: int | None = None

    requests: ClassVar[int] = 1


@dataclass(frozen=True)
class Cancel:
    """Cancel the agent's open order with this client order id."""

    client_order_id: str

    requests: ClassVar[int] = 1


@dataclass(frozen=True)
class Replace:
    """Cancel `client_order_id`, then place `new` only if that cancel succeeded (cancel/replace).

    Two requests over the API (a cancel and a place), so two against the rate limit.
    """

    client_order_id: str
    new: PlaceLimit

    requests: ClassVar[int] = 2


Action: TypeAlias = PlaceLimit | PlaceMarket | Cancel | Replace


@dataclass(frozen=True)
class Refusal:
    """The market refused an action: `code` is the exchange's machine code (a `RejectCode` value)."""

    client_order_id: str
    code: str


class Transport(Protocol):
    """How one agent's view is fetched and its actions sent: one per agent (its API key).

    Implemented over REST and WebSocket by the bot runner, and in memory by `simulate`.
    `execute` runs the actions in order; a refused one does not stop the ones after it.
    """

    async def observe(self, symbol: str, *, depth: int, trades: int) -> MarketView:
        """The symbol's view now: `depth` levels per side, the latest `trades` trades."""
        ...

    async def execute(self, symbol: str, actions: Sequence[Action]) -> list[Refusal]:
        """Send the actions in order; return the refused ones."""
        ...
