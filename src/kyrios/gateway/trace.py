"""Discord REST metrics for the gateway bot: discord.py's own HTTP session, traced.

The bot's requests go through discord.py's HTTP client and rate limiter, not `RestDiscordPort`;
an aiohttp `TraceConfig` (discord.py's `http_trace`) sees each response and counts it into the same
`kyrios_discord_*` metrics, per route template (snowflakes become `{id}`; webhook and interaction
tokens `{token}`, never printed).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import aiohttp

from kyrios.ops.metrics import DiscordMetrics

_API = re.compile(r"^.*?/api/v\d+")
_TOKEN_AFTER = ("webhooks", "interactions")


def route_of(method: str, path: str) -> str | None:
    """`POST /channels/{id}/messages` for `/api/v10/channels/123/messages`; None outside the API."""
    match = _API.match(path)
    if match is None:
        return None
    parts = path[match.end() :].strip("/").split("/")
    template = []
    for index, part in enumerate(parts):
        if part.isdigit():
            template.append("{id}")
        elif index >= 2 and parts[index - 2] in _TOKEN_AFTER and parts[index - 1].isdigit():
            template.append("{token}")
        elif index >= 1 and parts[index - 1] == "reactions":
            template.append("{emoji}")
        else:
            template.append(part)
    return f"{method} /{'/'.join(template)}"


def discord_trace(metrics: DiscordMetrics) -> aiohttp.TraceConfig:
    """A trace that counts every Discord API response into `metrics`."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(
        _session: aiohttp.ClientSession, _context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        route = route_of(params.method, params.url.path)
        if route is None:  # the gateway's own WebSocket upgrade
            return
        response = params.response
        headers = response.headers
        metrics.answered(
            route, response.status, headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Limit")
        )
        if response.status == 429:
            scope = (
                "global" if headers.get("X-RateLimit-Global") else headers.get("X-RateLimit-Scope", "user")
            )
            metrics.limited(route, scope)

    trace.on_request_end.append(on_request_end)
    return trace
