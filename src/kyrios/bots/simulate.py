"""Agents against the in-process matching engine in simulated time: for tests and benchmarks.

One symbol, one `OrderBook`, one `FairValueModel`. Time advances in steps of `dt`: the model
steps, then every agent whose wake time has come acts, in wake-time order, on a `MarketView`
built from the book; its admitted actions run at once against the book. Each agent is one user
of the book (its name), with a position and cash the simulation keeps from the trades (no cash
or short checks: risk is the exchange's business, not the brains'). After each step a `Sample`
records the fair value and the top of the book.

Everything is deterministic: the same model seed, agents and seeds give the same trades.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kyrios.bots.agents.base import Agent
from kyrios.bots.fair_value import FairValueModel
from kyrios.bots.market_view import (
    Action,
    Cancel,
    Level,
    MarketView,
    OpenOrder,
    PlaceLimit,
    PlaceMarket,
    Refusal,
    Replace,
    TradePrint,
)
from kyrios.exchange.engine import CancelRejected, OrderBook, OrderRejected, PyOrderBook, Side, Trade


@dataclass(frozen=True)
class TradeRecord:
    """A trade with who made and who took it."""

    time: float
    price_cents: int
    quantity: int
    taker_side: Side
    maker: str
    taker: str


@dataclass(frozen=True)
class Sample:
    """The market at the end of a step."""

    time: float
    fair_value_cents: float
    best_bid: int | None
    best_ask: int | None
    last_price: int | None

    @property
    def mid(self) -> float | None:
        """The midpoint, or None unless both sides have orders."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid + self.best_ask) / 2


class Simulation:
    """A one-symbol market of agents; `run(seconds)` advances it, the records grow."""

    def __init__(
        self,
        model: FairValueModel,
        symbol: str,
        agents: Sequence[Agent],
        *,
        dt: float = 1.0,
        depth: int = 10,
        tape: int = 50,
        book_factory: Callable[..., PyOrderBook] = OrderBook,
    ) -> None:
        names = [agent.name for agent in agents]
        if len(set(names)) != len(names):
            raise ValueError("agent names must be unique")
        self.model = model
        self.symbol = symbol
        self.tick = model.spec(symbol).tick_size_cents
        self.book = book_factory(symbol, tick_size_cents=self.tick, max_quantity=1_000_000)
        self.agents = list(agents)
        self.dt = dt
        self.depth = depth
        self.time = 0.0
        self.trades: list[TradeRecord] = []
        self.samples: list[Sample] = []
        self.refusals: Counter[tuple[str, str]] = Counter()
        """(agent, code) → how many of its actions the book refused."""
        self.requests: Counter[tuple[str, int]] = Counter()
        """(agent, whole second) → requests it sent in that second."""
        self.positions: dict[str, int] = dict.fromkeys(names, 0)
        self.cash: dict[str, int] = dict.fromkeys(names, 0)
        self._tape: deque[TradePrint] = deque(maxlen=tape)
        self._open: dict[str, set[int]] = {name: set() for name in names}
        self._next_order_id = 0
        self._wakes = [(agent.first_wake(0.0), index) for index, agent in enumerate(self.agents)]
        heapq.heapify(self._wakes)

    def run(self, seconds: float) -> None:
        """Advance `seconds` of simulated time."""
        end = self.time + seconds
        while self.time < end - 1e-9:
            self.step()

    def step(self) -> None:
        """One step: the fair value moves, the agents due act, a sample is taken."""
        self.time += self.dt
        self.model.step(self.dt)
        while self._wakes and self._wakes[0][0] <= self.time:
            wake, index = heapq.heappop(self._wakes)
            agent = self.agents[index]
            actions = agent.act(self.view(agent.name, wake))
            self.execute(agent.name, wake, actions)
            heapq.heappush(self._wakes, (agent.next_wake(wake), index))
        self.samples.append(
            Sample(
                self.time,
                self.model.price(self.symbol),
                self.book.best_bid,
                self.book.best_ask,
                self.trades[-1].price_cents if self.trades else None,
            )
        )

    def view(self, name: str, time: float | None = None) -> MarketView:
        """What agent `name` sees now."""
        depth = self.book.depth(self.depth)
        mine: list[OpenOrder] = []
        open_ids = self._open[name]
        for order_id in sorted(open_ids):
            order = self.book.order(order_id)
            if order is None:
                open_ids.discard(order_id)
                continue
            mine.append(
                OpenOrder(
                    order.client_order_id or "",
                    order.side,
                    order.price_cents,
                    order.quantity,
                    order.remaining,
                )
            )
        return MarketView(
            symbol=self.symbol,
            time=self.time if time is None else time,
            tick_size_cents=self.tick,
            bids=tuple(Level(price, quantity) for price, quantity in depth.bids),
            asks=tuple(Level(price, quantity) for price, quantity in depth.asks),
            trades=tuple(self._tape),
            open_orders=tuple(mine),
            position=self.positions[name],
            cash_cents=self.cash[name],
            fair_value_cents=self.model.price(self.symbol),
        )

    def execute(self, name: str, time: float, actions: Sequence[Action]) -> list[Refusal]:
        """Run agent `name`'s actions against the book in order; return the refused ones."""
        refusals: list[Refusal] = []
        book = self.book
        for action in actions:
            self.requests[name, int(time)] += action.requests
            if isinstance(action, Replace):
                book.cancel_by_client_order_id(name, action.client_order_id)
                if self._settle(time, action.client_order_id, refusals):
                    self._place(name, action.new)
                    self._settle(time, action.new.client_order_id, refusals)
                continue
            if isinstance(action, Cancel):
                book.cancel_by_client_order_id(name, action.client_order_id)
            else:
                self._place(name, action)
            self._settle(time, action.client_order_id, refusals)
        for refusal in refusals:
            self.refusals[name, refusal.code] += 1
        return refusals

    def _place(self, name: str, action: PlaceLimit | PlaceMarket) -> None:
        self._next_order_id += 1
        order_id = self._next_order_id
        if isinstance(action, PlaceLimit):
            self.book.place_limit(
                order_id,
                name,
                action.side,
                action.price_cents,
                action.quantity,
                client_order_id=action.client_order_id,
            )
            self._open[name].add(order_id)
        else:
            self.book.place_market(
                order_id,
                name,
                action.side,
                action.quantity,
                action.protection_price_cents,
                client_order_id=action.client_order_id,
            )

    def _settle(self, time: float, client_order_id: str, refusals: list[Refusal]) -> bool:
        """Book the events of one command; False if it was refused."""
        accepted = True
        for event in self.book.take_events():
            if isinstance(event, Trade):
                self._book_trade(time, event)
            elif isinstance(event, OrderRejected | CancelRejected):
                refusals.append(Refusal(client_order_id, event.code.value))
                accepted = False
        return accepted

    def _book_trade(self, time: float, trade: Trade) -> None:
        maker, taker = str(trade.maker_user_id), str(trade.taker_user_id)
        notional = trade.price_cents * trade.quantity
        sign = 1 if trade.taker_side is Side.BUY else -1
        self.positions[taker] += sign * trade.quantity
        self.positions[maker] -= sign * trade.quantity
        self.cash[taker] -= sign * notional
        self.cash[maker] += sign * notional
        self._tape.append(TradePrint(time, trade.price_cents, trade.quantity, trade.taker_side))
        self.trades.append(
            TradeRecord(time, trade.price_cents, trade.quantity, trade.taker_side, maker, taker)
        )


class InMemoryTransport:
    """The `Transport` of one agent over a `Simulation`, at the simulation's current time."""

    def __init__(self, simulation: Simulation, agent: str) -> None:
        self.simulation = simulation
        self.agent = agent

    async def observe(self, symbol: str, *, depth: int, trades: int) -> MarketView:
        """The agent's view, cut to `depth` levels and `trades` trades."""
        self._check(symbol)
        view = self.simulation.view(self.agent)
        return MarketView(
            symbol=view.symbol,
            time=view.time,
            tick_size_cents=view.tick_size_cents,
            bids=view.bids[:depth],
            asks=view.asks[:depth],
            trades=view.trades[-trades:] if trades > 0 else (),
            open_orders=view.open_orders,
            position=view.position,
            cash_cents=view.cash_cents,
            fair_value_cents=view.fair_value_cents,
        )

    async def execute(self, symbol: str, actions: Sequence[Action]) -> list[Refusal]:
        """Run the actions now."""
        self._check(symbol)
        return self.simulation.execute(self.agent, self.simulation.time, actions)

    def _check(self, symbol: str) -> None:
        if symbol != self.simulation.symbol:
            raise KeyError(symbol)
