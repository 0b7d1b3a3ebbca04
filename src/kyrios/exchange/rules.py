"""Exchange-wide trading rules and the per-user order rate limiter (time comes from a `Clock`)."""

from __future__ import annotations

from dataclasses import dataclass

from kyrios.core.clock import Clock
from kyrios.core.errors import OnCooldown


@dataclass(frozen=True)
class ExchangeRules:
    """Risk and pacing settings an admin may tune."""

    max_short_quantity: int = 1_000
    """How far below zero one user's position in one symbol may go (the margin limit)."""
    market_collar_bps: int = 500
    """A market order trades at most this far (basis points) from the last price."""
    orders_per_second: float = 10.0
    """Sustained new orders per user per second."""
    order_burst: int = 20
    """New orders a user may send at once before the rate applies."""
    max_batch: int = 2_000
    """Most commands a sequencer takes into one group commit."""


class OrderRateLimiter:
    """A token bucket per user: `order_burst` tokens, refilled at `orders_per_second`."""

    def __init__(self, clock: Clock, orders_per_second: float, burst: int) -> None:
        self._clock = clock
        self._rate = orders_per_second
        self._burst = float(burst)
        self._buckets: dict[int, tuple[float, float]] = {}

    def take(self, user_id: int) -> None:
        """Spend one token or raise `OnCooldown` saying when the next one comes."""
        now = self._clock.now().timestamp()
        tokens, at = self._buckets.get(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            wait = (1.0 - tokens) / self._rate if self._rate > 0 else float("inf")
            self._buckets[user_id] = (tokens, now)
            raise OnCooldown(
                f"Too many orders: at most {self._rate:g} per second (bursts of {self._burst:g}). "
                f"Try again in {wait:.2f} s."
            )
        self._buckets[user_id] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # forget idle users so memory stays bounded
            self._buckets = {
                uid: state
                for uid, state in self._buckets.items()
                if now - state[1] < self._burst / self._rate
            }
