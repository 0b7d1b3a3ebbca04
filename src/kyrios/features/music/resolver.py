"""Sources through yt-dlp's Python API: a link (YouTube, SoundCloud, Bandcamp, a direct audio file,
a playlist) or search words become `TrackInfo`s. yt-dlp blocks, so it runs in a thread, bounded by
a timeout (and its own socket timeout, which ends the thread too). Failures become `DomainError`s
whose words say what the member or the operator can do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kyrios.core.errors import DomainError, InvalidInput, NotFound, Unavailable
from kyrios.features.music.service import TrackInfo

SEARCH_RESULTS = 5
BOT_CHECK_MARKERS = ("confirm you're not a bot", "confirm you’re not a bot", "sign in to confirm")


@dataclass(frozen=True)
class Choice:
    """A search result offered as a button: `pick` is what `/play` resolves when it is chosen."""

    title: str
    pick: str
    duration_seconds: int | None = None
    uploader: str | None = None


def looks_like_link(query: str) -> bool:
    """Whether `/play`'s text is meant as a link (else it is searched for)."""
    text = query.strip()
    return "://" in text or text.lower().startswith(("www.", "http:", "https:"))


def check_link(query: str) -> str:
    """The link, or `InvalidInput` when it is not an http(s) link with a host."""
    text = query.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise InvalidInput("That is not a link I can play: use an http(s) link, or search words.")
    return text


def expiry_of(stream_url: str) -> datetime | None:
    """When a stream URL stops working, where it says so (YouTube's `expire=` parameter)."""
    values = parse_qs(urlsplit(stream_url).query).get("expire")
    if not values or not values[0].isdigit():
        return None
    return datetime.fromtimestamp(int(values[0]), UTC)


def explain(error: BaseException) -> DomainError:
    """yt-dlp's failure as words for the member (and the operator's remedy where there is one)."""
    text = str(error).lower()
    if any(marker in text for marker in BOT_CHECK_MARKERS):
        return Unavailable(
            "YouTube refused this server (“Sign in to confirm you're not a bot”). The bot's operator can"
            " set KYRIOS_MUSIC_COOKIES_FILE to a cookies.txt file (Netscape format) exported from a"
            " signed-in browser; until then, try a SoundCloud, Bandcamp or direct link."
        )
    if "unsupported url" in text:
        return NotFound("I found no audio at that link.")
    if "timed out" in text or "timeout" in text:
        return Unavailable("The source took too long to answer; try again later.")
    if any(code in text for code in ("404", "410", "not found", "unavailable", "private video")):
        return NotFound("Nothing can be played at that link (it is missing or unavailable).")
    return Unavailable("I could not play that source: it failed to load.")


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _info(entry: Mapping[str, Any], fallback_url: str) -> TrackInfo:
    stream = entry.get("url") if entry.get("_type", "video") == "video" else None
    stream_url = str(stream) if stream and entry.get("ie_key") is None else None
    webpage = entry.get("webpage_url") or entry.get("original_url") or entry.get("url") or fallback_url
    return TrackInfo(
        title=str(entry.get("title") or entry.get("id") or fallback_url)[:300],
        webpage_url=str(webpage),
        uploader=entry.get("uploader") or entry.get("channel") or entry.get("artist"),
        duration_seconds=_int(entry.get("duration")),
        thumbnail_url=entry.get("thumbnail") or _first_thumbnail(entry),
        stream_url=stream_url,
        stream_expires_at=None if stream_url is None else expiry_of(stream_url),
    )


def _first_thumbnail(entry: Mapping[str, Any]) -> str | None:
    thumbnails = entry.get("thumbnails") or []
    return str(thumbnails[-1]["url"]) if thumbnails and "url" in thumbnails[-1] else None


@dataclass(frozen=True)
class Resolver:
    """yt-dlp with the deployment's options: a cookies file (the remedy for YouTube's bot check),
    the whole call's timeout and the socket timeout of each request."""

    cookies_file: str | None = None
    timeout: float = 30.0
    socket_timeout: float = 10.0

    def _options(self, **extra: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "format": "bestaudio/best",
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "skip_download": True,
            "socket_timeout": self.socket_timeout,
            "extractor_retries": 0,
            "retries": 0,
            "logger": _Silent(),
        }
        if self.cookies_file:
            options["cookiefile"] = self.cookies_file
        return options | extra

    def _extract(self, target: str, options: dict[str, Any]) -> dict[str, Any]:
        import yt_dlp  # imported here: only a process that plays music pays for it

        with yt_dlp.YoutubeDL(options) as ydl:
            try:
                found = ydl.extract_info(target, download=False)
            except Exception as error:
                _close_responses(error)
                raise
        return dict(found or {})

    async def _run(self, target: str, options: dict[str, Any]) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._extract, target, options), self.timeout)
        except TimeoutError:
            raise Unavailable("The source took too long to answer; try again later.") from None
        except DomainError:
            raise
        except Exception as error:  # yt-dlp raises DownloadError, but extractors leak others
            raise explain(error) from error

    async def resolve(self, link: str, *, limit: int) -> list[TrackInfo]:
        """The track(s) at `link`: one, or a playlist's first `limit` (their streams resolved when
        each plays)."""
        url = check_link(link)
        found = await self._run(url, self._options(extract_flat="in_playlist", playlistend=max(limit, 1)))
        if found.get("_type") in ("playlist", "multi_video"):
            entries = [e for e in found.get("entries") or [] if e][:limit]
            if not entries:
                raise NotFound("This playlist is empty.")
            return [_info(entry, url) for entry in entries]
        if not found:
            raise NotFound("I found no audio at that link.")
        return [_info(found, url)]

    async def search(self, words: str, *, count: int = SEARCH_RESULTS) -> list[Choice]:
        """YouTube's top results for `words` (`ytsearchN:`), to be offered as buttons."""
        found = await self._run(f"ytsearch{count}:{words.strip()}", self._options(extract_flat=True))
        choices = []
        for entry in found.get("entries") or []:
            if not entry or not entry.get("id"):
                continue
            choices.append(
                Choice(
                    title=str(entry.get("title") or entry["id"]),
                    pick=f"https://www.youtube.com/watch?v={entry['id']}",
                    duration_seconds=_int(entry.get("duration")),
                    uploader=entry.get("uploader") or entry.get("channel"),
                )
            )
        if not choices:
            raise NotFound("YouTube found nothing for “{words}”.", words=words[:100])
        return choices

    async def stream(self, webpage_url: str) -> TrackInfo:
        """The track at `webpage_url` with a fresh stream URL (the stored one expired or failed)."""
        found = await self._run(webpage_url, self._options(noplaylist=True))
        info = _info(found, webpage_url)
        if info.stream_url is None:
            raise NotFound("I found no audio at that link.")
        return info


def _close_responses(error: BaseException) -> None:
    """Close the HTTP responses an error chain holds (yt-dlp keeps a 404's socket open in it)."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        response = getattr(item, "response", None)
        if response is not None and hasattr(response, "close"):
            response.close()
        exc_info = getattr(item, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1:
            pending.append(exc_info[1])
        pending += [
            getattr(item, "cause", None),
            getattr(item, "__cause__", None),
            getattr(item, "__context__", None),
        ]


class _Silent:
    """yt-dlp's logger: its messages are not the member's business (errors come back raised)."""

    def debug(self, message: str) -> None:
        """Dropped."""

    def info(self, message: str) -> None:
        """Dropped."""

    def warning(self, message: str) -> None:
        """Dropped."""

    def error(self, message: str) -> None:
        """Dropped (the failure is raised)."""
