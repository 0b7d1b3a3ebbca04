"""The value trader: trades towards its noisy estimate of fair value (ABIDES' value agent).

Each wake it looks at the oracle through its own noise (`observation_noise`, relative), averages
that into its estimate, withdraws its previous order, and then: if the estimate is above the best
ask by more than `threshold` (relative), it buys at the ask; below the best bid, it sells at the
bid; in between it rests an order at its side of the touch. Orders are limits at a visible price,
so it never pays more than the book showed. `max_position` caps what it holds either way.
"""

from __future__ import annotations

from kyrios.bots.agents.base import Agent, RateLimit, ceil_tick, floor_tick
from kyrios.bots.market_view import Action, Cancel, MarketView, PlaceLimit
from kyrios.exchange.engine.enums import Side


class ValueTrader(Agent):
    """Pushes the price towards fair value after news, and keeps it there."""

    kind = "value"

    def __init__(
        self,
        name: str,
        *,
        seed: int | str,
        rate_limit: RateLimit | None = None,
        wake_interval: float = 60.0,
        observation_noise: float = 0.003,
        estimate_weight: float = 0.5,
        threshold: float = 0.001,
        max_quantity: int = 15,
        max_position: int = 150,
    ) -> None:
        super().__init__(name, seed=seed, rate_limit=rate_limit)
        if max_quantity < 1 or max_position < 1 or not 0 < estimate_weight <= 1:
            raise ValueError("value trader sizes must be positive and the weight within (0, 1]")
        self.wake_interval = wake_interval
        self.observation_noise = observation_noise
        self.estimate_weight = estimate_weight
        self.threshold = threshold
        self.max_quantity = max_quantity
        self.max_position = max_position
        self.estimate: float | None = None

    def decide(self, view: MarketView) -> list[Action]:
        """Withdraw the last order; take mispriced liquidity, or rest an order at the touch."""
        if view.fair_value_cents is None:
            return []
        seen = view.fair_value_cents * (1 + self.observation_noise * self.rng.gauss())
        if self.estimate is None:
            self.estimate = seen
        else:
            self.estimate += self.estimate_weight * (seen - self.estimate)
        estimate = self.estimate
        actions: list[Action] = [Cancel(order.client_order_id) for order in view.open_orders]
        tick = view.tick_size_cents
        margin = estimate * self.threshold
        best_bid, best_ask = view.best_bid, view.best_ask
        quantity = self.rng.randint(1, self.max_quantity)
        if best_ask is not None and estimate - margin > best_ask.price_cents:
            side, price = Side.BUY, best_ask.price_cents
        elif best_bid is not None and estimate + margin < best_bid.price_cents:
            side, price = Side.SELL, best_bid.price_cents
        elif best_bid is not None and best_ask is not None:
            mid = (best_bid.price_cents + best_ask.price_cents) / 2
            if estimate >= mid:
                side, price = Side.BUY, best_bid.price_cents
            else:
                side, price = Side.SELL, best_ask.price_cents
        elif best_ask is None:  # no sellers: offer where it thinks the value is
            side, price = Side.SELL, ceil_tick(estimate + margin, tick)
        else:
            side, price = Side.BUY, floor_tick(estimate - margin, tick)
        if side is Side.BUY and view.position + quantity > self.max_position:
            return actions
        if side is Side.SELL and view.position - quantity < -self.max_position:
            return actions
        actions.append(PlaceLimit(self.new_client_order_id(), side, price, quantity))
        return actions
