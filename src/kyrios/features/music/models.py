"""The music tables: a guild's limits, its session (one per guild), its queue of tracks, skip votes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class LoopMode(StrEnum):
    """What plays after the current track ends: the next one, the same one, or the queue again."""

    NONE = "none"
    TRACK = "track"
    QUEUE = "queue"


class MusicSettings(Base):
    """A guild's music limits: queue length, track length (0: no limit), the DJ role allowed to change
    the queue (None: everyone), and how long the bot stays alone in a voice channel."""

    __tablename__ = "music_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    max_queue_length: Mapped[int] = mapped_column(Integer, default=100)
    max_track_seconds: Mapped[int] = mapped_column(Integer, default=3 * 60 * 60)
    dj_role_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    idle_timeout_seconds: Mapped[int] = mapped_column(Integer, default=300)


class MusicSession(Base):
    """A guild's player: where it plays and reports, what plays, how far it got.

    `current_track_id` names the playing track (None: nothing yet, or the queue ended);
    `connected` is False after a restart or a disconnect, when the queue waits to be resumed.
    The playback offset is `elapsed_ms` plus the time since `resumed_at` (None while paused or stopped).
    """

    __tablename__ = "music_session"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    voice_channel_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    text_channel_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    current_track_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    loop_mode: Mapped[LoopMode] = mapped_column(StrEnumColumn(LoopMode, length=8), default=LoopMode.NONE)
    volume: Mapped[int] = mapped_column(Integer, default=100)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    elapsed_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MusicTrack(Base):
    """One queued track. Positions of a guild are 0…n-1, dense and unique (the session row is locked
    while they change). `stream_url` is yt-dlp's media URL, which expires: it is resolved again from
    `webpage_url` when it has."""

    __tablename__ = "music_track"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    uploader: Mapped[str | None] = mapped_column(String(200), default=None)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    thumbnail_url: Mapped[str | None] = mapped_column(Text, default=None)
    webpage_url: Mapped[str] = mapped_column(Text)
    stream_url: Mapped[str | None] = mapped_column(Text, default=None)
    stream_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    requester_id: Mapped[int] = mapped_column(Snowflake)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("guild_id", "position", name="uq_music_track_guild_position"),)


class MusicSkipVote(Base):
    """A listener's vote to skip one track (one vote per member and track)."""

    __tablename__ = "music_skip_vote"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    track_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
