"""The momentum trader: a moving-average crossover on the reference price it samples each wake.

When the short average is above the long one by more than `threshold` (relative) it buys at
market (protected `max_slippage` beyond the reference), below by as much it sells; otherwise it
waits. It trades trends, so it amplifies moves the value traders then lean against.
"""

from __future__ import annotations

from collections import deque

from kyrios.bots.agents.base import Agent, RateLimit, ceil_tick, floor_tick
from kyrios.bots.market_view import Action, MarketView, PlaceMarket
from kyrios.exchange.engine.enums import Side


class MomentumTrader(Agent):
    """Follows the trend of the last `long_window` samples."""

    kind = "momentum"

    def __init__(
        self,
        name: str,
        *,
        seed: int | str,
        rate_limit: RateLimit | None = None,
        wake_interval: float = 20.0,
        short_window: int = 5,
        long_window: int = 20,
        threshold: float = 0.0005,
        max_quantity: int = 10,
        max_position: int = 100,
        max_slippage: float = 0.005,
    ) -> None:
        super().__init__(name, seed=seed, rate_limit=rate_limit)
        if not 0 < short_window < long_window or max_quantity < 1 or max_position < 1:
            raise ValueError("momentum windows must be 0 < short < long and sizes positive")
        self.wake_interval = wake_interval
        self.short_window = short_window
        self.threshold = threshold
        self.max_quantity = max_quantity
        self.max_position = max_position
        self.max_slippage = max_slippage
        self.samples: deque[float] = deque(maxlen=long_window)

    def next_wake(self, now: float) -> float:
        """Sampled on a steady beat, so the averages span fixed times."""
        return now + self.wake_interval

    def decide(self, view: MarketView) -> list[Action]:
        """Sample the price; on a crossover beyond the threshold, trade with the trend."""
        reference = view.reference_price()
        if reference is None:
            return []
        self.samples.append(reference)
        if len(self.samples) < (self.samples.maxlen or 0):
            return []
        long_average = sum(self.samples) / len(self.samples)
        recent = list(self.samples)[-self.short_window :]
        short_average = sum(recent) / len(recent)
        tick = view.tick_size_cents
        quantity = self.rng.randint(1, self.max_quantity)
        if (
            short_average > long_average * (1 + self.threshold)
            and view.position + quantity <= self.max_position
        ):
            protection = ceil_tick(reference * (1 + self.max_slippage), tick)
            return [PlaceMarket(self.new_client_order_id(), Side.BUY, quantity, protection)]
        if (
            short_average < long_average * (1 - self.threshold)
            and view.position - quantity >= -self.max_position
        ):
            protection = floor_tick(reference * (1 - self.max_slippage), tick)
            return [PlaceMarket(self.new_client_order_id(), Side.SELL, quantity, protection)]
        return []
