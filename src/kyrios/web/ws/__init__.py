"""The WebSocket API, `/ws`: live market data and the user's own order updates.

One endpoint; JSON text frames, each with `channel` and `type`. Requests:
`{"op": "subscribe" | "unsubscribe", "channels": [...]}` and `{"op": "auth", "token": JWT}` (or
the access cookie on the upgrade request). Answers on channel `system`: `subscribed`,
`unsubscribed`, `authenticated`, `error` (`code`, `message` in the connection's language:
`?locale=` or the upgrade's `Accept-Language`; `subject`: the channel refused), `heartbeat`.

Channels:
- `trades:SYM`: `trade` frames (`id`: the execution id GET /api/v1/trades/SYM returns, so a client
  can de-duplicate against that history; `seq`, `price_cents`, `quantity`, `taker_side`, `ts` ms);
- `book:SYM`: a `snapshot` (every level, `seq` as GET /api/v1/depth, `checksum`), then `delta`
  frames, one per tick, with `seq`, `prev_seq` (the previous frame's `seq`: anything else is a
  gap, so re-subscribe), the changed levels' absolute quantities (0 deletes the level) and the
  `checksum` of the book after it (see `book.py` for the exact string). A snapshot may come
  again at any time (the server fell behind): start over from it;
- `candles:SYM:1m`: `candle` frames, the in-progress bar (`closed: false`) after each tick with
  trades, the final one (`closed: true`) when the next minute's first trade arrives or a second after
  the minute ends; `time` is the bar's start in UTC epoch seconds;
- `ticker`: a `snapshot` of every symbol, then `update`s of those that changed, at most once a
  second;
- `user` (signed in; `user:ACCOUNT` for one's own account only): `order` frames when an order
  changes (`id`, `status`, `filled_quantity`, `remaining_quantity`), then a `fill` frame per new
  execution of the account (as GET /api/v1/me/executions shows it: `id`, `order_id`, `side`,
  `liquidity`, `price_cents`, `quantity`, `executed_at`).

A client whose queue of unsent frames fills up is closed with code 4008.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, WebSocket
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from kyrios.runtime import Runtime
from kyrios.web.auth.kit import AuthKit
from kyrios.web.ws.endpoint import serve
from kyrios.web.ws.hub import Hub, HubLimits


def install(app: FastAPI, runtime: Runtime, auth: AuthKit) -> Hub:
    """Mount `/ws` on `app`; its hub is `app.state.ws_hub` (tests tune `hub.limits`)."""
    hub = Hub(runtime)
    router = APIRouter()

    @router.websocket("/ws")
    async def websocket(websocket: WebSocket) -> None:
        await serve(websocket, hub, auth)

    app.include_router(router)
    app.state.ws_hub = hub
    runtime.metrics.attach("ws", lambda: _clients(hub))
    return hub


def _clients(hub: Hub) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    yield GaugeMetricFamily("kyrios_ws_clients", "Open WebSocket connections.", value=len(hub.clients))
    yield CounterMetricFamily(
        "kyrios_ws_dropped",
        "WebSocket clients closed as slow consumers (their queue filled up).",
        value=hub.dropped,
    )


__all__ = ["Hub", "HubLimits", "install"]
