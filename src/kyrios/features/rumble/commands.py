"""Rumble commands: challenge (Accept/Decline buttons for the opponent only), replay, history,
rank, opt-out, and the admin's rules. Words go through `ctx.t`; members appear as mentions."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.core.i18n import N_
from kyrios.features.achievements import service as achievements
from kyrios.features.rumble import service
from kyrios.features.rumble.battle import Move, Outcome
from kyrios.features.rumble.models import BattleStatus, RumbleBattle
from kyrios.slash.invocation import Actor
from kyrios.slash.options import Opt
from kyrios.slash.paging import page_turner, pager, read_pager_args
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Button, ButtonStyle, Colour, Embed, Reply

commands = CommandSet(Feature.RUMBLE)

Page = Annotated[int, Opt("Page", min_value=1, max_value=100_000)]
MOVE_TEXT = {
    Move.ATTACK: N_("⚔️ {actor} hits {target} for {n}."),
    Move.CRITICAL: N_("💥 {actor} lands a critical hit on {target} for {n}!"),
    Move.FUMBLE: N_("🤦 {actor} fumbles."),
    Move.HEAL: N_("💚 {actor} heals {n}."),
}


class Period(StrEnum):
    """The span a ranking counts wins over."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"


PERIODS = tuple(Period)


def period_start(period: Period, now: datetime, ctx: Context) -> datetime | None:
    """The period's first moment in the guild's time zone (Monday for a week), None for all time."""
    if period is Period.ALL:
        return None
    local = now.astimezone(ctx.translator.zone).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.WEEK:
        return local - timedelta(days=local.weekday())
    return local.replace(day=1)


def log_lines(ctx: Context, fight: RumbleBattle, outcome: Outcome) -> list[str]:
    """The battle, one line per turn, with both fighters' HP after it."""
    names = (f"<@{fight.challenger_id}>", f"<@{fight.opponent_id}>")
    lines = []
    for turn in outcome.turns:
        said = ctx.t(
            MOVE_TEXT[turn.move], actor=names[turn.actor], target=names[1 - turn.actor], n=turn.amount
        )
        lines.append(f"`R{turn.round}` {said} `{turn.hp[0]}–{turn.hp[1]}`")
    return lines


def battle_embed(ctx: Context, fight: RumbleBattle, outcome: Outcome) -> Embed:
    """The battle log and its result."""
    embed = Embed(
        title=ctx.t("🥊 Rumble #{id}", id=str(fight.id)),
        description="\n".join(log_lines(ctx, fight, outcome)),
        colour=Colour.GOLD,
    )
    embed.add_field(
        ctx.t("Winner"), f"<@{fight.winner_id}> (+{ctx.translator.number(fight.winner_points)})", inline=True
    )
    embed.add_field(ctx.t("Loser"), f"<@{fight.loser_id}> ({fight.loser_points:+d})", inline=True)
    if fight.stake:
        embed.add_field(ctx.t("Stake"), ctx.translator.number(fight.stake), inline=True)
    embed.footer = ctx.t(
        "Seed {seed} · check it with /rumble replay {id}", seed=str(fight.seed), id=str(fight.id)
    )
    return embed


@commands.slash("rumble challenge", "Challenge a member to a rumble battle")
async def challenge(
    ctx: Context,
    member: Annotated[Actor, Opt("Whom to challenge")],
    stake: Annotated[int, Opt("Points the loser pays the winner", min_value=0, max_value=1_000_000)] = 0,
) -> Reply:
    """Open a challenge the opponent answers with the buttons."""
    fight = await service.challenge(
        ctx.session,
        guild_id=ctx.guild_id,
        challenger_id=ctx.user_id,
        opponent_id=member.id,
        opponent_is_bot=member.is_bot,
        stake=stake,
        now=ctx.now,
    )
    text = ctx.t(
        "🥊 <@{opponent}>, <@{challenger}> challenges you to a rumble! Answer {when}.",
        opponent=member.id,
        challenger=ctx.user_id,
        when=ctx.translator.time(fight.expires_at, "R"),
    )
    if stake:
        text += "\n" + ctx.tn("Stake: **{n}** point.", "Stake: **{n}** points.", stake)
    buttons = [
        [
            Button(ctx.t("Accept"), f"rumble-accept:{fight.id}", ButtonStyle.SUCCESS),
            Button(ctx.t("Decline"), f"rumble-decline:{fight.id}", ButtonStyle.DANGER),
        ]
    ]
    return Reply(content=text, buttons=buttons, ping=(member.id,))


def _battle_id(args: tuple[str, ...]) -> int:
    try:
        return int(args[0])
    except (IndexError, ValueError):
        raise InvalidInput("This button is broken; run the command again.") from None


async def _answer(ctx: Context, args: tuple[str, ...], *, accept: bool) -> Reply:
    result = await service.answer(
        ctx.session,
        guild_id=ctx.guild_id,
        battle_id=_battle_id(args),
        user_id=ctx.user_id,
        accept=accept,
        now=ctx.now,
        rng=ctx.rng,
        channel_id=ctx.inv.channel_id,
    )
    fight = result.battle
    if fight.status is BattleStatus.EXPIRED:
        return Reply(content=ctx.t("⌛ This rumble challenge expired unanswered."), update=True)
    if fight.status is BattleStatus.DECLINED:
        return Reply(content=ctx.t("<@{user}> declined the rumble.", user=fight.opponent_id), update=True)
    assert result.outcome is not None
    embed = battle_embed(ctx, fight, result.outcome)
    embed.add_field(
        ctx.t("Rating"),
        f"<@{fight.challenger_id}> {result.challenger_rating[0]} → {result.challenger_rating[1]}\n"
        f"<@{fight.opponent_id}> {result.opponent_rating[0]} → {result.opponent_rating[1]}",
    )
    if result.unlocked:  # announced once by the achievement relay, from its outbox
        ctx.publish_after_commit(achievements.OUTBOX_WAKE, {"guild_id": ctx.guild_id})
    return Reply(embeds=[embed], update=True)


@commands.component("rumble-accept")
async def accept(ctx: Context, *args: str) -> Reply:
    """The opponent accepts: the battle is fought."""
    return await _answer(ctx, args, accept=True)


@commands.component("rumble-decline")
async def decline(ctx: Context, *args: str) -> Reply:
    """The opponent declines."""
    return await _answer(ctx, args, accept=False)


@commands.slash("rumble replay", "Fight a past battle again from its seed, to check its result")
async def replay(ctx: Context, battle: Annotated[int, Opt("Battle number", min_value=1)]) -> Reply:
    """Recompute a battle from its stored seed."""
    result = await service.replay(ctx.session, ctx.guild_id, battle)
    embed = battle_embed(ctx, result.battle, result.outcome)
    verdict = (
        ctx.t("✅ Recomputed from the seed: the same battle and the same winner.")
        if result.matches
        else ctx.t("⚠️ Recomputed from the seed, the battle differs from the stored one.")
    )
    return Reply(content=verdict, embeds=[embed])


def _history_line(ctx: Context, fight: RumbleBattle, user_id: int | None) -> str:
    when = ctx.translator.time(fight.resolved_at, "R") if fight.resolved_at else ""
    if user_id is None:
        return ctx.t(
            "`#{id}` <@{winner}> beat <@{loser}> · {when}",
            id=str(fight.id),
            winner=fight.winner_id,
            loser=fight.loser_id,
            when=when,
        )
    other = fight.opponent_id if fight.challenger_id == user_id else fight.challenger_id
    if fight.winner_id == user_id:
        return ctx.t(
            "`#{id}` 🏆 beat <@{other}> (+{points}) · {when}",
            id=str(fight.id),
            other=other,
            points=fight.winner_points,
            when=when,
        )
    signed = f"{fight.loser_points:+d}"
    return ctx.t(
        "`#{id}` lost to <@{other}> ({points}) · {when}",
        id=str(fight.id),
        other=other,
        points=signed,
        when=when,
    )


async def _history_reply(ctx: Context, owner: int, page: int) -> Reply:
    """A member's battles (owner 0: the whole server's)."""
    user_id = owner or None
    result = await service.history(ctx.session, ctx.guild_id, user_id, page=page)
    if user_id is None:
        title = ctx.t("Rumble battles on this server")
    else:
        record = await service.player(ctx.session, ctx.guild_id, user_id)
        wins, losses, rating = (record.wins, record.losses, record.rating) if record else (0, 0, 1000)
        title = ctx.t(
            "<@{user}>'s rumbles: {wins}W {losses}L · rating {rating}",
            user=user_id,
            wins=wins,
            losses=losses,
            rating=rating,
        )
    embed = Embed(
        title=ctx.t("Rumble history"),
        description="\n".join([title, "", *(_history_line(ctx, f, user_id) for f in result.items)])
        if result.items
        else title + "\n\n" + ctx.t("No battles yet. Try `/rumble challenge`."),
        footer=ctx.tn(
            "Page {page}/{pages} · {n} battle",
            "Page {page}/{pages} · {n} battles",
            result.total,
            page=result.page,
            pages=result.pages,
        ),
    )
    buttons = pager("rumble-history", owner, result.page, result.pages, translator=ctx.translator)
    return Reply(embeds=[embed], buttons=buttons)


@commands.slash("rumble history", "Your battles (or another member's), newest first")
async def history(
    ctx: Context, user: Annotated[Actor | None, Opt("Whose battles")] = None, page: Page = 1
) -> Reply:
    """A member's history."""
    return await _history_reply(ctx, (user or ctx.inv.actor).id, page)


@commands.slash("rumble recent", "This server's battles, newest first")
async def recent(ctx: Context, page: Page = 1) -> Reply:
    """The guild's history."""
    return await _history_reply(ctx, 0, page)


page_turner(commands, "rumble-history", _history_reply, private=False)


async def _rank_reply(ctx: Context, period: Period, page: int) -> Reply:
    since = period_start(period, ctx.now, ctx)
    result = await service.ranking(ctx.session, ctx.guild_id, since=since, page=page)
    lines = [
        ctx.t(
            "**{rank}.** <@{user}> — {wins}W {losses}L · rating {rating}",
            rank=s.rank,
            user=s.user_id,
            wins=s.wins,
            losses=s.losses,
            rating=s.rating,
        )
        for s in result.items
    ]
    titles = {
        Period.WEEK: ctx.t("Rumble ranking: this week"),
        Period.MONTH: ctx.t("Rumble ranking: this month"),
        Period.ALL: ctx.t("Rumble ranking: all time"),
    }
    embed = Embed(
        title=titles[period],
        description="\n".join(lines) or ctx.t("No battles in this period yet."),
        footer=ctx.t("Page {page}/{pages}", page=result.page, pages=result.pages),
        colour=Colour.INFO,
    )
    # the pager's "owner" slot carries the period's index: the ranking is public
    buttons = pager(
        "rumble-rank", PERIODS.index(period), result.page, result.pages, translator=ctx.translator
    )
    return Reply(embeds=[embed], buttons=buttons)


@commands.slash("rumble rank", "Members by rumble wins this week, this month or all time")
async def rank(
    ctx: Context,
    period: Annotated[Period, Opt("Which period")] = Period.WEEK,
    page: Page = 1,
) -> Reply:
    """The ranking for a period."""
    return await _rank_reply(ctx, period, page)


@commands.component("rumble-rank")
async def rank_page(ctx: Context, *args: str) -> Reply:
    """Turn a page of the ranking."""
    index, page = read_pager_args(args)
    if not 0 <= index < len(PERIODS):
        raise InvalidInput("This button is broken; run the command again.")
    reply = await _rank_reply(ctx, PERIODS[index], page)
    reply.update = True
    return reply


@commands.slash("rumble optout", "Refuse (or accept again) rumble challenges from others")
async def optout(ctx: Context, enabled: Annotated[bool, Opt("True: nobody can challenge you")]) -> Reply:
    """Set the member's own protection."""
    await service.set_opt_out(ctx.session, ctx.guild_id, ctx.user_id, enabled)
    if enabled:
        return Reply(content=ctx.t("🛡️ Nobody can challenge you to a rumble now."), ephemeral=True)
    return Reply(content=ctx.t("🥊 Members can challenge you to a rumble again."), ephemeral=True)


@commands.slash("rumble rules", "This server's rumble rules, and when you can fight again")
async def rules(ctx: Context) -> Reply:
    """The guild's rules and the caller's cooldown."""
    current = await service.settings(ctx.session, ctx.guild_id)
    embed = Embed(title=ctx.t("Rumble rules"), colour=Colour.INFO)
    embed.add_field(ctx.t("Winner"), ctx.tn("{n} point", "{n} points", current.points_per_win), inline=True)
    embed.add_field(ctx.t("Loser"), ctx.tn("{n} point", "{n} points", current.points_per_loss), inline=True)
    embed.add_field(
        ctx.t("Cooldown"), ctx.tn("{n} minute", "{n} minutes", current.cooldown_minutes), inline=True
    )
    embed.add_field(
        ctx.t("Answer within"),
        ctx.tn("{n} second", "{n} seconds", current.challenge_timeout_seconds),
        inline=True,
    )
    embed.add_field(ctx.t("Largest stake"), ctx.translator.number(current.max_stake), inline=True)
    until = await service.ready_at(ctx.session, ctx.guild_id, ctx.user_id, ctx.now)
    embed.footer = (
        ctx.t("You can fight again {when}.", when=ctx.translator.time(until, "R"))
        if until
        else ctx.t("You can fight now.")
    )
    return Reply.embed(embed, ephemeral=True)


@commands.slash(
    "rumble config",
    "Set points per win and loss, cooldown, answer time and largest stake (admins)",
    admin=True,
)
async def config(
    ctx: Context,
    win: Annotated[int | None, Opt("Points for a win", min_value=0, max_value=service.MAX_POINTS)] = None,
    loss: Annotated[int | None, Opt("Points for a loss", min_value=0, max_value=service.MAX_POINTS)] = None,
    cooldown: Annotated[
        int | None,
        Opt("Minutes between a member's battles", min_value=0, max_value=service.MAX_COOLDOWN_MINUTES),
    ] = None,
    answer_seconds: Annotated[
        int | None,
        Opt(
            "Seconds a challenge waits for an answer",
            min_value=service.MIN_TIMEOUT_SECONDS,
            max_value=service.MAX_TIMEOUT_SECONDS,
        ),
    ] = None,
    max_stake: Annotated[
        int | None, Opt("Largest stake (0: no stakes)", min_value=0, max_value=1_000_000)
    ] = None,
) -> Reply:
    """Change the rumble rules."""
    changes: dict[str, object] = {}
    for column, value in (
        ("points_per_win", win),
        ("points_per_loss", loss),
        ("cooldown_minutes", cooldown),
        ("challenge_timeout_seconds", answer_seconds),
        ("max_stake", max_stake),
    ):
        if value is not None:
            changes[column] = value
    if not changes:
        raise InvalidInput("Give at least one of `win`, `loss`, `cooldown`, `answer_seconds`, `max_stake`.")
    rules = await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
    return Reply(
        content=ctx.t(
            "✅ Rumble rules: win **{win}** points, loss **{loss}** points, cooldown {cooldown} min,"
            " answer within {timeout} s, stake up to {max_stake}.",
            win=rules.points_per_win,
            loss=rules.points_per_loss,
            cooldown=rules.cooldown_minutes,
            timeout=rules.challenge_timeout_seconds,
            max_stake=rules.max_stake,
        )
    )
