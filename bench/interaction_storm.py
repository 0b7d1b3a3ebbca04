"""A storm of concurrent signed `/gacha pull` interactions: how many answers miss Discord's 3 s?

    python bench/interaction_storm.py [--clients 2000] [--seconds 15] [--database-url URL]

Starts the real server (`uvicorn`, one worker) like `bench/interactions.py`, then keeps
`--clients` keep-alive connections each sending a pull as soon as the previous one is answered.
Prints how many answers took longer than 3 s, the slowest, and how many were deferred (type 5):
a deferral is in time for Discord, and its reply goes out later through the webhook (here to a
closed local port, so those deliveries fail at once instead of reaching discord.com).
`--database-url` runs it on MariaDB or PostgreSQL (Kyrios's tables there are migrated, and
the bench users get points). Closed-loop clients send again as soon as they get a deferral,
so well past the server's capacity the backlog of deferred commands only grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import run_load
from interactions import HOST, free_port, seed, signed_pull_requests, start_server, wait_ready
from kyrios.testing.interactions import InteractionSigner

DISCORD_DEADLINE_SECONDS = 3.0
UNREACHABLE_DISCORD = "http://127.0.0.1:9/api/v10"


async def main() -> None:
    """Run the storm and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    os.environ["KYRIOS_DISCORD_API_BASE"] = UNREACHABLE_DISCORD  # the server inherits it
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'storm.db'}"
        signer = InteractionSigner()
        await seed(database_url, args.users)
        requests = iter(signed_pull_requests(signer, args.users, int(3000 * args.seconds) + 5000))
        port = free_port()
        server = start_server(database_url, signer.public_key_hex, port)
        kinds: Counter[int] = Counter()

        def count(body: bytes) -> bool:
            kinds[int(json.loads(body).get("type", 0))] += 1
            return True

        try:
            wait_ready(port)
            result = await run_load(
                HOST,
                port,
                lambda: next(requests),
                clients=args.clients,
                seconds=args.seconds,
                check_body=count,
            )
        finally:
            server.terminate()
            server.wait(120)  # it delivers the late replies still running before it exits
    print(
        json.dumps(
            {
                "answers": result.requests,
                "over_3s": sum(1 for s in result.latencies if s > DISCORD_DEADLINE_SECONDS),
                "slowest_s": round(max(result.latencies), 2),
                "p99_ms": round(result.percentile_ms(99)),
                "callback_types": {str(kind): n for kind, n in sorted(kinds.items())},
                "statuses": result.statuses,
                "clients": args.clients,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
