"""The market maker: two-sided quotes around its fair-value estimate, refreshed by cancel/replace.

Each wake it (1) updates its estimate from a noisy look at the oracle (an exponential average, so
it lags news by a few wakes; the noise is a slowly wandering error, an OU process with memory
`noise_memory` seconds, not a fresh draw per wake: a maker's model is wrong in the same way for a
while, and a per-wake draw would jiggle the quotes a tick up and back, a bounce of the mid that
makes 1-second returns negatively autocorrelated), (2) updates its volatility from the moves of
the reference price between wakes, (3) sets the half spread to `base_half_spread_ticks` plus
`volatility_factor` times that volatility in ticks, (4) shifts the quote centre against its
inventory by `skew_ticks_per_unit` ticks per unit held (long: lower quotes, so it sells more and
buys less), and (5) reconciles `levels` quotes per side with its open orders: a quote at the right price
stays (keeping its queue place), a wrong one is replaced, a superfluous one cancelled. Quotes on
the side that would grow an inventory past `max_inventory` are withdrawn.

Replacements are ordered so the side moving away from the other goes first (when the centre
rises, asks before bids), so a new quote never meets the agent's own stale one.
"""

from __future__ import annotations

import math

from kyrios.bots.agents.base import Agent, RateLimit, ceil_tick, floor_tick
from kyrios.bots.market_view import Action, Cancel, MarketView, OpenOrder, PlaceLimit, Replace
from kyrios.exchange.engine.enums import Side

Slot = tuple[Side, int]
"""A quote's place: its side and its level (0 = nearest the centre)."""


class MarketMaker(Agent):
    """Keeps the book two-sided within a few ticks of its estimate of fair value."""

    kind = "market_maker"

    def __init__(
        self,
        name: str,
        *,
        seed: int | str,
        rate_limit: RateLimit | None = None,
        wake_interval: float = 1.0,
        levels: int = 3,
        quantity: int = 20,
        base_half_spread_ticks: float = 0.5,
        volatility_factor: float = 1.0,
        max_half_spread_ticks: float = 10.0,
        skew_ticks_per_unit: float = 0.02,
        max_inventory: int = 500,
        observation_noise: float = 0.0005,
        noise_memory: float = 30.0,
        estimate_weight: float = 0.3,
        volatility_weight: float = 0.05,
    ) -> None:
        super().__init__(name, seed=seed, rate_limit=rate_limit or RateLimit(per_second=20, burst=40))
        if levels < 1 or quantity < 1 or max_inventory < 1 or noise_memory <= 0:
            raise ValueError("levels, quantity, max_inventory and noise_memory must be positive")
        self.wake_interval = wake_interval
        self.levels = levels
        self.quantity = quantity
        self.base_half_spread_ticks = base_half_spread_ticks
        self.volatility_factor = volatility_factor
        self.max_half_spread_ticks = max_half_spread_ticks
        self.skew_ticks_per_unit = skew_ticks_per_unit
        self.max_inventory = max_inventory
        self.observation_noise = observation_noise
        self.noise_memory = noise_memory
        self.estimate_weight = estimate_weight
        self.volatility_weight = volatility_weight
        self.estimate: float | None = None
        self.error = observation_noise * self.rng.gauss()
        """The relative error of its look at the oracle (stationary: N(0, observation_noise²))."""
        self._error_time: float | None = None
        self.variance = 0.0
        """Exponential average of the squared move of the reference price between wakes (cents²)."""
        self._last_reference: float | None = None
        self._last_centre: float | None = None
        self._slots: dict[str, Slot] = {}

    def next_wake(self, now: float) -> float:
        """Quotes are refreshed on a steady beat."""
        return now + self.wake_interval

    def decide(self, view: MarketView) -> list[Action]:
        """Reconcile the open quotes with the quotes wanted now."""
        self._observe(view)
        if self.estimate is None:
            return []
        tick = view.tick_size_cents
        centre = self.estimate - self.skew_ticks_per_unit * view.position * tick
        wanted = self.quotes(centre, tick, view.position)
        rising = self._last_centre is None or centre >= self._last_centre
        return self._reconcile(view, wanted, rising=rising, centre=centre)

    def half_spread_ticks(self, tick: int) -> float:
        """The current half spread in ticks: the base widened by recent volatility, capped."""
        volatility_ticks = math.sqrt(self.variance) / tick
        widened = self.base_half_spread_ticks + self.volatility_factor * volatility_ticks
        return min(self.max_half_spread_ticks, widened)

    def quotes(self, centre: float, tick: int, position: int) -> dict[Slot, tuple[int, int]]:
        """The wanted (price, quantity) per slot around `centre`, on the tick grid."""
        half = self.half_spread_ticks(tick) * tick
        wanted: dict[Slot, tuple[int, int]] = {}
        for level in range(self.levels):
            size = self.quantity * (level + 1)
            if position + size <= self.max_inventory:
                wanted[Side.BUY, level] = (floor_tick(centre - half - level * tick, tick), size)
            if position - size >= -self.max_inventory:
                wanted[Side.SELL, level] = (ceil_tick(centre + half + level * tick, tick), size)
        return wanted

    def _observe(self, view: MarketView) -> None:
        reference = view.reference_price()
        if reference is not None:
            if self._last_reference is not None:
                move = reference - self._last_reference
                self.variance += self.volatility_weight * (move * move - self.variance)
            self._last_reference = reference
        if view.fair_value_cents is not None:
            self._step_error(view.time)
            seen = view.fair_value_cents * (1 + self.error)
        elif reference is not None:
            seen = reference
        else:
            return
        if self.estimate is None:
            self.estimate = seen
        else:
            self.estimate += self.estimate_weight * (seen - self.estimate)

    def _step_error(self, now: float) -> None:
        """The exact OU transition of the error since the last look."""
        if self._error_time is not None and now > self._error_time:
            decay = math.exp(-(now - self._error_time) / self.noise_memory)
            shock = self.observation_noise * math.sqrt(1 - decay * decay) * self.rng.gauss()
            self.error = self.error * decay + shock
        self._error_time = now

    def _reconcile(
        self, view: MarketView, wanted: dict[Slot, tuple[int, int]], *, rising: bool, centre: float
    ) -> list[Action]:
        self._last_centre = centre
        open_by_slot: dict[Slot, OpenOrder] = {}
        cancels: list[Action] = []
        for order in view.open_orders:
            slot = self._slots.get(order.client_order_id)
            if slot is None or slot not in wanted or slot in open_by_slot:
                cancels.append(Cancel(order.client_order_id))
            else:
                open_by_slot[slot] = order
        slots: dict[str, Slot] = {}
        changes: list[Action] = []
        first, second = (Side.SELL, Side.BUY) if rising else (Side.BUY, Side.SELL)
        for side in (first, second):
            for level in range(self.levels):
                slot = (side, level)
                if slot not in wanted:
                    continue
                price, size = wanted[slot]
                current = open_by_slot.get(slot)
                if current is not None and current.price_cents == price and current.remaining * 2 >= size:
                    slots[current.client_order_id] = slot
                    continue
                new = PlaceLimit(self.new_client_order_id(), side, price, size)
                slots[new.client_order_id] = slot
                changes.append(new if current is None else Replace(current.client_order_id, new))
        self._slots = slots
        return cancels + changes
