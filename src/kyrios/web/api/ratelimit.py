"""A per-caller token bucket for the REST API, in process (each web process counts its own).

A caller signed in as a person gets `PERSON`; a BOT's API key gets the higher `BOT` tier. An
empty bucket answers 429 (`cooldown`) with `Retry-After`; the exchange's own order-rate rule
(`exchange.rules.OrderRateLimiter`) still applies to new orders behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kyrios.core.clock import Clock
from kyrios.core.errors import OnCooldown
from kyrios.core.i18n import N_
from kyrios.web.deps import ApiUser

TOO_MANY_REQUESTS = N_(
    "Too many requests: at most {rate} per second (bursts of {burst}). Try again in {retry_after:.2f} s."
)
MAX_BUCKETS = 100_000


@dataclass(frozen=True)
class Tier:
    """Sustained requests per second and how many may come at once."""

    per_second: float
    burst: int


PERSON = Tier(per_second=5.0, burst=60)
BOT = Tier(per_second=50.0, burst=600)


class RestRateLimiter:
    """Token buckets keyed by caller; `check` spends one token or raises `OnCooldown`."""

    def __init__(self, clock: Clock, person: Tier = PERSON, bot: Tier = BOT) -> None:
        self._clock = clock
        self._person = person
        self._bot = bot
        self._buckets: dict[tuple[str, int], tuple[float, float]] = {}

    def tier(self, user: ApiUser) -> Tier:
        """The caller's tier: API keys belong to BOT accounts."""
        return self._bot if user.method == "api_key" else self._person

    def check(self, user: ApiUser) -> None:
        """Spend one of the caller's tokens; `OnCooldown` (429, Retry-After) when none is left."""
        tier = self.tier(user)
        key = ("account", user.account_id) if user.account_id is not None else (user.method, user.user_id)
        now = self._clock.now().timestamp()
        tokens, at = self._buckets.get(key, (float(tier.burst), now))
        tokens = min(float(tier.burst), tokens + max(0.0, now - at) * tier.per_second)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise OnCooldown(
                TOO_MANY_REQUESTS,
                rate=tier.per_second,
                burst=tier.burst,
                retry_after=(1.0 - tokens) / tier.per_second,
            )
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_BUCKETS:  # forget callers whose bucket is full again
            self._buckets = {
                k: state
                for k, state in self._buckets.items()
                if now - state[1] < self._bot.burst / self._person.per_second
            }
