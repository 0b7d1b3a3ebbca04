"""The noise trader: small random orders, market or limit near the touch, with no view at all.

Limit orders rest a few ticks from its side's best price (or one tick inside a wide spread) and
are cancelled after `order_ttl` seconds; they are most of the book's depth behind the market
maker's quotes. Past `max_position` it only trades back towards flat.

It trades more when the market moves (volume rises with volatility, Cont 2001's fact 10): each
wake it compares the squared log move of the reference price since its last wake, per second,
with its long-run average of the same, and divides its mean wake interval by that ratio
(clamped to `1 / max_excitement` … `max_excitement`; 0 turns the feedback off). Busy spells
then draw more orders, whose impact makes them busier: a feedback that clusters volatility.
"""

from __future__ import annotations

import math

from kyrios.bots.agents.base import Agent, RateLimit
from kyrios.bots.market_view import Action, Cancel, MarketView, PlaceLimit, PlaceMarket
from kyrios.exchange.engine.enums import Side


class NoiseTrader(Agent):
    """Random liquidity: the crowd of ABIDES' noise agents."""

    kind = "noise"

    def __init__(
        self,
        name: str,
        *,
        seed: int | str,
        rate_limit: RateLimit | None = None,
        wake_interval: float = 60.0,
        market_probability: float = 0.3,
        max_quantity: int = 10,
        max_offset_ticks: int = 5,
        order_ttl: float = 120.0,
        max_position: int = 200,
        max_excitement: float = 4.0,
        excitement_memory: float = 0.05,
    ) -> None:
        super().__init__(name, seed=seed, rate_limit=rate_limit)
        if max_quantity < 1 or max_offset_ticks < 0 or max_position < 1:
            raise ValueError("noise trader sizes must be positive")
        if max_excitement < 0 or not 0 < excitement_memory <= 1:
            raise ValueError("max_excitement must not be negative, excitement_memory within (0, 1]")
        self.wake_interval = wake_interval
        self.market_probability = market_probability
        self.max_quantity = max_quantity
        self.max_offset_ticks = max_offset_ticks
        self.order_ttl = order_ttl
        self.max_position = max_position
        self.max_excitement = max_excitement
        self.excitement_memory = excitement_memory
        self.excitement = 1.0
        """How many times as often as usual it wakes now."""
        self._usual_variance: float | None = None
        self._last_seen: tuple[float, float] | None = None
        self._placed_at: dict[str, float] = {}

    def next_wake(self, now: float) -> float:
        """Exponential, with the mean interval divided by the excitement."""
        return now + self.rng.expovariate(self.excitement / self.wake_interval)

    def _update_excitement(self, view: MarketView) -> None:
        reference = view.reference_price()
        if reference is None or reference <= 0:
            return
        if self._last_seen is not None and view.time > self._last_seen[0]:
            then, price = self._last_seen
            variance = math.log(reference / price) ** 2 / (view.time - then)
            if self._usual_variance is None:
                self._usual_variance = variance
            else:
                self._usual_variance += self.excitement_memory * (variance - self._usual_variance)
            if self.max_excitement > 0 and self._usual_variance > 0:
                ratio = variance / self._usual_variance
                self.excitement = min(self.max_excitement, max(1 / self.max_excitement, ratio))
        self._last_seen = (view.time, reference)

    def decide(self, view: MarketView) -> list[Action]:
        """Cancel expired orders, then maybe one new order."""
        self._update_excitement(view)
        live = {order.client_order_id for order in view.open_orders}
        self._placed_at = {cid: at for cid, at in self._placed_at.items() if cid in live}
        actions: list[Action] = [
            Cancel(cid) for cid, at in self._placed_at.items() if view.time - at >= self.order_ttl
        ]
        side = Side.BUY if self.rng.random() < 0.5 else Side.SELL
        if view.position >= self.max_position:
            side = Side.SELL
        elif view.position <= -self.max_position:
            side = Side.BUY
        quantity = self.rng.randint(1, self.max_quantity)
        opposite = view.asks if side is Side.BUY else view.bids
        if self.rng.random() < self.market_probability:
            if opposite:
                actions.append(PlaceMarket(self.new_client_order_id(), side, quantity))
            return actions
        price = self._limit_price(view, side)
        if price is not None:
            order = PlaceLimit(self.new_client_order_id(), side, price, quantity)
            self._placed_at[order.client_order_id] = view.time
            actions.append(order)
        return actions

    def _limit_price(self, view: MarketView, side: Side) -> int | None:
        tick = view.tick_size_cents
        own = view.bids if side is Side.BUY else view.asks
        sign = 1 if side is Side.BUY else -1
        if own:
            best = own[0].price_cents
        else:
            reference = view.reference_price()
            if reference is None:
                return None
            best = round(reference / tick) * tick - sign * tick
        spread = view.spread_cents
        if spread is not None and spread > 2 * tick and self.rng.random() < 0.3:
            price = best + sign * tick  # improve a wide spread by one tick
        else:
            price = best - sign * tick * self.rng.randint(0, self.max_offset_ticks)
        return price if price >= tick else None
