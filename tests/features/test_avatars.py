"""Avatar history: dominant colour from real images, history and stats written together, the commands."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from kyrios.core.clock import FrozenClock
from kyrios.features.avatars import service
from kyrios.features.avatars.colour import UnreadableImage, image_facts
from kyrios.features.avatars.models import AvatarHistory, AvatarKind, AvatarStats
from kyrios.features.avatars.service import AvatarChange
from kyrios.runtime import Runtime
from tests.helpers import count_rows, invoke, press, text_of

USER = 77


def picture(fmt: str, main: tuple[int, int, int], other: tuple[int, int, int], share: float = 0.3) -> bytes:
    """A 128×128 image: `other` fills the left `share`, `main` the rest."""
    image = Image.new("RGB", (128, 128), main)
    image.paste(Image.new("RGB", (int(128 * share), 128), other), (0, 0))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "JPEG", "WEBP"])
def test_dominant_colour_format_and_size_of_real_images(fmt: str) -> None:
    data = picture(fmt, (200, 30, 40), (10, 20, 250))
    facts = image_facts(data)
    assert facts.image_format == fmt.lower()
    assert facts.size == len(data)
    red, green, blue = (int(facts.dominant_color[i : i + 2], 16) for i in (1, 3, 5))
    assert abs(red - 200) <= 6 and abs(green - 30) <= 6 and abs(blue - 40) <= 6


def test_transparent_pixels_do_not_count() -> None:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (10, 10), (0, 255, 0, 255)), (0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    assert image_facts(out.getvalue()).dominant_color == "#00ff00"


def test_garbage_is_not_an_image() -> None:
    with pytest.raises(UnreadableImage):
        image_facts(b"<html>not found</html>")


async def change(
    rt: Runtime, clock: FrozenClock, kind: AvatarKind, fmt: str = "PNG", *, guild_id: int | None = None
) -> None:
    data = picture(fmt, (0, 128, 255), (255, 255, 255))
    event = AvatarChange(
        USER,
        kind,
        "https://cdn/old.png",
        "https://cdn/new.png",
        clock.now(),
        guild_id=guild_id,
        image=image_facts(data),
    )
    async with rt.db.transaction() as session:
        await service.record_change(session, event)


async def test_stats_follow_the_history_in_the_same_transaction(runtime: Runtime, clock: FrozenClock) -> None:
    first = clock.now()
    await change(runtime, clock, AvatarKind.AVATAR_CHANGE, "PNG")
    clock.advance(timedelta(days=2))
    await change(runtime, clock, AvatarKind.AVATAR_CHANGE, "GIF")
    clock.advance(timedelta(days=4))
    await change(runtime, clock, AvatarKind.BANNER_CHANGE, "GIF")
    clock.advance(timedelta(days=3))
    await change(runtime, clock, AvatarKind.SERVER_AVATAR_CHANGE, "PNG", guild_id=1)
    await change(runtime, clock, AvatarKind.SERVER_AVATAR_CHANGE, "GIF", guild_id=2)
    async with runtime.db.read() as session:
        stats = await service.stats_of(session, USER)
    assert stats is not None
    assert (stats.total_avatar_changes, stats.total_banner_changes, stats.total_server_avatar_changes) == (
        2,
        1,
        2,
    )
    assert stats.first_seen_at == first and stats.first_change_at == first
    assert stats.last_change_at == clock.now() and stats.last_banner_change_at == first + timedelta(days=6)
    assert stats.average_change_interval_days == pytest.approx(9 / 4)
    assert stats.most_used_format == "gif"
    assert stats.banner_url == "https://cdn/new.png"
    assert await count_rows(runtime, AvatarHistory, user_id=USER) == 5


async def test_a_failed_transaction_leaves_neither_history_nor_stats(
    runtime: Runtime, clock: FrozenClock
) -> None:
    with pytest.raises(RuntimeError):
        async with runtime.db.transaction() as session:
            event = AvatarChange(USER, AvatarKind.AVATAR_CHANGE, None, "https://cdn/a.png", clock.now())
            await service.record_change(session, event)
            raise RuntimeError("crash after the history row")
    assert await count_rows(runtime, AvatarHistory) == 0
    assert await count_rows(runtime, AvatarStats) == 0


async def test_history_pages_and_shows_colours_and_server_avatars_of_this_guild_only(
    runtime: Runtime, clock: FrozenClock
) -> None:
    for _ in range(9):
        await change(runtime, clock, AvatarKind.AVATAR_CHANGE)
        clock.advance(timedelta(hours=5))
    await change(runtime, clock, AvatarKind.SERVER_AVATAR_CHANGE, guild_id=2)
    reply = await invoke(runtime, "avatar history", user=str(USER))
    text = text_of(reply)
    assert "9 changes" in text and "Page 1/2" in text and "`#0080ff`" in text and "png" in text
    assert reply.embeds[0].colour == 0x0080FF
    next_id = reply.buttons[0][2].custom_id
    assert next_id is not None
    second = await press(runtime, next_id, user_id=5)
    assert "Page 2/2" in text_of(second)
    other_guild = await invoke(runtime, "avatar history", guild_id=2, user=str(USER))
    assert "10 changes" in text_of(other_guild) and "server avatar" in text_of(other_guild)


async def test_stats_command_reads_like_a_profile(runtime: Runtime, clock: FrozenClock) -> None:
    empty = await invoke(runtime, "avatar stats", user=str(USER))
    assert "No avatar changes" in (empty.content or "")
    await change(runtime, clock, AvatarKind.AVATAR_CHANGE)
    clock.advance(timedelta(days=10))
    await change(runtime, clock, AvatarKind.AVATAR_CHANGE)
    text = text_of(await invoke(runtime, "avatar stats", user=str(USER)))
    assert "Avatar changes: 2" in text and "Average time between changes: 10.0 days" in text
    assert "Most used format: png" in text
