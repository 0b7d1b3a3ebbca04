"""Reading an image from Discord's CDN: a timeout, and a size cap that stops reading past it."""

from __future__ import annotations

import httpx

FETCH_TIMEOUT_SECONDS = 10.0


class FetchFailed(Exception):
    """The CDN did not give us the image (an error status, a timeout, or more bytes than allowed)."""


def cdn_client(timeout: float = FETCH_TIMEOUT_SECONDS) -> httpx.AsyncClient:
    """The HTTP client the avatar cog reads images with (`aclose()` it)."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=True)


async def fetch_image(client: httpx.AsyncClient, url: str, *, max_bytes: int) -> bytes:
    """The body of `url`, refused (`FetchFailed`) when it is not a 200 or exceeds `max_bytes`
    (announced by Content-Length, or found while streaming: the rest is never read)."""
    try:
        async with client.stream("GET", url) as response:
            if response.status_code != httpx.codes.OK:
                raise FetchFailed(f"HTTP {response.status_code}")
            announced = response.headers.get("content-length")
            if announced is not None and announced.isdigit() and int(announced) > max_bytes:
                raise FetchFailed(f"{announced} bytes is over the {max_bytes}-byte cap")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchFailed(f"more than the {max_bytes}-byte cap")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc
