"""The whale: now and then a large market order that walks the book, up to a protection price."""

from __future__ import annotations

from kyrios.bots.agents.base import Agent, RateLimit, ceil_tick, floor_tick
from kyrios.bots.market_view import Action, MarketView, PlaceMarket
from kyrios.exchange.engine.enums import Side


class Whale(Agent):
    """Rare, big, impatient: moves the price by up to `max_walk` (a fraction of the reference).

    The side is a coin leaning against the whale's position, so it does not drift off to one side.
    """

    kind = "whale"

    def __init__(
        self,
        name: str,
        *,
        seed: int | str,
        rate_limit: RateLimit | None = None,
        wake_interval: float = 300.0,
        min_quantity: int = 200,
        max_quantity: int = 800,
        max_walk: float = 0.01,
        max_position: int = 3000,
    ) -> None:
        super().__init__(name, seed=seed, rate_limit=rate_limit or RateLimit(per_second=1, burst=2))
        if not 0 < min_quantity <= max_quantity or max_walk <= 0 or max_position < 1:
            raise ValueError("whale sizes, walk and position limit must be positive")
        self.wake_interval = wake_interval
        self.min_quantity = min_quantity
        self.max_quantity = max_quantity
        self.max_walk = max_walk
        self.max_position = max_position

    def decide(self, view: MarketView) -> list[Action]:
        """One market order, or nothing while the book is empty."""
        reference = view.reference_price()
        if reference is None:
            return []
        lean = max(-1.0, min(1.0, view.position / self.max_position))
        side = Side.BUY if self.rng.random() < 0.5 * (1 - lean) else Side.SELL
        quantity = self.rng.randint(self.min_quantity, self.max_quantity)
        tick = view.tick_size_cents
        if side is Side.BUY:
            protection = ceil_tick(reference * (1 + self.max_walk), tick)
        else:
            protection = floor_tick(reference * (1 - self.max_walk), tick)
        return [PlaceMarket(self.new_client_order_id(), side, quantity, protection)]
