"""Music commands. Those that touch the audio (play, skip, pause, resume, stop, volume, seek) need the
gateway's stage (`ctx.adapters`), and run outside a unit of work: resolving takes seconds, and the
player writes in its own transactions. The queue's views and edits are plain database commands
and work from every door. Queue-changing commands follow the guild's DJ role when it has one.
"""

from __future__ import annotations

from typing import Annotated

from kyrios.core.errors import Conflict, Forbidden, InvalidInput, Unavailable
from kyrios.core.features import Feature
from kyrios.core.i18n import N_
from kyrios.core.paging import clamp_page
from kyrios.features.music import service
from kyrios.features.music.models import LoopMode, MusicSettings, MusicTrack
from kyrios.features.music.resolver import Choice, looks_like_link
from kyrios.features.music.service import Added, TrackInfo, clock_text
from kyrios.features.music.stage import ADAPTER, UNAVAILABLE, MusicStage, stage_of
from kyrios.slash.invocation import RoleRef
from kyrios.slash.options import Opt
from kyrios.slash.paging import page_turner, pager
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Button, ButtonStyle, Colour, Embed, Reply

commands = CommandSet(Feature.MUSIC)

PER_PAGE = 10
BAR_CELLS = 16
PICK = "music-pick"


def _stage(ctx: Context) -> MusicStage:
    """The gateway's stage, or why this door cannot play."""
    if ctx.adapters.get(ADAPTER) == UNAVAILABLE:
        raise Unavailable("Music is unavailable: FFmpeg is not installed where the bot runs.")
    found = stage_of(ctx.adapters)
    if found is None:
        raise Conflict("Use this in Discord, in a server where the bot is connected: only it can play audio.")
    return found


async def _require_dj(ctx: Context, rules: MusicSettings | None = None) -> None:
    """Refuse a queue change to a member without the guild's DJ role (admins always may)."""
    rules = rules or await service.settings(ctx.session, ctx.guild_id)
    if rules.dj_role_id is None or ctx.inv.is_admin or rules.dj_role_id in ctx.inv.role_ids:
        return
    raise Forbidden("Only members with the DJ role <@&{role}> can do this.", role=rules.dj_role_id)


def _track_line(ctx: Context, number: int, track: MusicTrack, *, playing: bool) -> str:
    marker = "▶️ " if playing else ""
    return ctx.t(
        "{marker}`{n}.` **{title}** `{length}` · <@{user}>",
        marker=marker,
        n=number,
        title=track.title[:80],
        length=clock_text(track.duration_seconds),
        user=track.requester_id,
    )


def _queued_reply(ctx: Context, added: Added, first_number: int) -> Reply:
    if len(added.tracks) == 1:
        track = added.tracks[0]
        text = ctx.t(
            "➕ Queued **{title}** `{length}` at position {n}.",
            title=track.title,
            length=clock_text(track.duration_seconds),
            n=first_number,
        )
    else:
        text = ctx.tn("➕ Queued **{n}** track.", "➕ Queued **{n}** tracks.", len(added.tracks))
    if added.too_long:
        text += "\n" + ctx.tn(
            "{n} track was longer than the server's limit and was left out.",
            "{n} tracks were longer than the server's limit and were left out.",
            added.too_long,
        )
    if added.no_room:
        text += "\n" + ctx.tn(
            "{n} track did not fit in the queue.", "{n} tracks did not fit in the queue.", added.no_room
        )
    return Reply(content=text)


async def _enqueue(ctx: Context, stage: MusicStage, infos: list[TrackInfo]) -> Reply:
    """Join the caller's channel, queue `infos`, start playing if idle."""
    player = await stage.join(ctx.guild_id, ctx.user_id, ctx.inv.channel_id)
    guild_id, user_id, now = ctx.guild_id, ctx.user_id, ctx.now
    added = await stage.db.run(lambda s: service.add(s, guild_id, infos, requester_id=user_id, now=now))
    stage.cancel_idle(guild_id)
    first = added.tracks[0].position + 1 if added.tracks else 0
    reply = _queued_reply(ctx, added, first)
    await player.start()
    return reply


def _choice_label(number: int, choice: Choice) -> str:
    return f"{number}. {choice.title[:60]} ({clock_text(choice.duration_seconds)})"


@commands.slash("play", "Play a link or search words in your voice channel", unit_of_work=False)
async def play(
    ctx: Context,
    query: Annotated[
        str, Opt("A link (YouTube, SoundCloud, Bandcamp, an audio file) or search words", max_length=500)
    ],
) -> Reply:
    """Queue a link (a playlist up to the queue limit), or offer YouTube's top results as buttons."""
    stage = _stage(ctx)
    if stage.door.channel_of(ctx.guild_id, ctx.user_id) is None:
        raise Conflict("Join a voice channel first, then use /play.")
    rules = await service.settings(ctx.session, ctx.guild_id)
    if not looks_like_link(query):
        choices = await stage.resolver.search(query)
        lines = [_choice_label(i, c) for i, c in enumerate(choices, start=1)]
        buttons = [
            Button(f"{i}. {c.title[:70]}", f"{PICK}:{c.pick.rsplit('=', 1)[-1]}", ButtonStyle.PRIMARY)
            for i, c in enumerate(choices, start=1)
        ]
        return Reply(
            content=ctx.t("🔎 Pick a result for “{query}”:", query=query[:100]) + "\n" + "\n".join(lines),
            buttons=[buttons],
        )
    infos = await stage.resolver.resolve(query, limit=rules.max_queue_length)
    return await _enqueue(ctx, stage, infos)


@commands.component(PICK, unit_of_work=False)
async def pick(ctx: Context, *args: str) -> Reply:
    """A search result was chosen: queue it."""
    video = ":".join(args)
    if not video or not all(ch.isalnum() or ch in "-_" for ch in video):
        raise InvalidInput("This button is broken; run the command again.")
    stage = _stage(ctx)
    infos = await stage.resolver.resolve(f"https://www.youtube.com/watch?v={video}", limit=1)
    reply = await _enqueue(ctx, stage, infos)
    reply.update = True
    return reply


async def _queue_reply(ctx: Context, owner: int, page: int) -> Reply:
    queue = await service.tracks(ctx.session, ctx.guild_id)
    row = await service.find(ctx.session, ctx.guild_id)
    if not queue:
        return Reply(content=ctx.t("The queue is empty. Add something with /play."))
    playing = None if row is None else row.current_track_id
    page, pages = clamp_page(page, len(queue), PER_PAGE)
    start = (page - 1) * PER_PAGE
    lines = [
        _track_line(ctx, start + i + 1, track, playing=track.id == playing)
        for i, track in enumerate(queue[start : start + PER_PAGE])
    ]
    known = sum(t.duration_seconds or 0 for t in queue)
    unknown = sum(1 for t in queue if t.duration_seconds is None)
    total = ctx.t("Total {length}", length=clock_text(known))
    if unknown:
        total += " " + ctx.tn("(+{n} track of unknown length)", "(+{n} tracks of unknown length)", unknown)
    mode = (row.loop_mode if row is not None else LoopMode.NONE).value
    embed = Embed(
        title=ctx.tn("🎶 Queue: {n} track", "🎶 Queue: {n} tracks", len(queue)),
        description="\n".join(lines),
        footer=ctx.t(
            "{total} · loop: {mode} · page {page}/{pages}", total=total, mode=mode, page=page, pages=pages
        ),
        colour=Colour.INFO,
    )
    return Reply(embeds=[embed], buttons=pager("music-queue", owner, page, pages, translator=ctx.translator))


page_turner(commands, "music-queue", _queue_reply, private=False)


@commands.slash("queue", "The music queue, with its total length")
async def queue(ctx: Context, page: Annotated[int, Opt("Page", min_value=1, max_value=10_000)] = 1) -> Reply:
    """The queue, ten tracks a page; the playing track is marked."""
    return await _queue_reply(ctx, ctx.user_id, page)


def progress_bar(elapsed: float, length: int | None) -> str:
    """`▬▬🔘▬▬ 1:23 / 3:45` (no bar for a stream of unknown length)."""
    if not length:
        return f"🔘 {clock_text(elapsed)} / {clock_text(None)}"
    done = min(max(elapsed / length, 0.0), 1.0)
    knob = min(int(done * BAR_CELLS), BAR_CELLS - 1)
    cells = "▬" * knob + "🔘" + "▬" * (BAR_CELLS - knob - 1)
    return f"{cells} {clock_text(min(elapsed, length))} / {clock_text(length)}"


@commands.slash("nowplaying", "What is playing, how far it got, and who asked for it")
async def nowplaying(ctx: Context) -> Reply:
    """The current track with a progress bar."""
    row = await service.find(ctx.session, ctx.guild_id)
    track = await service.current(ctx.session, ctx.guild_id)
    if row is None or track is None:
        return Reply(content=ctx.t("Nothing is playing."), ephemeral=True)
    state = ctx.t("⏸️ paused") if row.paused else ("▶️" if row.connected else ctx.t("⏹️ waiting for /resume"))
    embed = Embed(
        title=track.title,
        description=progress_bar(service.elapsed_seconds(row, ctx.now), track.duration_seconds)
        + f"\n{state}",
        colour=Colour.INFO,
        thumbnail_url=track.thumbnail_url,
    )
    embed.add_field(ctx.t("Requested by"), f"<@{track.requester_id}>", inline=True)
    if track.uploader:
        embed.add_field(ctx.t("By"), track.uploader, inline=True)
    embed.add_field(ctx.t("Loop"), row.loop_mode.value, inline=True)
    embed.add_field(ctx.t("Volume"), f"{row.volume} %", inline=True)
    embed.add_field(ctx.t("Link"), track.webpage_url)
    return Reply(embeds=[embed])


@commands.slash("skip", "Skip the current track (others listening vote)", unit_of_work=False)
async def skip(ctx: Context) -> Reply:
    """Skip at once for the requester, admins and DJs; otherwise count a vote of the listeners."""
    stage = _stage(ctx)
    player = stage.require(ctx.guild_id)
    track = await service.current(ctx.session, ctx.guild_id)
    row = await service.find(ctx.session, ctx.guild_id)
    if track is None or row is None:
        raise Conflict("Nothing is playing.")
    rules = await service.settings(ctx.session, ctx.guild_id)
    listeners = stage.door.listeners(ctx.guild_id, row.voice_channel_id or 0)
    is_dj = rules.dj_role_id is not None and rules.dj_role_id in ctx.inv.role_ids
    alone = listeners == [ctx.user_id]
    if not (ctx.inv.is_admin or is_dj or track.requester_id == ctx.user_id or alone):
        if ctx.user_id not in listeners:
            raise Forbidden("Join my voice channel to vote for a skip.")
        guild_id, user_id, now = ctx.guild_id, ctx.user_id, ctx.now
        vote = await stage.db.run(
            lambda s: service.vote_skip(s, guild_id, user_id, listeners=len(listeners), now=now)
        )
        if not vote.passed:
            return Reply(
                content=ctx.t(
                    "🗳️ Vote to skip **{title}**: {votes}/{needed}.",
                    title=track.title,
                    votes=vote.votes,
                    needed=vote.needed,
                )
            )
    await player.skip()
    return Reply(content=ctx.t("⏭️ Skipped **{title}**.", title=track.title))


@commands.slash("pause", "Pause the music", unit_of_work=False)
async def pause(ctx: Context) -> Reply:
    """Pause; the position is kept."""
    await _stage(ctx).require(ctx.guild_id).pause()
    return Reply(content=ctx.t("⏸️ Paused. /resume goes on."))


@commands.slash("resume", "Resume the music (or a queue waiting since a restart)", unit_of_work=False)
async def resume(ctx: Context) -> Reply:
    """Resume after a pause; when not connected, join the caller and resume the stored queue."""
    stage = _stage(ctx)
    player = stage.connected(ctx.guild_id)
    if player is not None and player.playing is not None:
        await player.resume()
        return Reply(content=ctx.t("▶️ Resumed."))
    if not await service.tracks(ctx.session, ctx.guild_id):
        raise Conflict("The queue is empty. Add something with /play.")
    player = await stage.join(ctx.guild_id, ctx.user_id, ctx.inv.channel_id)
    track = await player.start()
    if track is None:
        raise Conflict("The queue is empty. Add something with /play.")
    return Reply(content=ctx.t("▶️ Resuming the queue with **{title}**.", title=track.title))


@commands.component("music-resume", unit_of_work=False)
async def resume_button(ctx: Context, *args: str) -> Reply:
    """The Resume button offered after a restart."""
    reply = await resume(ctx)
    reply.update = True
    return reply


@commands.slash("stop", "Stop the music, clear the queue and leave", unit_of_work=False)
async def stop(ctx: Context) -> Reply:
    """Clear the queue and leave the voice channel."""
    await _require_dj(ctx)
    stage = _stage(ctx)
    player = stage.connected(ctx.guild_id)
    guild_id, now = ctx.guild_id, ctx.now
    if player is not None:
        removed = await player.stop()
    else:
        removed = await stage.db.run(lambda s: service.clear(s, guild_id, now))
    await stage.leave(ctx.guild_id)
    return Reply(
        content=ctx.tn("⏹️ Stopped and cleared {n} track.", "⏹️ Stopped and cleared {n} tracks.", removed)
    )


@commands.slash("remove", "Remove a track from the queue")
async def remove(ctx: Context, number: Annotated[int, Opt("Its number in /queue", min_value=1)]) -> Reply:
    """Take a waiting track out of the queue."""
    await _require_dj(ctx)
    track = await service.remove(ctx.session, ctx.guild_id, number, ctx.now)
    return Reply(content=ctx.t("🗑️ Removed **{title}**.", title=track.title))


@commands.slash("move", "Move a track to another place in the queue")
async def move(
    ctx: Context,
    source: Annotated[int, Opt("Its number in /queue", min_value=1)],
    target: Annotated[int, Opt("Its new number", min_value=1)],
) -> Reply:
    """Reorder the queue."""
    await _require_dj(ctx)
    track = await service.move(ctx.session, ctx.guild_id, source, target, ctx.now)
    return Reply(content=ctx.t("↕️ Moved **{title}** to {n}.", title=track.title, n=target))


@commands.slash("shuffle", "Shuffle the waiting tracks")
async def shuffle(ctx: Context) -> Reply:
    """Shuffle what comes after the current track."""
    await _require_dj(ctx)
    count = await service.shuffle(ctx.session, ctx.guild_id, ctx.rng, ctx.now)
    return Reply(content=ctx.tn("🔀 Shuffled {n} track.", "🔀 Shuffled {n} tracks.", count))


LOOP_TEXT = {
    LoopMode.NONE: N_("➡️ Loop off: each track plays once."),
    LoopMode.TRACK: N_("🔂 Looping the current track."),
    LoopMode.QUEUE: N_("🔁 Looping the whole queue."),
}


@commands.slash("loop", "Loop nothing, the current track, or the whole queue")
async def loop(ctx: Context, mode: Annotated[LoopMode, Opt("none, track or queue")]) -> Reply:
    """Set the loop mode."""
    await _require_dj(ctx)
    await service.set_loop(ctx.session, ctx.guild_id, mode, ctx.now)
    return Reply(content=ctx.t(LOOP_TEXT[mode]))


@commands.slash("volume", "Set the music volume", unit_of_work=False)
async def volume(
    ctx: Context, percent: Annotated[int, Opt("0 to 200 %", min_value=0, max_value=service.MAX_VOLUME)]
) -> Reply:
    """Change the volume now and for what follows."""
    await _require_dj(ctx)
    await _stage(ctx).require(ctx.guild_id).set_volume(percent)
    return Reply(content=ctx.t("🔊 Volume {n} %.", n=percent))


def parse_position(text: str) -> int:
    """`90`, `1:30` or `1:02:03` as seconds."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise InvalidInput("Give the position as seconds or m:ss, like 90 or 1:30.")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


@commands.slash("seek", "Jump to a position in the current track", unit_of_work=False)
async def seek(
    ctx: Context, position: Annotated[str, Opt("Seconds or m:ss, like 1:30", max_length=10)]
) -> Reply:
    """Play the current track from `position`."""
    seconds = parse_position(position)
    await _require_dj(ctx)
    await _stage(ctx).require(ctx.guild_id).seek(seconds)
    return Reply(content=ctx.t("⏩ Playing from {at}.", at=clock_text(seconds)))


@commands.slash("music settings", "Music limits: queue length, track length, DJ role, idle time", admin=True)
async def settings(
    ctx: Context,
    max_queue: Annotated[
        int | None, Opt("Most tracks in the queue", min_value=1, max_value=service.MAX_QUEUE_LENGTH)
    ] = None,
    max_minutes: Annotated[
        int | None, Opt("Longest track in minutes (0: no limit)", min_value=0, max_value=24 * 60)
    ] = None,
    dj_role: Annotated[RoleRef | None, Opt("Role that may change the queue (admins always may)")] = None,
    clear_dj_role: Annotated[bool, Opt("Let everyone change the queue again")] = False,
    idle_seconds: Annotated[
        int | None,
        Opt(
            "Seconds alone before leaving",
            min_value=service.MIN_IDLE_SECONDS,
            max_value=service.MAX_IDLE_SECONDS,
        ),
    ] = None,
) -> Reply:
    """Show or change the guild's music limits."""
    changes: dict[str, object] = {}
    if max_queue is not None:
        changes["max_queue_length"] = max_queue
    if max_minutes is not None:
        changes["max_track_seconds"] = max_minutes * 60
    if dj_role is not None:
        changes["dj_role_id"] = dj_role.id
    if clear_dj_role:
        changes["dj_role_id"] = None
    if idle_seconds is not None:
        changes["idle_timeout_seconds"] = idle_seconds
    rules = (
        await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
        if changes
        else await service.settings(ctx.session, ctx.guild_id)
    )
    embed = Embed(title=ctx.t("🎶 Music settings"), colour=Colour.INFO)
    embed.add_field(ctx.t("Queue length"), str(rules.max_queue_length), inline=True)
    longest = clock_text(rules.max_track_seconds) if rules.max_track_seconds else ctx.t("no limit")
    embed.add_field(ctx.t("Longest track"), longest, inline=True)
    embed.add_field(
        ctx.t("DJ role"), f"<@&{rules.dj_role_id}>" if rules.dj_role_id else ctx.t("everyone"), inline=True
    )
    embed.add_field(
        ctx.t("Idle time"), ctx.tn("{n} second", "{n} seconds", rules.idle_timeout_seconds), inline=True
    )
    return Reply(embeds=[embed], ephemeral=True)
