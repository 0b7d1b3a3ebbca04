"""`DiscordPort` on discord.py's HTTP client, used while the gateway bot runs.

discord.py already keeps Discord's per-route buckets and the global limit, waits out 429s (up
to the client's `max_ratelimit_timeout`, raising `discord.RateLimited` past it) and retries 5xx;
this only builds the requests and turns discord.py's exceptions into the port's errors.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, Route

from kyrios.core.discord_api import ApiCall, DiscordApi, port_error
from kyrios.core.ports import DiscordError, DiscordRateLimited


class GatewayDiscordPort(DiscordApi):
    """The port through a logged-in client's `HTTPClient` (shares its rate limiter and session)."""

    def __init__(self, http: HTTPClient) -> None:
        self.http = http

    async def _call(self, call: ApiCall) -> Any:
        """One request through discord.py; its failures become `DiscordError`s."""
        route = Route(call.method, call.route, metadata=None, **call.params)
        options: dict[str, Any] = {}
        if call.files:
            options["form"] = [
                {"name": "payload_json", "value": call.payload_json()},
                *(
                    {
                        "name": f"files[{index}]",
                        "value": upload.data,
                        "filename": upload.filename,
                        "content_type": upload.content_type,
                    }
                    for index, upload in enumerate(call.files)
                ),
            ]
        elif call.json is not None:
            options["json"] = call.json
        if call.query:
            options["params"] = dict(call.query)
        if call.reason:
            options["reason"] = call.reason
        try:
            return await self.http.request(route, **options)
        except discord.RateLimited as exc:
            raise DiscordRateLimited(exc.retry_after) from exc
        except discord.HTTPException as exc:
            raise port_error(exc.status, exc.code, exc.text or str(exc)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DiscordError(0, 0, f"Discord could not be reached: {exc}") from exc
