"""The avatar archive: images kept once per SHA-256, bounded by size and retention, served by our app."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.features.avatars import archive, retention, service
from kyrios.features.avatars.archive import ArchiveLimits
from kyrios.features.avatars.colour import image_facts
from kyrios.features.avatars.fetch import FetchFailed, fetch_image
from kyrios.features.avatars.models import AvatarBlob, AvatarHistory, AvatarKind
from kyrios.features.avatars.service import AvatarChange
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.main import create_app
from tests.e2e.gateway_helpers import eventually
from tests.features.test_avatars import picture
from tests.features.test_locale import ask
from tests.helpers import count_rows, invoke, text_of
from tests.web.auth_helpers import client

SITE = "https://kyrios.example"
BLUE, RED, GREEN = (0, 128, 255), (220, 20, 20), (20, 200, 60)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Links to the archive use KYRIOS_PUBLIC_URL (a trailing slash is dropped)."""
    return settings.model_copy(update={"public_url": SITE + "/"})


def image(colour: tuple[int, int, int]) -> bytes:
    return picture("PNG", colour, (255, 255, 255))


async def record(
    rt: Runtime,
    clock: FrozenClock,
    data: bytes | None,
    *,
    user_id: int = 77,
    old: str | None = None,
    new: str = "https://cdn/new.png",
    kind: AvatarKind = AvatarKind.AVATAR_CHANGE,
    guild_id: int | None = None,
    limits: ArchiveLimits | None = None,
) -> AvatarHistory:
    facts = image_facts(data) if data is not None else None
    change = AvatarChange(user_id, kind, old, new, clock.now(), guild_id=guild_id, image=facts, data=data)
    async with rt.db.transaction() as session:
        row = await service.record_change(session, change, limits=limits)
        session.expunge(row)
    return row


async def blob_shas(rt: Runtime) -> set[str]:
    async with rt.db.read() as session:
        return set(await session.scalars(select(AvatarBlob.sha256)))


async def test_the_same_image_is_stored_once_and_the_old_image_is_linked(
    runtime: Runtime, clock: FrozenClock
) -> None:
    blue = image(BLUE)
    first = await record(runtime, clock, blue, user_id=77, new="https://cdn/77/a.png")
    clock.advance(timedelta(hours=1))
    await record(runtime, clock, blue, user_id=78, new="https://cdn/78/a.png")  # another user, same image
    clock.advance(timedelta(hours=1))
    red = image(RED)
    second = await record(runtime, clock, red, user_id=77, old="https://cdn/77/a.png", new="https://cdn/77/b")
    sha_blue = hashlib.sha256(blue).hexdigest()
    assert first.new_sha256 == sha_blue and first.old_sha256 is None
    assert (second.old_sha256, second.new_sha256) == (sha_blue, hashlib.sha256(red).hexdigest())
    assert await blob_shas(runtime) == {sha_blue, hashlib.sha256(red).hexdigest()}
    async with runtime.db.read() as session:
        stored = await archive.blob(session, sha_blue)
        assert stored is not None
        assert (stored.data, stored.content_type, stored.size) == (blue, "image/png", len(blue))
        assert stored.stored_at == clock.now() - timedelta(hours=2)
        assert stored.last_seen_at == clock.now() - timedelta(hours=1)  # seen again for user 78


async def test_the_size_limit_drops_the_least_recently_seen_images_first(
    runtime: Runtime, clock: FrozenClock
) -> None:
    blue, red, green = image(BLUE), image(RED), image(GREEN)
    limits = ArchiveLimits(max_image_bytes=10_000, max_total_bytes=len(blue) + len(red) + len(green) - 1)
    first = await record(runtime, clock, blue, user_id=1, limits=limits)
    clock.advance(timedelta(minutes=1))
    await record(runtime, clock, red, user_id=2, limits=limits)
    clock.advance(timedelta(minutes=1))
    await record(runtime, clock, blue, user_id=3, limits=limits)  # blue is seen again: red is now oldest
    clock.advance(timedelta(minutes=1))
    await record(runtime, clock, green, user_id=4, limits=limits)
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in (("b", blue), ("r", red), ("g", green))}
    assert await blob_shas(runtime) == {sha["b"], sha["g"]}
    async with runtime.db.read() as session:
        assert await archive.total_bytes(session) <= limits.max_total_bytes
        rows = {r.user_id: r for r in await session.scalars(select(AvatarHistory))}
    assert rows[2].new_sha256 is None and rows[2].image_format == "png"  # forgotten, the row stays
    assert rows[1].new_sha256 == first.new_sha256 == sha["b"] and rows[4].new_sha256 == sha["g"]
    reply = await invoke(runtime, "avatar history", user="2")
    assert "(https://cdn/new.png)" in text_of(reply)  # no archived copy: the CDN URL is all we have


async def test_an_oversized_or_unfetched_image_is_recorded_without_bytes(
    runtime: Runtime, clock: FrozenClock
) -> None:
    big = image(BLUE)
    row = await record(runtime, clock, big, limits=ArchiveLimits(max_image_bytes=len(big) - 1))
    clock.advance(timedelta(minutes=1))
    unfetched = await record(runtime, clock, None, old="https://cdn/new.png", new="https://cdn/gone.png")
    assert row.new_sha256 is None and row.image_size == len(big)
    assert (unfetched.old_sha256, unfetched.new_sha256, unfetched.image_format) == (None, None, None)
    assert await count_rows(runtime, AvatarBlob) == 0
    text = text_of(await invoke(runtime, "avatar history", user="77"))
    assert "2 changes" in text and "(https://cdn/gone.png)" in text and "/avatars/" not in text


async def test_the_cdn_fetch_refuses_errors_and_bodies_over_the_cap() -> None:
    body = image(BLUE)

    def cdn(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing.png":
            return httpx.Response(404, text="404: Not Found")
        if request.url.path == "/streamed.png":  # no Content-Length: the cap applies while reading
            return httpx.Response(
                200, stream=httpx.ByteStream(body), headers={"Transfer-Encoding": "chunked"}
            )
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as http:
        assert await fetch_image(http, "https://cdn.test/ok.png", max_bytes=len(body)) == body
        with pytest.raises(FetchFailed, match="404"):
            await fetch_image(http, "https://cdn.test/missing.png", max_bytes=len(body))
        with pytest.raises(FetchFailed, match="cap"):
            await fetch_image(http, "https://cdn.test/ok.png", max_bytes=len(body) - 1)
        with pytest.raises(FetchFailed, match="cap"):
            await fetch_image(http, "https://cdn.test/streamed.png", max_bytes=len(body) - 1)


async def test_retention_removes_expired_history_then_the_images_nothing_names(
    runtime: Runtime, clock: FrozenClock
) -> None:
    blue, red, green = image(BLUE), image(RED), image(GREEN)
    assert not (await invoke(runtime, "settings set", admin=True, guild_id=2, retention_days=5)).is_error
    await record(runtime, clock, blue, user_id=1)  # global: kept 30 days (the longest retention)
    await record(runtime, clock, red, user_id=1, kind=AvatarKind.SERVER_AVATAR_CHANGE, guild_id=2)
    await record(runtime, clock, red, user_id=2, kind=AvatarKind.SERVER_AVATAR_CHANGE, guild_id=1)  # 30 days
    clock.advance(timedelta(days=6))
    await record(runtime, clock, green, user_id=3, kind=AvatarKind.SERVER_AVATAR_CHANGE, guild_id=2)
    limits = ArchiveLimits()
    purged = await retention.purge_archive(runtime.db, now=clock.now(), limits=limits)
    assert (purged.history, purged.unreferenced) == (1, 0)  # red is still named by guild 1's row
    assert await count_rows(runtime, AvatarHistory) == 3 and len(await blob_shas(runtime)) == 3

    clock.advance(timedelta(days=25))  # 31 days after the first three, 25 after green's 5-day row
    purged = await retention.purge_archive(runtime.db, now=clock.now(), limits=limits)
    assert (purged.history, purged.unreferenced, purged.over_limit) == (3, 3, 0)
    assert await blob_shas(runtime) == set() and await count_rows(runtime, AvatarHistory) == 0

    # An unreferenced blob seen within the grace period stays (a change may be about to name it).
    await record(runtime, clock, green, user_id=3, kind=AvatarKind.SERVER_AVATAR_CHANGE, guild_id=2)
    await record(runtime, clock, None, user_id=4)  # a change without an image
    clock.advance(timedelta(days=6))
    async with runtime.db.transaction() as session:
        assert await retention.purge_history(session, now=clock.now()) == 1
        assert await retention.sweep(session, now=clock.now(), grace=timedelta(days=7)) == 0
        assert await retention.sweep(session, now=clock.now()) == 1
    assert await blob_shas(runtime) == set() and await count_rows(runtime, AvatarHistory) == 1


async def test_the_hourly_job_and_kyrios_cleanup_purge_the_archive(
    runtime: Runtime, clock: FrozenClock, database_url: str
) -> None:
    await record(runtime, clock, image(BLUE), user_id=1)
    await record(runtime, clock, image(RED), user_id=2)
    stop = asyncio.Event()
    job = asyncio.create_task(
        retention.run_archive_job(
            runtime.db, clock, ArchiveLimits(), interval=timedelta(seconds=0.05), stop=stop
        )
    )
    clock.advance(timedelta(days=31))

    async def purged() -> bool:
        return await count_rows(runtime, AvatarBlob) == 0

    await eventually(purged)
    stop.set()
    await asyncio.wait_for(job, timeout=5)
    assert await count_rows(runtime, AvatarHistory) == 0

    # The CLI runs on the real clock, months after the test clock's 2026-03.
    await record(runtime, clock, image(GREEN), user_id=3)
    env = {**os.environ, "KYRIOS_DATABASE_URL": database_url, "NO_COLOR": "1", "COLUMNS": "120"}
    command = [sys.executable, "-m", "kyrios.cli", "cleanup"]
    result = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "removed 1 avatar changes and 1 archived images" in result.stdout
    assert await count_rows(runtime, AvatarBlob) == 0


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with client(create_app(runtime)) as http:
        yield http


async def test_the_route_serves_the_exact_bytes_with_cache_headers(
    runtime: Runtime, clock: FrozenClock, http: httpx.AsyncClient
) -> None:
    gif = picture("GIF", RED, BLUE)
    row = await record(runtime, clock, gif)
    sha = hashlib.sha256(gif).hexdigest()
    assert row.new_sha256 == sha
    served = await http.get(f"/avatars/{sha}.gif")
    assert served.status_code == 200 and served.content == gif
    assert served.headers["content-type"] == "image/gif"
    assert "immutable" in served.headers["cache-control"] and served.headers["etag"] == f'"{sha}"'
    again = await http.get(f"/avatars/{sha}.png", headers={"If-None-Match": f'"{sha}"'})
    assert again.status_code == 304 and again.content == b""
    noise = io.BytesIO()  # over MySQL's 64 KiB BLOB: the column must be a LONGBLOB there
    Image.frombytes("RGB", (200, 200), random.Random(7).randbytes(200 * 200 * 3)).save(noise, "PNG")
    big = noise.getvalue()
    assert len(big) > 64 * 1024
    await record(runtime, clock, big, user_id=78)
    served = await http.get(f"/avatars/{hashlib.sha256(big).hexdigest()}.png")
    assert served.content == big and served.headers["content-type"] == "image/png"
    for missing in (f"/avatars/{'0' * 64}.png", "/avatars/not-a-hash.png", f"/avatars/{sha[:-1]}.gif"):
        assert (await http.get(missing)).status_code == 404, missing


async def test_history_links_the_archived_images_in_english_and_japanese(
    runtime: Runtime, clock: FrozenClock
) -> None:
    blue, red = image(BLUE), image(RED)
    await record(runtime, clock, blue, new="https://cdn/a.png")
    clock.advance(timedelta(days=1))
    await record(runtime, clock, red, old="https://cdn/a.png", new="https://cdn/b.png")
    old_url = f"{SITE}/avatars/{hashlib.sha256(blue).hexdigest()}.png"
    new_url = f"{SITE}/avatars/{hashlib.sha256(red).hexdigest()}.png"
    english = await invoke(runtime, "avatar history", user="77")
    assert f"[old]({old_url}) → [new]({new_url})" in text_of(english)
    assert english.embeds[0].thumbnail_url == new_url and "cdn/" not in text_of(english)
    japanese = await ask(runtime, "avatar history", user_locale="ja", user="77")
    text = text_of(japanese)
    assert f"({old_url}) → [" in text and f"]({new_url})" in text and "[old]" not in text
    assert japanese.embeds[0].thumbnail_url == new_url
