"""`DiscordPort` over Discord's REST API with a bot token, for deployments without a gateway bot.

Honours Discord's rate limits the way `topics/rate-limits` asks: each route's bucket is learned
from `X-RateLimit-Bucket` and kept per major id (channel, guild, webhook + token); a spent bucket
(`X-RateLimit-Remaining: 0`) waits `X-RateLimit-Reset-After` before the next request; a 429 is
waited out (`retry_after`) and retried, a global one pausing every request but interaction
responses (which the global limit exempts); a 429 asking more than `max_retry_after` raises
`DiscordRateLimited`. 500/502/504/524 are retried with a growing pause, like discord.py does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from kyrios import __version__
from kyrios.core.discord_api import ApiCall, DiscordApi, port_error
from kyrios.core.ports import DiscordError, DiscordRateLimited, Json

if TYPE_CHECKING:
    from kyrios.ops.metrics import DiscordMetrics

log = logging.getLogger(__name__)

MAX_TRIES = 5
RETRIED_STATUSES = frozenset({500, 502, 504, 524})
MAX_BUCKETS = 4096
MAX_CONNECTIONS = 64
"""Requests to Discord in flight at once (more wait for a turn)."""
USER_AGENT = f"DiscordBot (kyrios, {__version__})"


class Bucket:
    """One rate-limit bucket: its requests go one at a time, and wait while it is spent."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.remaining: int | None = None  # unknown until a response says
        self.reset_at = 0.0

    def delay(self, now: float) -> float:
        """Seconds to wait before the next request (0 while requests remain or the window reset)."""
        if self.remaining == 0 and now < self.reset_at:
            return self.reset_at - now
        return 0.0

    def update(self, headers: Mapping[str, str], now: float) -> None:
        """Take `X-RateLimit-Remaining` and `-Reset-After` from a response."""
        remaining, reset_after = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Reset-After")
        if remaining is None or reset_after is None:
            return
        self.remaining = int(remaining)
        self.reset_at = now + float(reset_after)


class RateLimits:
    """Discord's per-route buckets and the global pause, learned from response headers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._bucket_of_route: dict[str, str] = {}  # "METHOD /route/{template}" -> Discord's bucket hash
        self._buckets: dict[str, Bucket] = {}
        self._sweep_above = MAX_BUCKETS
        self._global_until = 0.0

    def _key(self, route: str, major: str) -> str:
        return f"{self._bucket_of_route.get(route, route)}:{major}"

    def bucket(self, route: str, major: str) -> Bucket:
        """The bucket a request on `route` for these major ids goes through."""
        key = self._key(route, major)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._sweep_above:
                self._forget_idle()
                # Busy buckets stay; sweeping again only once the map has doubled keeps each new
                # bucket O(1) even while thousands are in use (a storm of interaction replies).
                self._sweep_above = max(MAX_BUCKETS, 2 * len(self._buckets))
            bucket = self._buckets[key] = Bucket()
        return bucket

    def learn(self, route: str, major: str, bucket: Bucket, response: httpx.Response) -> None:
        """Record the response's bucket hash (routes sharing a hash share a bucket) and, unless it is
        a 429 (waited out by its `retry_after`), how many requests the bucket has left."""
        headers = response.headers
        discord_hash = headers.get("X-RateLimit-Bucket")
        if discord_hash is not None and self._bucket_of_route.get(route) != discord_hash:
            self._bucket_of_route[route] = discord_hash
            bucket = self._buckets.setdefault(f"{discord_hash}:{major}", bucket)
        if response.status_code != 429:
            bucket.update(headers, self.clock())

    def pause_everything(self, seconds: float) -> None:
        """A global 429: no request but interaction responses goes out for `seconds`."""
        self._global_until = max(self._global_until, self.clock() + seconds)

    def global_delay(self) -> float:
        """Seconds left of a global pause."""
        return max(0.0, self._global_until - self.clock())

    def _forget_idle(self) -> None:
        now = self.clock()
        for key, bucket in list(self._buckets.items()):
            if not bucket.lock.locked() and bucket.delay(now) == 0:
                del self._buckets[key]


def _answer(response: httpx.Response) -> Json:
    try:
        data = response.json()
    except ValueError:
        return {"message": response.text[:200] or response.reason_phrase}
    return data if isinstance(data, dict) else {"message": str(data)[:200]}


class RestDiscordPort(DiscordApi):
    """The port over httpx with `Authorization: Bot <token>`; `aclose()` when done.

    Without a token (`None`) only the interaction calls work (callback, `@original`, follow-ups:
    the interaction's token is their credential), which is all an HTTP-interactions door needs.

    At most `max_connections` requests are in flight; the others wait their turn on a semaphore.
    httpx would queue them too, but its pool looks over every queued request for every free
    connection: thousands of late interaction replies at once (a storm) cost it minutes of CPU.
    """

    def __init__(
        self,
        token: str | None,
        *,
        api_base: str = "https://discord.com/api/v10",
        max_retry_after: float = 60.0,
        timeout: float = 15.0,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.max_retry_after = max_retry_after
        self.limits = RateLimits()
        self._headers = {"User-Agent": USER_AGENT}
        if token is not None:
            self._headers["Authorization"] = f"Bot {token}"
        self._timeout = timeout
        self._max_connections = max_connections
        self._turns = asyncio.Semaphore(max_connections)
        self._client: httpx.AsyncClient | None = None
        self.metrics: DiscordMetrics | None = None
        """Counts requests, 429s and the budget left per route when set."""

    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client, made on first use (so a runtime that never calls Discord opens nothing)."""
        if self._client is None:
            pool = httpx.Limits(
                max_connections=self._max_connections, max_keepalive_connections=self._max_connections
            )
            self._client = httpx.AsyncClient(headers=self._headers, timeout=self._timeout, limits=pool)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, call: ApiCall) -> Any:
        """One request, waiting for its bucket and the global limit, retrying 429s and 5xx."""
        route = f"{call.method} {call.route}"
        bucket = self.limits.bucket(route, call.major)
        async with bucket.lock:
            for attempt in range(1, MAX_TRIES + 1):
                wait = max(bucket.delay(self.limits.clock()), self._global_wait(call))
                if wait > self.max_retry_after:
                    raise DiscordRateLimited(wait)
                if wait > 0:
                    await asyncio.sleep(wait)
                response = await self._send(call)
                self.limits.learn(route, call.major, bucket, response)
                if self.metrics is not None:
                    headers = response.headers
                    self.metrics.answered(
                        route,
                        response.status_code,
                        headers.get("X-RateLimit-Remaining"),
                        headers.get("X-RateLimit-Limit"),
                    )
                if response.is_success:
                    return response.json() if response.content else None
                data = _answer(response)
                if response.status_code == 429:
                    await self._wait_out(call, response, data)
                    continue
                if response.status_code in RETRIED_STATUSES and attempt < MAX_TRIES:
                    await asyncio.sleep(1 + 2 * (attempt - 1))
                    continue
                message = str(data.get("message") or response.reason_phrase)
                raise port_error(response.status_code, int(data.get("code") or 0), message)
        raise DiscordError(429, 0, f"{call.method} {call.path}: still rate limited after {MAX_TRIES} tries")

    def _global_wait(self, call: ApiCall) -> float:
        return 0.0 if call.exempt_from_global_limit else self.limits.global_delay()

    async def _wait_out(self, call: ApiCall, response: httpx.Response, data: Json) -> None:
        retry_after = float(data.get("retry_after") or response.headers.get("Retry-After") or 1)
        is_global = bool(data.get("global") or response.headers.get("X-RateLimit-Global"))
        if self.metrics is not None:
            scope = "global" if is_global else response.headers.get("X-RateLimit-Scope", "user")
            self.metrics.limited(f"{call.method} {call.route}", scope)
        if retry_after > self.max_retry_after:
            raise DiscordRateLimited(retry_after, str(data.get("message") or "You are being rate limited."))
        if is_global:
            self.limits.pause_everything(retry_after)
        log.warning("%s %s: rate limited, retrying in %.2fs", call.method, call.route, retry_after)
        await asyncio.sleep(retry_after)

    async def _send(self, call: ApiCall) -> httpx.Response:
        headers = {"X-Audit-Log-Reason": quote(call.reason, safe="/ ")} if call.reason else {}
        url = self.api_base + call.path
        options: dict[str, Any] = {"headers": headers, "params": dict(call.query)}
        if call.files:
            options["data"] = {"payload_json": call.payload_json()}
            options["files"] = [
                (f"files[{index}]", (upload.filename, upload.data, upload.content_type))
                for index, upload in enumerate(call.files)
            ]
        elif call.json is not None:
            options["json"] = call.json
        try:
            async with self._turns:
                return await self.client.request(call.method, url, **options)
        except httpx.TransportError as exc:
            raise DiscordError(0, 0, f"Discord could not be reached: {exc}") from exc
