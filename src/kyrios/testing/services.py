"""`python -m kyrios.testing.services URL…`: fail loudly unless every database/Redis URL answers."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import text

from kyrios.core.db import Database


async def check(url: str) -> str | None:
    """None when the service at `url` answers, otherwise why not."""
    try:
        if url.startswith("redis"):
            from redis.asyncio import Redis

            client = Redis.from_url(url)
            try:
                await asyncio.wait_for(client.ping(), 5)
            finally:
                await client.aclose()
            return None
        db = Database(url)
        try:
            async with asyncio.timeout(10), db.read() as session:
                await session.execute(text("SELECT 1"))
        finally:
            await db.dispose()
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


async def main(urls: list[str]) -> int:
    """Check every URL; print one line each."""
    failures = 0
    for url in urls:
        problem = await check(url)
        print(f"{'ok ' if problem is None else 'DOWN'} {url}" + (f" — {problem}" if problem else ""))
        failures += problem is not None
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
