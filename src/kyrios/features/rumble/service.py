"""Rumble: challenges, battles, records and rankings.

Invariants: a member is in at most one pending challenge (a conditional `UPDATE` of both players'
`rumble_player` rows claims them, or the challenge is refused); a challenge is fought at most once
(`UPDATE … WHERE status = 'pending'`: of two simultaneous accepts exactly one changes the row);
the battle row, both records, the points, the stake and their ledger rows change in the accept's
one transaction; a battle's log is recomputed from its stored seed and bonuses by `replay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.core.errors import Conflict, Forbidden, InsufficientFunds, InvalidInput, NotFound, OnCooldown
from kyrios.core.paging import Page, clamp_page
from kyrios.core.rng import RandomSource
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Achievement, Stat
from kyrios.features.economy import service as economy
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.rumble import battle as engine
from kyrios.features.rumble.models import BattleStatus, RumbleBattle, RumblePlayer, RumbleSettings

MAX_POINTS = 1_000_000
MAX_COOLDOWN_MINUTES = 7 * 24 * 60
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 15, 600


async def settings(session: AsyncSession, guild_id: int) -> RumbleSettings:
    """The guild's rumble rules (the defaults until an admin changes one)."""
    return await guild_settings.slice_settings(session, RumbleSettings, guild_id)


async def configure(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> RumbleSettings:
    """Change the guild's rumble rules (columns of `RumbleSettings`)."""
    return await guild_settings.change_slice_settings(session, RumbleSettings, guild_id, now=now, **changes)


async def player(session: AsyncSession, guild_id: int, user_id: int) -> RumblePlayer | None:
    """A member's record (None before their first challenge or opt-out)."""
    return await session.get(RumblePlayer, (guild_id, user_id))


async def _ensure_players(session: AsyncSession, guild_id: int, *user_ids: int) -> None:
    for user_id in user_ids:
        values = {
            "guild_id": guild_id,
            "user_id": user_id,
            "wins": 0,
            "losses": 0,
            "rating": 1000,
            "points_won": 0,
            "opted_out": False,
        }
        await session.execute(insert_ignore(session, RumblePlayer, values))


async def set_opt_out(session: AsyncSession, guild_id: int, user_id: int, opted_out: bool) -> None:
    """Whether others may challenge this member."""
    await _ensure_players(session, guild_id, user_id)
    await session.execute(
        update(RumblePlayer)
        .where(RumblePlayer.guild_id == guild_id, RumblePlayer.user_id == user_id)
        .values(opted_out=opted_out)
    )


async def _lock_players(
    session: AsyncSession, guild_id: int, first: int, second: int
) -> tuple[RumblePlayer, RumblePlayer]:
    """Both players' rows, created if new and locked in ascending id order (no deadlock between two
    challenges of the same pair); a locking read, so it sees rows another request just committed."""
    await _ensure_players(session, guild_id, *sorted((first, second)))
    rows = await session.scalars(
        select(RumblePlayer)
        .where(RumblePlayer.guild_id == guild_id, RumblePlayer.user_id.in_((first, second)))
        .order_by(RumblePlayer.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = {row.user_id: row for row in rows}
    return found[first], found[second]


def _cooling_until(record: RumblePlayer, minutes: int) -> datetime | None:
    if record.last_battle_at is None or minutes <= 0:
        return None
    return record.last_battle_at + timedelta(minutes=minutes)


async def ready_at(session: AsyncSession, guild_id: int, user_id: int, now: datetime) -> datetime | None:
    """When the member's cooldown ends (None: they can fight now)."""
    record = await player(session, guild_id, user_id)
    if record is None:
        return None
    until = _cooling_until(record, (await settings(session, guild_id)).cooldown_minutes)
    return until if until is not None and until > now else None


async def challenge(
    session: AsyncSession,
    *,
    guild_id: int,
    challenger_id: int,
    opponent_id: int,
    opponent_is_bot: bool,
    stake: int,
    now: datetime,
) -> RumbleBattle:
    """Open a challenge, claiming both players; refused (nothing changed) when a rule says no."""
    if opponent_id == challenger_id:
        raise InvalidInput("You cannot challenge yourself.")
    if opponent_is_bot:
        raise InvalidInput("Bots do not fight rumbles; challenge a member.")
    rules = await settings(session, guild_id)
    if stake < 0:
        raise InvalidInput("The stake must be zero or a positive whole number.")
    if stake > rules.max_stake:
        raise InvalidInput("The stake is at most {maximum} points here.", maximum=rules.max_stake)
    mine, theirs = await _lock_players(session, guild_id, challenger_id, opponent_id)
    if theirs.opted_out:
        raise Forbidden("<@{user}> does not take rumble challenges.", user=opponent_id)
    for record, whose in ((mine, None), (theirs, opponent_id)):
        until = _cooling_until(record, rules.cooldown_minutes)
        if until is not None and until > now:
            if whose is None:
                raise OnCooldown("You can fight again {when}.", when=until)
            raise OnCooldown("<@{user}> can fight again {when}.", user=whose, when=until)
    if stake:
        for user_id in (challenger_id, opponent_id):
            have = await economy.balance(session, guild_id, user_id)
            if have < stake:
                raise InsufficientFunds(
                    "<@{user}> has {points} points, less than the stake of {stake}.",
                    user=user_id,
                    points=have,
                    stake=stake,
                )
    expires = now + timedelta(seconds=rules.challenge_timeout_seconds)
    fight = RumbleBattle(
        guild_id=guild_id,
        challenger_id=challenger_id,
        opponent_id=opponent_id,
        stake=stake,
        status=BattleStatus.PENDING,
        created_at=now,
        expires_at=expires,
        challenger_bonus=0,
        opponent_bonus=0,
        winner_points=0,
        loser_points=0,
        log="",
    )
    session.add(fight)
    await session.flush()
    claimed = await session.execute(
        update(RumblePlayer)
        .where(
            RumblePlayer.guild_id == guild_id,
            RumblePlayer.user_id.in_((challenger_id, opponent_id)),
            or_(RumblePlayer.pending_until.is_(None), RumblePlayer.pending_until <= now),
        )
        .values(pending_battle_id=fight.id, pending_until=expires)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 2:  # type: ignore[attr-defined]
        # the whole unit of work rolls back: the battle row and any claim vanish with it
        raise Conflict("One of you is already in a rumble challenge; finish or let it expire first.")
    return fight


@dataclass(frozen=True)
class Answer:
    """What pressing Accept or Decline did: the battle row, and the fight when there was one."""

    battle: RumbleBattle
    outcome: engine.Outcome | None = None
    challenger_rating: tuple[int, int] = (0, 0)
    opponent_rating: tuple[int, int] = (0, 0)
    unlocked: tuple[Achievement, ...] = ()
    """Achievements the winner unlocked with this battle (to announce)."""


async def _release(session: AsyncSession, fight: RumbleBattle) -> None:
    await session.execute(
        update(RumblePlayer)
        .where(RumblePlayer.guild_id == fight.guild_id, RumblePlayer.pending_battle_id == fight.id)
        .values(pending_battle_id=None, pending_until=None)
        .execution_options(synchronize_session=False)
    )


async def _claim(session: AsyncSession, fight: RumbleBattle, status: BattleStatus, now: datetime) -> bool:
    """Move a pending challenge on; False when another request already did (exactly one wins)."""
    done = await session.execute(
        update(RumbleBattle)
        .where(RumbleBattle.id == fight.id, RumbleBattle.status == BattleStatus.PENDING)
        .values(status=status, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


async def answer(
    session: AsyncSession,
    *,
    guild_id: int,
    battle_id: int,
    user_id: int,
    accept: bool,
    now: datetime,
    rng: RandomSource,
    channel_id: int | None = None,
) -> Answer:
    """The opponent accepts (the battle is fought) or declines; an expired challenge is closed.

    An achievement the winner unlocks is announced in `channel_id` (where the button was pressed).
    """
    fight = await session.get(RumbleBattle, battle_id)
    if fight is None or fight.guild_id != guild_id:
        raise NotFound("There is no rumble challenge #{id}.", id=str(battle_id))
    if user_id != fight.opponent_id:
        raise Forbidden("Only <@{user}> can answer this challenge.", user=fight.opponent_id)
    if fight.status is not BattleStatus.PENDING:
        raise Conflict("This challenge was already answered.")
    if fight.expires_at <= now:
        if await _claim(session, fight, BattleStatus.EXPIRED, now):
            await _release(session, fight)
        await session.refresh(fight)
        return Answer(fight)
    if not accept:
        if not await _claim(session, fight, BattleStatus.DECLINED, now):
            raise Conflict("This challenge was already answered.")
        await _release(session, fight)
        await session.refresh(fight)
        return Answer(fight)
    return await _fight(session, fight, now=now, rng=rng, channel_id=channel_id)


async def _fight(
    session: AsyncSession, fight: RumbleBattle, *, now: datetime, rng: RandomSource, channel_id: int | None
) -> Answer:
    if not await _claim(session, fight, BattleStatus.FOUGHT, now):
        raise Conflict("This challenge was already answered.")
    rules = await settings(session, fight.guild_id)
    if fight.stake:  # checked again now (a refusal rolls the claim back): points may have moved
        for uid in (fight.challenger_id, fight.opponent_id):
            have = await economy.balance(session, fight.guild_id, uid)
            if have < fight.stake:
                raise InsufficientFunds(
                    "<@{user}> has {points} points, less than the stake of {stake}.",
                    user=uid,
                    points=have,
                    stake=fight.stake,
                )
    mine, theirs = await _lock_players(session, fight.guild_id, fight.challenger_id, fight.opponent_id)
    seed = rng.new_seed()
    bonuses = (engine.bonus_for(mine.rating), engine.bonus_for(theirs.rating))
    outcome = engine.fight(seed, bonuses)
    winner, loser = (mine, theirs) if outcome.winner == 0 else (theirs, mine)
    new_winner, new_loser = engine.elo(winner.rating, loser.rating)
    before = (mine.rating, theirs.rating)
    won, lost = rules.points_per_win, rules.points_per_loss
    detail = f"rumble #{fight.id}"
    moves = [
        (winner.user_id, won, economy.Reason.RUMBLE_WIN),
        (loser.user_id, lost, economy.Reason.RUMBLE_LOSS),
        (loser.user_id, -fight.stake, economy.Reason.RUMBLE_STAKE),
        (winner.user_id, fight.stake, economy.Reason.RUMBLE_STAKE),
    ]
    for uid, amount, reason in moves:
        if amount == 0:
            continue
        if amount > 0:
            await economy.credit(
                session,
                guild_id=fight.guild_id,
                user_id=uid,
                amount=amount,
                reason=reason,
                now=now,
                detail=detail,
                channel_id=channel_id,
            )
        else:
            await economy.debit(
                session,
                guild_id=fight.guild_id,
                user_id=uid,
                amount=-amount,
                reason=reason,
                now=now,
                detail=detail,
            )
    await session.execute(
        update(RumbleBattle)
        .where(RumbleBattle.id == fight.id)
        .values(
            seed=seed,
            challenger_bonus=bonuses[0],
            opponent_bonus=bonuses[1],
            winner_id=winner.user_id,
            loser_id=loser.user_id,
            winner_points=won + fight.stake,
            loser_points=lost - fight.stake,
            log=engine.encode(outcome),
        )
        .execution_options(synchronize_session=False)
    )
    for record, rating, gained, is_winner in (
        (winner, new_winner, won + fight.stake, True),
        (loser, new_loser, lost - fight.stake, False),
    ):
        await session.execute(
            update(RumblePlayer)
            .where(RumblePlayer.guild_id == fight.guild_id, RumblePlayer.user_id == record.user_id)
            .values(
                wins=RumblePlayer.wins + (1 if is_winner else 0),
                losses=RumblePlayer.losses + (0 if is_winner else 1),
                rating=rating,
                points_won=RumblePlayer.points_won + gained,
                last_battle_at=now,
                pending_battle_id=None,
                pending_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    unlocked = await achievements.observe(
        session,
        guild_id=fight.guild_id,
        user_id=winner.user_id,
        stats={Stat.RUMBLE_WINS: winner.wins + 1},
        now=now,
        channel_id=channel_id,
    )
    await session.refresh(fight)
    after = {winner.user_id: new_winner, loser.user_id: new_loser}
    return Answer(
        fight,
        outcome,
        (before[0], after[fight.challenger_id]),
        (before[1], after[fight.opponent_id]),
        tuple(unlocked),
    )


@dataclass(frozen=True)
class Replay:
    """A battle recomputed from its seed, and whether it matches what was stored."""

    battle: RumbleBattle
    outcome: engine.Outcome
    matches: bool


async def replay(session: AsyncSession, guild_id: int, battle_id: int) -> Replay:
    """Fight a stored battle again from its seed and bonuses."""
    fight = await session.get(RumbleBattle, battle_id)
    if fight is None or fight.guild_id != guild_id or fight.status is not BattleStatus.FOUGHT:
        raise NotFound("There is no fought rumble battle #{id} on this server.", id=str(battle_id))
    assert fight.seed is not None
    outcome = engine.fight(fight.seed, (fight.challenger_bonus, fight.opponent_bonus))
    winner = fight.challenger_id if outcome.winner == 0 else fight.opponent_id
    return Replay(fight, outcome, engine.encode(outcome) == fight.log and winner == fight.winner_id)


async def history(
    session: AsyncSession,
    guild_id: int,
    user_id: int | None = None,
    *,
    page: int = 1,
    per_page: int = 10,
) -> Page[RumbleBattle]:
    """Fought battles, newest first: a member's, or the whole guild's (the ServerTimeIndex)."""
    where = [RumbleBattle.guild_id == guild_id, RumbleBattle.status == BattleStatus.FOUGHT]
    if user_id is not None:
        where.append(or_(RumbleBattle.challenger_id == user_id, RumbleBattle.opponent_id == user_id))
    total = int(await session.scalar(select(func.count()).select_from(RumbleBattle).where(*where)) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.scalars(
        select(RumbleBattle)
        .where(*where)
        .order_by(RumbleBattle.resolved_at.desc(), RumbleBattle.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(rows), page, pages, total)


@dataclass(frozen=True)
class Standing:
    """One line of the ranking."""

    rank: int
    user_id: int
    wins: int
    losses: int
    rating: int


async def ranking(
    session: AsyncSession, guild_id: int, *, since: datetime | None, page: int = 1, per_page: int = 10
) -> Page[Standing]:
    """Members by wins since `since` (all time when None), with their current Elo rating."""
    fought = and_(RumbleBattle.guild_id == guild_id, RumbleBattle.status == BattleStatus.FOUGHT)
    if since is not None:
        fought = and_(fought, RumbleBattle.resolved_at >= since)
    wins = (
        select(RumbleBattle.winner_id.label("user_id"), func.count().label("n"))
        .where(fought)
        .group_by(RumbleBattle.winner_id)
        .subquery()
    )
    losses = (
        select(RumbleBattle.loser_id.label("user_id"), func.count().label("n"))
        .where(fought)
        .group_by(RumbleBattle.loser_id)
        .subquery()
    )
    query = (
        select(RumblePlayer.user_id, wins.c.n, func.coalesce(losses.c.n, 0), RumblePlayer.rating)
        .join(wins, wins.c.user_id == RumblePlayer.user_id)
        .outerjoin(losses, losses.c.user_id == RumblePlayer.user_id)
        .where(RumblePlayer.guild_id == guild_id)
    )
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.execute(
        query.order_by(wins.c.n.desc(), RumblePlayer.rating.desc(), RumblePlayer.user_id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    start = (page - 1) * per_page
    items = [
        Standing(start + i + 1, int(uid), int(w), int(lost), int(rating))
        for i, (uid, w, lost, rating) in enumerate(rows)
    ]
    return Page(items, page, pages, total)
