"""The music slice: per-guild sessions, a persistent queue, yt-dlp resolution and FFmpeg playback."""

from kyrios.core.features import Feature
from kyrios.features.music.commands import commands
from kyrios.features.music.models import MusicSession, MusicSettings, MusicSkipVote, MusicTrack
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.MUSIC,
    command_sets=(commands,),
    cog="kyrios.features.music.cog",
    intents=frozenset({"voice_states"}),
    models=(MusicSettings, MusicSession, MusicTrack, MusicSkipVote),
    settings=MusicSettings,
    migrations="music",
)
