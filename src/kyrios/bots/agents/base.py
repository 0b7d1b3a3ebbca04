"""What every agent shares: its own RNG, client order ids, a wake schedule and a request budget."""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence

from kyrios.bots.market_view import Action, MarketView


class RateLimit:
    """A token bucket in the agent's clock: `per_second` requests refill, at most `burst` saved.

    The exchange limits requests per API key; an agent that keeps within its own bucket is never
    answered 429. A `Replace` costs two requests (cancel and place).
    """

    def __init__(self, per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.per_second = per_second
        self.burst = burst
        self._tokens = float(burst)
        self._time: float | None = None

    def admit(self, now: float, actions: Sequence[Action]) -> list[Action]:
        """The longest prefix of `actions` the budget allows now; spends its requests."""
        if self._time is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._time) * self.per_second)
        self._time = now
        admitted: list[Action] = []
        for action in actions:
            if action.requests > self._tokens + 1e-9:
                break
            self._tokens -= action.requests
            admitted.append(action)
        return admitted


class Agent(ABC):
    """A trading agent for one symbol: `act(view)` returns the actions it sends now.

    Deterministic: its decisions depend only on its seed, its name and the views it is shown.
    The runner calls `act` at the times `next_wake` returns (the first from `first_wake`).
    """

    kind = "agent"
    wake_interval: float = 10.0
    """Mean seconds between wakes (exponentially distributed unless `next_wake` says otherwise)."""

    def __init__(self, name: str, *, seed: int | str, rate_limit: RateLimit | None = None) -> None:
        self.name = name
        self.rng = random.Random(f"{seed}/agent/{name}")
        self.rate_limit = rate_limit or RateLimit(per_second=5, burst=10)
        self._next_order = 0

    def first_wake(self, start: float) -> float:
        """When to act first: spread over the first interval, so agents do not all start at once."""
        return start + self.rng.random() * self.wake_interval

    def next_wake(self, now: float) -> float:
        """When to act next after acting at `now`."""
        return now + self.rng.expovariate(1 / self.wake_interval)

    def act(self, view: MarketView) -> list[Action]:
        """Decide, then keep within the request budget (the actions past it are dropped)."""
        return self.rate_limit.admit(view.time, self.decide(view))

    @abstractmethod
    def decide(self, view: MarketView) -> list[Action]:
        """The actions the agent would like to send, in order."""

    def new_client_order_id(self) -> str:
        """A fresh client order id, unique for this agent."""
        self._next_order += 1
        return f"{self.name}-{self._next_order}"


def floor_tick(price_cents: float, tick: int) -> int:
    """The highest tick-grid price at or below `price_cents`, at least one tick."""
    return max(tick, math.floor(price_cents / tick + 1e-9) * tick)


def ceil_tick(price_cents: float, tick: int) -> int:
    """The lowest tick-grid price at or above `price_cents`, at least one tick."""
    return max(tick, math.ceil(price_cents / tick - 1e-9) * tick)
