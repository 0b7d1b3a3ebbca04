"""What the bot asked the emulator, faults a test arms for it, and waiting without sleeping."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kyrios.testing.emulator.models import Json

T = TypeVar("T")
PathPattern = str | re.Pattern[str]


@dataclass
class RecordedRequest:
    """One REST request as the emulator received it (path relative to `/api/v10`)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int = 0
    route: str = ""  # the emulator route that served it, e.g. `/guilds/{guild_id}/members/{user_id}`
    response_body: Any = None  # the JSON the emulator answered (None for 204 and non-JSON answers)
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def json(self) -> Json:
        """The JSON body (an empty dict when there was none)."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def reason(self) -> str | None:
        """The `X-Audit-Log-Reason` the bot sent, URL-decoded."""
        from urllib.parse import unquote

        raw = self.headers.get("X-Audit-Log-Reason")
        return unquote(raw) if raw is not None else None


def path_matches(pattern: PathPattern, path: str) -> bool:
    """Exact match for strings, full match for compiled patterns."""
    return pattern.fullmatch(path) is not None if isinstance(pattern, re.Pattern) else pattern == path


@dataclass
class Fault:
    """An armed error: the next `remaining` matching requests get `status` (None = forever)."""

    method: str
    path: PathPattern
    status: int
    body: Json
    remaining: int | None
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Does this fault apply to the request?"""
        return self.method == method and path_matches(self.path, path) and self.remaining != 0


WAIT_SECONDS = 15.0
"""How long a test waits for something the emulator or the bot should do: only a failing test waits this
long, and a slow shared host must not turn a late event into a failure."""


class Waiter:
    """Lets tests wait for a condition over changing emulator state, with a timeout and no fixed sleeps."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()

    async def notify(self) -> None:
        """Wake everyone waiting; call after each change."""
        async with self._changed:
            self._changed.notify_all()

    async def until(self, probe: Callable[[], T | None], *, timeout: float, what: str) -> T:  # noqa: ASYNC109
        """Return `probe()` as soon as it is not None; raise `TimeoutError` naming `what` otherwise."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    found = probe()
                    if found is not None:
                        return found
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None


class Traffic:
    """The request log, the unhandled-route log, and the armed faults."""

    def __init__(self, waiter: Waiter) -> None:
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[str] = []
        self.errors: list[str] = []  # requests a handler failed on (answered 400 50035)
        self.faults: list[Fault] = []
        self.waiter = waiter

    def matching(self, method: str, path: PathPattern) -> list[RecordedRequest]:
        """Requests seen so far with this method and path."""
        return [r for r in self.requests if r.method == method and path_matches(path, r.path)]

    async def wait_for(
        self,
        method: str,
        path: PathPattern,
        *,
        nth: int = 1,
        where: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
        succeeded: bool = True,
    ) -> RecordedRequest:
        """The `nth` matching request (already seen or still to come); 2xx only unless `succeeded=False`."""

        def probe() -> RecordedRequest | None:
            found = [
                r
                for r in self.matching(method, path)
                if r.status and (not succeeded or 200 <= r.status < 300) and (where is None or where(r))
            ]
            return found[nth - 1] if len(found) >= nth else None

        return await self.waiter.until(probe, timeout=timeout, what=f"{method} {path} #{nth}")

    def arm(self, fault: Fault) -> Fault:
        """Add a fault; the newest armed fault wins."""
        self.faults.insert(0, fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault for this request, consuming one use of it."""
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.hits += 1
                return fault
        return None
