"""yt-dlp resolution for real, against a local HTTP server serving a generated tone."""

from __future__ import annotations

import pytest
from yt_dlp.utils import DownloadError

from kyrios.core.errors import InvalidInput, NotFound, Unavailable
from kyrios.features.music.resolver import Resolver, check_link, expiry_of, explain, looks_like_link
from tests.features.music_audio import audio_server, tone


async def test_a_direct_audio_link_resolves_to_its_stream() -> None:
    async with audio_server({"tone.wav": tone(1.0)}) as base:
        [track] = await Resolver(timeout=20).resolve(f"{base}/tone.wav", limit=10)
        assert track.title == "tone"
        assert track.webpage_url == f"{base}/tone.wav" and track.stream_url == f"{base}/tone.wav"
        again = await Resolver(timeout=20).stream(track.webpage_url)  # the re-resolve of an expired stream
        assert again.stream_url == f"{base}/tone.wav"


async def test_a_missing_file_a_page_without_media_and_a_malformed_link_are_refused() -> None:
    async with audio_server({}) as base:
        with pytest.raises(NotFound) as missing:
            await Resolver(timeout=20).resolve(f"{base}/missing.wav", limit=1)
        assert "missing or unavailable" in missing.value.message
        with pytest.raises(NotFound) as page:
            await Resolver(timeout=20).resolve(f"{base}/page", limit=1)
        assert "no audio" in page.value.message
    for bad in ("htp:/nothing", "ftp://example.com/a.mp3", "https://", "https://exa mple.com/a"):
        assert looks_like_link(bad) or bad.startswith("htp")
        with pytest.raises(InvalidInput):
            await Resolver().resolve(bad, limit=1)
    assert not looks_like_link("never gonna give you up")
    assert check_link(" https://example.com/a.mp3 ") == "https://example.com/a.mp3"


async def test_a_source_that_never_answers_times_out() -> None:
    async with audio_server({"tone.wav": tone(0.2)}) as base:
        resolver = Resolver(timeout=1.0, socket_timeout=1.0)
        with pytest.raises(Unavailable) as slow:
            await resolver.resolve(f"{base}/slow/tone.wav", limit=1)
        assert "too long" in slow.value.message


def test_youtubes_bot_check_is_explained_with_the_cookies_remedy() -> None:
    refusal = DownloadError(
        "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser"
    )
    explained = explain(refusal)
    assert isinstance(explained, Unavailable)
    assert "KYRIOS_MUSIC_COOKIES_FILE" in explained.message and "cookies.txt" in explained.message


def test_stream_expiry_is_read_from_the_link() -> None:
    expires = expiry_of("https://rr1.googlevideo.com/videoplayback?expire=1767225600&ei=x")
    assert expires is not None and expires.year == 2026
    assert expiry_of("http://127.0.0.1/tone.wav") is None
