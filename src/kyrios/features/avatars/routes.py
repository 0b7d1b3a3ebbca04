"""`GET /avatars/{sha256}.{ext}`: an archived avatar or banner, the exact bytes the CDN once served.

The name is the image's SHA-256, so a URL's content never changes: browsers and Discord's image
proxy may cache it for good (`immutable`, an ETag answered with 304). The extension is ignored;
the stored content type is sent. No sign-in: avatars are public, and the hash cannot be guessed.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request, Response

from kyrios.core.db import Database
from kyrios.features.avatars import archive

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
CACHE_FOREVER = "public, max-age=31536000, immutable"


def build_router(db: Database) -> APIRouter:
    """The archive's one route, reading `db`."""
    router = APIRouter()

    @router.get("/avatars/{name}", include_in_schema=False)
    async def archived_image(name: str, request: Request) -> Response:
        sha256 = name.partition(".")[0].lower()
        if not SHA256_HEX.fullmatch(sha256):
            raise HTTPException(404, "no such image")
        etag = f'"{sha256}"'
        headers = {"Cache-Control": CACHE_FOREVER, "ETag": etag, "X-Content-Type-Options": "nosniff"}
        async with db.read() as session:
            found = await archive.blob(session, sha256)
            if found is None:
                raise HTTPException(404, "no such image")
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers=headers)
            return Response(found.data, media_type=found.content_type, headers=headers)

    return router
