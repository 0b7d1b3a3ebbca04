"""A per-caller token bucket for the REST API: in process, or in Redis when it is configured.

A caller signed in as a person gets `PERSON`; a BOT's API key gets the higher `BOT` tier. An
empty bucket answers 429 (`cooldown`) with `Retry-After`; the exchange's own order-rate rule
(`exchange.rules.OrderRateLimiter`) still applies to new orders behind it. In process each web
process counts its own callers; in Redis (`RedisRateLimiter`) every process shares one bucket
per caller, refilled by a Lua script on the runtime's clock (so one call is atomic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

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


class RateLimiter(Protocol):
    """Spends one of the caller's tokens, or raises `OnCooldown`."""

    async def check(self, user: ApiUser) -> None: ...
    async def aclose(self) -> None: ...


def tier_of(user: ApiUser, person: Tier = PERSON, bot: Tier = BOT) -> Tier:
    """The caller's tier: API keys belong to BOT accounts."""
    return bot if user.method == "api_key" else person


def bucket_key(user: ApiUser) -> tuple[str, int]:
    """Whose bucket: the exchange account, else how and as whom the caller signed in."""
    return ("account", user.account_id) if user.account_id is not None else (user.method, user.user_id)


def refused(tier: Tier, wait: float) -> OnCooldown:
    """The 429 of an empty bucket, saying when the next token comes."""
    return OnCooldown(TOO_MANY_REQUESTS, rate=tier.per_second, burst=tier.burst, retry_after=wait)


class RestRateLimiter:
    """Token buckets keyed by caller; `check` spends one token or raises `OnCooldown`."""

    def __init__(self, clock: Clock, person: Tier = PERSON, bot: Tier = BOT) -> None:
        self._clock = clock
        self._person = person
        self._bot = bot
        self._buckets: dict[tuple[str, int], tuple[float, float]] = {}

    async def check(self, user: ApiUser) -> None:
        """Spend one of the caller's tokens; `OnCooldown` (429, Retry-After) when none is left."""
        tier = tier_of(user, self._person, self._bot)
        key = bucket_key(user)
        now = self._clock.now().timestamp()
        tokens, at = self._buckets.get(key, (float(tier.burst), now))
        tokens = min(float(tier.burst), tokens + max(0.0, now - at) * tier.per_second)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise refused(tier, (1.0 - tokens) / tier.per_second)
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_BUCKETS:  # forget callers whose bucket is full again
            self._buckets = {
                k: state
                for k, state in self._buckets.items()
                if now - state[1] < self._bot.burst / self._person.per_second
            }

    async def aclose(self) -> None:
        """Nothing to release."""


_TAKE = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {taken, string.format('%.6f', (1 - tokens) / rate)}
"""


class RedisRateLimiter:
    """The buckets in Redis, shared by every web process (connected at first use, closed by `aclose`)."""

    def __init__(
        self, url: str, clock: Clock, person: Tier = PERSON, bot: Tier = BOT, *, prefix: str = "kyrios:rate:"
    ) -> None:
        self.url, self.prefix = url, prefix
        self._clock, self._person, self._bot = clock, person, bot
        self._redis: Redis | None = None

    async def check(self, user: ApiUser) -> None:
        """Spend one of the caller's tokens; `OnCooldown` (429, Retry-After) when none is left."""
        if self._redis is None:
            self._redis = Redis.from_url(self.url, decode_responses=True)
        tier = tier_of(user, self._person, self._bot)
        kind, ident = bucket_key(user)
        now = f"{self._clock.now().timestamp():.6f}"
        result: list[Any] = await self._redis.eval(
            _TAKE, 1, f"{self.prefix}{kind}:{ident}", now, tier.per_second, tier.burst
        )
        if int(result[0]) != 1:
            raise refused(tier, float(result[1]))

    async def aclose(self) -> None:
        """Close the connection."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def limiter_for(clock: Clock, redis_url: str | None) -> RateLimiter:
    """Redis when the deployment has it, else in process."""
    return RedisRateLimiter(redis_url, clock) if redis_url else RestRateLimiter(clock)
