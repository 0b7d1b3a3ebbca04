"""The bots' `Transport` over the exchange's REST API, one API key per agent (httpx).

`observe` reads the public market data (depth, recent trades, the symbol's tick size, cached)
and the key's private data (its open orders in the symbol, its portfolio); `execute` places
and cancels by client order id. A 429 is waited out (its `Retry-After`) and the call retried;
any other refusal (a 4xx, or an order the exchange accepted but rejected) becomes a `Refusal`
with the exchange's error code or reject reason. Network and server errors are raised.

Times are wall-clock seconds (`clock`, epoch by default, the tape's timestamps too); the fair
value the agents see comes from `oracle` (the runner's model), None without one. A market
order's `protection_price_cents` is not sent: the API has no such field, the exchange's own
market collar bounds it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from kyrios.bots.market_view import (
    Action,
    Cancel,
    Level,
    MarketView,
    OpenOrder,
    PlaceLimit,
    PlaceMarket,
    Refusal,
    Replace,
    TradePrint,
)
from kyrios.exchange.engine.enums import Side

API = "/api/v1"
MAX_RETRIES = 5
"""How many 429s one call waits out before it gives up (and raises)."""


class RestTransport:
    """One agent's view and actions over HTTP with its API key (`X-API-Key`).

    `http` is an `httpx.AsyncClient` with the exchange's base URL (the caller owns and closes
    it; tests pass one on an ASGI transport). `sleep` waits out a 429 (injectable for tests).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: str,
        *,
        oracle: Callable[[str], float | None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.headers = {"X-API-Key": api_key}
        self.oracle = oracle
        self.clock = clock
        self.sleep = sleep
        self.retries = 0
        """How many 429s this transport has waited out."""
        self._ticks: dict[str, int] = {}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call with the key, retried after each 429's `Retry-After`."""
        for _ in range(MAX_RETRIES + 1):
            response = await self.http.request(method, API + path, headers=self.headers, **kwargs)
            if response.status_code != 429:
                return response
            self.retries += 1
            await self.sleep(_retry_after(response))
        response.raise_for_status()
        return response  # pragma: no cover - raise_for_status raised

    async def _json(self, path: str, **params: Any) -> Any:
        response = await self.request("GET", path, params=params)
        response.raise_for_status()
        return response.json()

    async def tick_size(self, symbol: str) -> int:
        """The symbol's tick in cents (from `/assets`, asked once)."""
        if symbol not in self._ticks:
            for asset in await self._json("/assets"):
                self._ticks[asset["symbol"]] = int(asset["tick_size_cents"])
        if symbol not in self._ticks:
            raise KeyError(symbol)
        return self._ticks[symbol]

    async def observe(self, symbol: str, *, depth: int, trades: int) -> MarketView:
        """The book, the tape (oldest first), the key's open orders and position and free cash."""
        tick = await self.tick_size(symbol)
        book, tape, mine, portfolio = await asyncio.gather(
            self._json(f"/depth/{symbol}", levels=max(1, depth)),
            self._json(f"/trades/{symbol}", limit=max(1, trades)),
            self._json("/orders", symbol=symbol, open="true", limit=100),
            self._json("/portfolio"),
        )
        prints = [
            TradePrint(trade["ts"] / 1000, trade["price_cents"], trade["quantity"], Side(trade["taker_side"]))
            for trade in reversed(tape["trades"])
        ]
        position = next((p["quantity"] for p in portfolio["positions"] if p["symbol"] == symbol), 0)
        return MarketView(
            symbol=symbol,
            time=self.clock(),
            tick_size_cents=tick,
            bids=tuple(Level(level["price_cents"], level["quantity"]) for level in book["bids"][:depth]),
            asks=tuple(Level(level["price_cents"], level["quantity"]) for level in book["asks"][:depth]),
            trades=tuple(prints[-trades:]) if trades > 0 else (),
            open_orders=tuple(
                OpenOrder(
                    order["client_order_id"] or "",
                    Side(order["side"]),
                    order["price_cents"] or 0,
                    order["quantity"],
                    order["remaining_quantity"],
                )
                for order in reversed(mine["items"])
            ),
            position=int(position),
            cash_cents=int(portfolio["cash_cents"]),
            fair_value_cents=self.oracle(symbol) if self.oracle is not None else None,
        )

    async def execute(self, symbol: str, actions: Sequence[Action]) -> list[Refusal]:
        """Send the actions in order; a replace places only after its cancel succeeded."""
        refusals: list[Refusal] = []
        for action in actions:
            if isinstance(action, Replace):
                refusal = await self._cancel(action.client_order_id)
                if refusal is None:
                    refusal = await self._place(symbol, action.new)
            elif isinstance(action, Cancel):
                refusal = await self._cancel(action.client_order_id)
            else:
                refusal = await self._place(symbol, action)
            if refusal is not None:
                refusals.append(refusal)
        return refusals

    async def _place(self, symbol: str, action: PlaceLimit | PlaceMarket) -> Refusal | None:
        body: dict[str, Any] = {
            "symbol": symbol,
            "side": action.side.value,
            "quantity": action.quantity,
            "client_order_id": action.client_order_id,
        }
        if isinstance(action, PlaceLimit):
            body |= {"type": "limit", "price_cents": action.price_cents}
        else:
            body["type"] = "market"
        response = await self.request("POST", "/orders", json=body)
        refusal = _refusal(action.client_order_id, response)
        if refusal is None and response.json().get("status") == "REJECTED":
            reason = response.json().get("reject_reason") or "rejected"
            return Refusal(action.client_order_id, str(reason))
        return refusal

    async def _cancel(self, client_order_id: str) -> Refusal | None:
        response = await self.request("DELETE", "/orders", params={"client_order_id": client_order_id})
        return _refusal(client_order_id, response)


def _refusal(client_order_id: str, response: httpx.Response) -> Refusal | None:
    """None for a 2xx; the error's code for a 4xx; raises for anything else."""
    if response.is_success:
        return None
    if not response.is_client_error:
        response.raise_for_status()
    try:
        code = str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        code = str(response.status_code)
    return Refusal(client_order_id, code)


def _retry_after(response: httpx.Response) -> float:
    """The seconds a 429 asks to wait (at least a little, so a retry is not at once)."""
    try:
        return max(0.05, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0
