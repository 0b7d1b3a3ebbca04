"""Music: a guild's session and its persistent queue. No Discord here: the player asks this module
what to play and tells it what happened.

Invariants: a guild's track positions are 0…n-1, dense and unique: every change of them first
locks the guild's `music_session` row (created if missing), so two `/play`s in one guild queue one
after the other and never share a position. `current_track_id` names a track of the queue or is
None. Tracks before the current one are history, kept only while the queue loops; in the other
modes a track leaves the queue when it ends. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kyrios.core.db import insert_ignore
from kyrios.core.errors import Conflict, InvalidInput, NotFound
from kyrios.core.rng import RandomSource
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.music.models import LoopMode, MusicSession, MusicSettings, MusicSkipVote, MusicTrack

MAX_QUEUE_LENGTH = 1000
MAX_VOLUME = 200
MIN_IDLE_SECONDS, MAX_IDLE_SECONDS = 10, 24 * 60 * 60


@dataclass(frozen=True)
class TrackInfo:
    """A resolved source, before it is queued."""

    title: str
    webpage_url: str
    uploader: str | None = None
    duration_seconds: int | None = None
    thumbnail_url: str | None = None
    stream_url: str | None = None
    stream_expires_at: datetime | None = None


@dataclass(frozen=True)
class Added:
    """What `add` queued, and how many it left out (too long, or no room)."""

    tracks: list[MusicTrack]
    too_long: int
    no_room: int


@dataclass(frozen=True)
class Vote:
    """A skip vote's count: `passed` once `votes` reached `needed`."""

    votes: int
    needed: int
    passed: bool


async def settings(session: AsyncSession, guild_id: int) -> MusicSettings:
    """The guild's music limits (the defaults until an admin changes one)."""
    return await guild_settings.slice_settings(session, MusicSettings, guild_id)


async def configure(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> MusicSettings:
    """Change the guild's music limits (columns of `MusicSettings`), refusing values out of range."""
    length = changes.get("max_queue_length")
    if length is not None and not 1 <= length <= MAX_QUEUE_LENGTH:
        raise InvalidInput("The queue length must be between 1 and {n}.", n=MAX_QUEUE_LENGTH)
    seconds = changes.get("max_track_seconds")
    if seconds is not None and seconds < 0:
        raise InvalidInput("The longest track cannot be negative (0 means no limit).")
    idle = changes.get("idle_timeout_seconds")
    if idle is not None and not MIN_IDLE_SECONDS <= idle <= MAX_IDLE_SECONDS:
        raise InvalidInput(
            "The idle time must be between {low} and {high} seconds.",
            low=MIN_IDLE_SECONDS,
            high=MAX_IDLE_SECONDS,
        )
    return await guild_settings.change_slice_settings(session, MusicSettings, guild_id, now=now, **changes)


async def lock(session: AsyncSession, guild_id: int, now: datetime) -> MusicSession:
    """The guild's session row, created if missing and locked until the transaction ends (a
    locking read, so it sees what another transaction just committed)."""
    values = {
        "guild_id": guild_id,
        "loop_mode": LoopMode.NONE,
        "volume": 100,
        "paused": False,
        "connected": False,
        "elapsed_ms": 0,
        "updated_at": now,
    }
    await session.execute(insert_ignore(session, MusicSession, values))
    row = await session.scalar(
        select(MusicSession)
        .where(MusicSession.guild_id == guild_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def find(session: AsyncSession, guild_id: int) -> MusicSession | None:
    """The guild's session as stored (None before its first `/play`)."""
    return await session.get(MusicSession, guild_id, populate_existing=True)


async def tracks(session: AsyncSession, guild_id: int) -> list[MusicTrack]:
    """The whole queue in order, history included."""
    rows = await session.scalars(
        select(MusicTrack)
        .where(MusicTrack.guild_id == guild_id)
        .order_by(MusicTrack.position)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def current(session: AsyncSession, guild_id: int) -> MusicTrack | None:
    """The track playing (or paused) now."""
    row = await find(session, guild_id)
    if row is None or row.current_track_id is None:
        return None
    return await session.get(MusicTrack, row.current_track_id, populate_existing=True)


async def _count(session: AsyncSession, guild_id: int) -> int:
    found = await session.scalar(select(func.count()).where(MusicTrack.guild_id == guild_id))
    return int(found or 0)


async def _renumber(session: AsyncSession, guild_id: int, ordered: Sequence[MusicTrack]) -> None:
    """Give `ordered` the positions 0…n-1. First every row moves to its negated id (free: ids are
    unique and positions are not negative), then to its place: the unique (guild, position) key
    holds after every row on every database, whatever order the rows are updated in."""
    ids = [track.id for track in ordered]
    if not ids:
        return
    await session.execute(
        update(MusicTrack)
        .where(MusicTrack.guild_id == guild_id)
        .values(position=-MusicTrack.id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(MusicTrack)
        .where(MusicTrack.guild_id == guild_id, MusicTrack.id.in_(ids))
        .values(position=case({track_id: index for index, track_id in enumerate(ids)}, value=MusicTrack.id))
        .execution_options(synchronize_session=False)
    )
    for index, track in enumerate(ordered):
        set_committed_value(track, "position", index)


async def add(
    session: AsyncSession,
    guild_id: int,
    infos: Sequence[TrackInfo],
    *,
    requester_id: int,
    now: datetime,
) -> Added:
    """Queue `infos` at the end, as far as the guild's limits allow. One source that is too long,
    or a full queue, is refused (nothing changes); from a playlist the tracks that do not fit are
    left out and counted."""
    await lock(session, guild_id, now)
    rules = await settings(session, guild_id)
    limit = rules.max_track_seconds
    fitting = [
        info for info in infos if not limit or info.duration_seconds is None or info.duration_seconds <= limit
    ]
    if len(infos) == 1 and not fitting:
        raise InvalidInput(
            "This track is longer than the server's limit of {limit}.", limit=clock_text(limit)
        )
    count = await _count(session, guild_id)
    room = max(rules.max_queue_length - count, 0)
    if fitting and room == 0:
        raise Conflict("The queue is full ({n} tracks).", n=rules.max_queue_length)
    taken = fitting[:room]
    added = []
    for offset, info in enumerate(taken):
        track = MusicTrack(
            guild_id=guild_id,
            position=count + offset,
            title=info.title[:300],
            uploader=None if info.uploader is None else info.uploader[:200],
            duration_seconds=info.duration_seconds,
            thumbnail_url=info.thumbnail_url,
            webpage_url=info.webpage_url,
            stream_url=info.stream_url,
            stream_expires_at=info.stream_expires_at,
            requester_id=requester_id,
            added_at=now,
        )
        session.add(track)
        added.append(track)
    await session.flush()
    return Added(added, too_long=len(infos) - len(fitting), no_room=len(fitting) - len(taken))


async def connect(
    session: AsyncSession, guild_id: int, *, voice_channel_id: int, text_channel_id: int | None, now: datetime
) -> MusicSession:
    """The player joined `voice_channel_id`; it reports in `text_channel_id` (kept when None)."""
    row = await lock(session, guild_id, now)
    row.voice_channel_id = voice_channel_id
    if text_channel_id is not None:
        row.text_channel_id = text_channel_id
    row.connected = True
    row.updated_at = now
    return row


def _freeze(row: MusicSession, now: datetime) -> None:
    """Fold the running time into `elapsed_ms` and stop the clock."""
    if row.resumed_at is not None:
        row.elapsed_ms += max(int((now - row.resumed_at).total_seconds() * 1000), 0)
        row.resumed_at = None


def elapsed_seconds(row: MusicSession, now: datetime) -> float:
    """How far into the current track playback is."""
    running = 0.0 if row.resumed_at is None else max((now - row.resumed_at).total_seconds(), 0.0)
    return row.elapsed_ms / 1000 + running


async def _start(session: AsyncSession, row: MusicSession, track: MusicTrack | None, now: datetime) -> None:
    if row.current_track_id is not None and (track is None or track.id != row.current_track_id):
        await session.execute(
            delete(MusicSkipVote).where(
                MusicSkipVote.guild_id == row.guild_id, MusicSkipVote.track_id == row.current_track_id
            )
        )
    row.current_track_id = None if track is None else track.id
    row.elapsed_ms = 0
    row.resumed_at = None
    row.paused = False
    row.updated_at = now


async def begin(session: AsyncSession, guild_id: int, now: datetime) -> MusicTrack | None:
    """The track to play now: the current one (a resumed queue), else the first; None when empty."""
    row = await lock(session, guild_id, now)
    queue = await tracks(session, guild_id)
    playing = next((t for t in queue if t.id == row.current_track_id), None)
    if playing is None:
        playing = queue[0] if queue else None
        await _start(session, row, playing, now)
    return playing


async def playing_from(session: AsyncSession, guild_id: int, offset_seconds: float, now: datetime) -> None:
    """Audio of the current track is now coming out, from `offset_seconds`."""
    row = await lock(session, guild_id, now)
    row.elapsed_ms = int(offset_seconds * 1000)
    row.resumed_at = None if row.paused else now
    row.updated_at = now


async def advance(
    session: AsyncSession, guild_id: int, now: datetime, *, skip: bool = False
) -> MusicTrack | None:
    """The current track ended (or was skipped): the next one to play, None when the queue is over.

    Loop track plays it again (a skip moves on all the same); loop queue goes back to the first
    track after the last; otherwise the track that ended leaves the queue.
    """
    row = await lock(session, guild_id, now)
    queue = await tracks(session, guild_id)
    index = next((i for i, t in enumerate(queue) if t.id == row.current_track_id), None)
    if index is None:
        following = queue[0] if queue else None
    elif row.loop_mode is LoopMode.TRACK and not skip:
        following = queue[index]
    elif row.loop_mode is LoopMode.QUEUE:
        following = queue[(index + 1) % len(queue)]
    else:
        ended = queue.pop(index)
        await session.delete(ended)
        await session.flush()
        await _renumber(session, guild_id, queue)
        following = queue[index] if index < len(queue) else None
    await _start(session, row, following, now)
    return following


def _at(queue: list[MusicTrack], number: int) -> int:
    if not 1 <= number <= len(queue):
        raise NotFound("There is no track {n} in the queue (it has {count}).", n=number, count=len(queue))
    return number - 1


async def remove(session: AsyncSession, guild_id: int, number: int, now: datetime) -> MusicTrack:
    """Take track `number` (1-based, as `/queue` shows it) out of the queue; not the one playing."""
    row = await lock(session, guild_id, now)
    queue = await tracks(session, guild_id)
    track = queue[_at(queue, number)]
    if track.id == row.current_track_id:
        raise Conflict("Track {n} is playing now; use /skip instead.", n=number)
    queue.remove(track)
    await session.delete(track)
    await session.flush()
    await _renumber(session, guild_id, queue)
    return track


async def move(session: AsyncSession, guild_id: int, source: int, target: int, now: datetime) -> MusicTrack:
    """Move track `source` to place `target` (both 1-based); the others close up around it."""
    await lock(session, guild_id, now)
    queue = await tracks(session, guild_id)
    track = queue.pop(_at(queue, source))
    if not 1 <= target <= len(queue) + 1:
        raise NotFound("There is no track {n} in the queue (it has {count}).", n=target, count=len(queue) + 1)
    queue.insert(target - 1, track)
    await _renumber(session, guild_id, queue)
    return track


async def shuffle(session: AsyncSession, guild_id: int, rng: RandomSource, now: datetime) -> int:
    """Shuffle the tracks after the current one; returns how many were shuffled."""
    row = await lock(session, guild_id, now)
    queue = await tracks(session, guild_id)
    index = next((i for i, t in enumerate(queue) if t.id == row.current_track_id), -1)
    upcoming = queue[index + 1 :]
    if len(upcoming) < 2:
        raise Conflict("There is nothing to shuffle: fewer than two tracks are waiting.")
    rng.generator(rng.new_seed()).shuffle(upcoming)
    await _renumber(session, guild_id, [*queue[: index + 1], *upcoming])
    return len(upcoming)


async def clear(session: AsyncSession, guild_id: int, now: datetime) -> int:
    """Empty the queue and stop; returns how many tracks were removed."""
    row = await lock(session, guild_id, now)
    removed = await session.execute(delete(MusicTrack).where(MusicTrack.guild_id == guild_id))
    await session.execute(delete(MusicSkipVote).where(MusicSkipVote.guild_id == guild_id))
    row.current_track_id = None
    row.elapsed_ms, row.resumed_at, row.paused = 0, None, False
    row.updated_at = now
    return int(getattr(removed, "rowcount", 0) or 0)


async def set_loop(session: AsyncSession, guild_id: int, mode: LoopMode, now: datetime) -> MusicSession:
    """Change the loop mode. Leaving loop queue drops the history (it would never play again)."""
    row = await lock(session, guild_id, now)
    if mode is not LoopMode.QUEUE:
        queue = await tracks(session, guild_id)
        index = next((i for i, t in enumerate(queue) if t.id == row.current_track_id), 0)
        if index:
            for track in queue[:index]:
                await session.delete(track)
            await session.flush()
            await _renumber(session, guild_id, queue[index:])
    row.loop_mode = mode
    row.updated_at = now
    return row


async def set_volume(session: AsyncSession, guild_id: int, percent: int, now: datetime) -> MusicSession:
    """Set the volume (0…200 %)."""
    if not 0 <= percent <= MAX_VOLUME:
        raise InvalidInput("The volume must be between 0 and {n} %.", n=MAX_VOLUME)
    row = await lock(session, guild_id, now)
    row.volume = percent
    row.updated_at = now
    return row


async def set_paused(session: AsyncSession, guild_id: int, paused: bool, now: datetime) -> MusicSession:
    """Pause or resume; refused when nothing plays or it already is in that state."""
    row = await lock(session, guild_id, now)
    if row.current_track_id is None:
        raise Conflict("Nothing is playing.")
    if row.paused and paused:
        raise Conflict("The music is already paused.")
    if not row.paused and not paused:
        raise Conflict("The music is not paused.")
    if paused:
        _freeze(row, now)
    elif row.connected:
        row.resumed_at = now
    row.paused = paused
    row.updated_at = now
    return row


async def seek(session: AsyncSession, guild_id: int, seconds: int, now: datetime) -> MusicTrack:
    """Check a jump to `seconds` into the current track (the player restarts it from there)."""
    track = await current(session, guild_id)
    if track is None:
        raise Conflict("Nothing is playing.")
    if seconds < 0 or (track.duration_seconds is not None and seconds >= track.duration_seconds):
        raise InvalidInput(
            "You can seek from 0:00 to {end}.", end=clock_text(max((track.duration_seconds or 1) - 1, 0))
        )
    return track


async def disconnected(
    session: AsyncSession, guild_id: int, now: datetime, *, position: float | None = None
) -> MusicSession:
    """The player left its channel (moved away, kicked, stopped, restarted): the queue stays for
    a later resume; the position is kept: `position` (seconds of audio actually played) when the
    player knows it, else the session's clock."""
    row = await lock(session, guild_id, now)
    _freeze(row, now)
    if position is not None and row.current_track_id is not None:
        row.elapsed_ms = int(position * 1000)
    row.connected = False
    row.updated_at = now
    return row


async def forget_connections(
    session: AsyncSession, guild_ids: Collection[int], now: datetime
) -> list[MusicSession]:
    """At start: no session of these guilds (this process's) is connected any more. Returns those
    whose queue waits to be resumed."""
    if not guild_ids:
        return []
    ours = MusicSession.guild_id.in_(list(guild_ids))
    rows = list(await session.scalars(select(MusicSession).where(ours, MusicSession.connected.is_(True))))
    for row in rows:
        _freeze(row, now)
        row.connected = False
        row.updated_at = now
    waiting = await session.scalars(
        select(MusicSession).where(ours, MusicSession.guild_id.in_(select(MusicTrack.guild_id).distinct()))
    )
    return list(waiting)


async def vote_skip(
    session: AsyncSession, guild_id: int, user_id: int, *, listeners: int, now: datetime
) -> Vote:
    """Count a listener's vote to skip the current track; a majority of the `listeners` (the
    members in the channel, bots left out) passes it. Voting twice counts once."""
    row = await lock(session, guild_id, now)
    if row.current_track_id is None:
        raise Conflict("Nothing is playing.")
    values = {"guild_id": guild_id, "track_id": row.current_track_id, "user_id": user_id}
    await session.execute(insert_ignore(session, MusicSkipVote, values))
    votes = await session.scalar(
        select(func.count()).where(
            MusicSkipVote.guild_id == guild_id, MusicSkipVote.track_id == row.current_track_id
        )
    )
    needed = max(listeners, 1) // 2 + 1
    return Vote(int(votes or 0), needed, int(votes or 0) >= needed)


async def remember_stream(
    session: AsyncSession, track_id: int, stream_url: str, expires_at: datetime | None
) -> None:
    """Keep a freshly resolved stream URL (until it expires)."""
    await session.execute(
        update(MusicTrack)
        .where(MusicTrack.id == track_id)
        .values(stream_url=stream_url, stream_expires_at=expires_at)
    )


def clock_text(seconds: int | float | None) -> str:
    """`m:ss` or `h:mm:ss`; `?:??` for an unknown length (a live stream)."""
    if seconds is None:
        return "?:??"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
