"""Ways to earn points: `/daily` with a streak, `/pay`, message and voice activity, role multipliers.

Invariants: each member has one `economy_member` row, changed only by conditional UPDATEs, so two
racing `/daily` give one reward and two racing `/pay` cannot pass the daily limit; every grant is
an `economy.credit` (its ledger row in the same transaction); the day is the guild-local day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.core.errors import Conflict, InvalidInput
from kyrios.core.features import Feature
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Stat
from kyrios.features.economy import service as economy
from kyrios.features.economy.models import EconomyMember, EconomyRoleMultiplier, EconomySettings, Reason
from kyrios.features.guild_settings import service as guild_settings

MAX_VOICE_MINUTES = 12 * 60
"""Minutes one voice session can earn at most (a leave the bot missed must not pay for days)."""
NEUTRAL = 100


async def settings(session: AsyncSession, guild_id: int) -> EconomySettings:
    """The guild's earning rules (the defaults until an admin changes one), cached per config version."""
    return await guild_settings.slice_settings(session, EconomySettings, guild_id)


async def configure(
    session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any
) -> EconomySettings:
    """Change the guild's earning rules (columns of `EconomySettings`)."""
    return await guild_settings.change_slice_settings(session, EconomySettings, guild_id, now=now, **changes)


async def zone(session: AsyncSession, guild_id: int, default_timezone: str) -> ZoneInfo:
    """The guild's time zone."""
    return guild_settings.zone(await guild_settings.current(session, guild_id), default_timezone)


def guild_day(now: datetime, tz: ZoneInfo) -> tuple[date, datetime]:
    """The guild-local date of `now`, and the instant the next guild-local day starts."""
    local = now.astimezone(tz)
    return local.date(), datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)


async def enabled(session: AsyncSession, guild_id: int) -> bool:
    """Whether the guild has the economy switched on (activity earns nothing otherwise)."""
    return await guild_settings.is_feature_enabled(session, guild_id, Feature.ECONOMY)


# --- role multipliers -------------------------------------------------------------------------


async def set_multiplier(session: AsyncSession, guild_id: int, role_id: int, percent: int) -> None:
    """Set a role's multiplier; 100 % removes it."""
    await session.execute(
        delete(EconomyRoleMultiplier).where(
            EconomyRoleMultiplier.guild_id == guild_id, EconomyRoleMultiplier.role_id == role_id
        )
    )
    if percent != NEUTRAL:
        session.add(EconomyRoleMultiplier(guild_id=guild_id, role_id=role_id, percent=percent))
    await session.flush()


async def multipliers(session: AsyncSession, guild_id: int) -> list[tuple[int, int]]:
    """(role_id, percent) of the guild's roles with a multiplier, highest first."""
    rows = await session.execute(
        select(EconomyRoleMultiplier.role_id, EconomyRoleMultiplier.percent)
        .where(EconomyRoleMultiplier.guild_id == guild_id)
        .order_by(EconomyRoleMultiplier.percent.desc(), EconomyRoleMultiplier.role_id)
    )
    return [(int(role), int(percent)) for role, percent in rows]


async def multiplier(session: AsyncSession, guild_id: int, role_ids: tuple[int, ...]) -> int:
    """The member's multiplier in percent: the highest of their roles', 100 when none has one."""
    if not role_ids:
        return NEUTRAL
    best = await session.scalar(
        select(func.max(EconomyRoleMultiplier.percent)).where(
            EconomyRoleMultiplier.guild_id == guild_id, EconomyRoleMultiplier.role_id.in_(role_ids)
        )
    )
    return NEUTRAL if best is None else int(best)


def scaled(amount: int, percent: int) -> int:
    """`amount` times `percent` %, rounded down (integer points)."""
    return amount * percent // 100


# --- the member row ---------------------------------------------------------------------------

_MEMBER_COLUMNS = (
    "guild_id",
    "user_id",
    "daily_day",
    "daily_streak",
    "pay_day",
    "pay_sent",
    "message_at",
    "voice_since",
)


async def _create_member(sql: Sql, guild_id: int, user_id: int, **values: Any) -> bool:
    """Insert the member's row with `values` set; False when it already exists (nothing written).

    Callers try their conditional UPDATE first and insert only when it found no row: an insert on
    an existing key takes a shared lock, and two shared locks upgrading to exclusive deadlock.
    """
    row = {"guild_id": guild_id, "user_id": user_id, "daily_streak": 0, "pay_sent": 0} | values
    params = tuple(row.get(column) for column in _MEMBER_COLUMNS)
    return await sql.execute(sql.insert_ignore("economy_member", _MEMBER_COLUMNS), params) == 1


# --- /daily -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyReward:
    """What `/daily` gave."""

    amount: int
    streak: int
    percent: int
    balance: int
    next_at: datetime


_CLAIM_DAILY = (
    # MySQL assigns left to right: the streak reads daily_day before it changes.
    "UPDATE economy_member SET daily_streak = CASE WHEN daily_day = ? THEN daily_streak + 1 ELSE 1 END,"
    " daily_day = ? WHERE guild_id = ? AND user_id = ? AND (daily_day IS NULL OR daily_day < ?)"
)


def daily_amount(rules: EconomySettings, streak: int) -> int:
    """The base reward plus the streak bonus for each consecutive day after the first, up to the cap."""
    return rules.daily_amount + rules.streak_bonus * min(max(streak - 1, 0), rules.streak_cap)


async def claim_daily(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    role_ids: tuple[int, ...],
    now: datetime,
    default_timezone: str,
    channel_id: int | None = None,
) -> DailyReward:
    """Take today's reward (once per guild-local day); the streak continues from yesterday's.

    Streak and points achievements it earns are announced in `channel_id`."""
    rules = await settings(session, guild_id)
    if rules.daily_amount <= 0:
        raise InvalidInput("This server has no daily reward.")
    day, next_at = guild_day(now, await zone(session, guild_id, default_timezone))
    sql = await Sql.of(session)
    today, yesterday = sql.day(day), sql.day(day - timedelta(days=1))
    claimed = await sql.execute(_CLAIM_DAILY, (yesterday, today, guild_id, user_id, today)) == 1
    if not claimed:
        claimed = await _create_member(sql, guild_id, user_id, daily_day=today, daily_streak=1)
    if not claimed:
        raise Conflict("You already took today's reward. The next one is {next_at:R}.", next_at=next_at)
    streak = int(
        await sql.scalar(
            "SELECT daily_streak FROM economy_member WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
    )
    percent = await multiplier(session, guild_id, role_ids)
    amount = scaled(daily_amount(rules, streak), percent)
    after = await economy.balance(session, guild_id, user_id)
    if amount > 0:
        after = await economy.credit(
            session,
            guild_id=guild_id,
            user_id=user_id,
            amount=amount,
            reason=Reason.DAILY,
            detail=f"🔥{streak}",
            now=now,
            channel_id=channel_id,
        )
    await achievements.observe(
        session,
        guild_id=guild_id,
        user_id=user_id,
        stats={Stat.DAILY_STREAK: streak},
        now=now,
        channel_id=channel_id,
    )
    return DailyReward(amount, streak, percent, after, next_at)


# --- /pay -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    """What `/pay` did."""

    amount: int
    balance: int
    sent_today: int
    limit: int


_SPEND_ALLOWANCE = (
    # MySQL assigns left to right: pay_sent reads pay_day before it changes.
    "UPDATE economy_member SET pay_sent = CASE WHEN pay_day = ? THEN pay_sent + ? ELSE ? END, pay_day = ?"
    " WHERE guild_id = ? AND user_id = ?"
    " AND (? = 0 OR CASE WHEN pay_day = ? THEN pay_sent ELSE 0 END + ? <= ?)"
)


async def _spend_allowance(sql: Sql, guild_id: int, user_id: int, day: date, amount: int, limit: int) -> int:
    """Count `amount` against today's limit (0: none); returns the total sent today, or raises."""
    today = sql.day(day)
    params = (today, amount, amount, today, guild_id, user_id, limit, today, amount, limit)
    spent = await sql.execute(_SPEND_ALLOWANCE, params) == 1
    if not spent and (limit == 0 or amount <= limit):
        spent = await _create_member(sql, guild_id, user_id, pay_day=today, pay_sent=amount)
        if not spent:  # created meanwhile by another command: the UPDATE decides
            spent = await sql.execute(_SPEND_ALLOWANCE, params) == 1
    row = await sql.one(
        "SELECT pay_day, pay_sent FROM economy_member WHERE guild_id = ? AND user_id = ?{share}",
        (guild_id, user_id),
    )
    sent = int(row[1]) if row is not None and str(row[0]) == str(today) else 0
    if not spent:
        raise Conflict(
            "You can send {limit} points a day; you have sent {sent} today, so {left} are left.",
            limit=limit,
            sent=sent,
            left=max(limit - sent, 0),
        )
    return sent


async def pay(
    session: AsyncSession,
    *,
    guild_id: int,
    payer_id: int,
    payee_id: int,
    payee_is_bot: bool,
    amount: int,
    now: datetime,
    default_timezone: str,
    channel_id: int | None = None,
) -> Payment:
    """Move points between members: the payer's debit, the payee's credit and both ledger rows, in
    the command's one transaction."""
    if payee_id == payer_id:
        raise InvalidInput("You cannot pay yourself.")
    if payee_is_bot:
        raise InvalidInput("Bots cannot hold points.")
    economy.check_amount(amount)
    rules = await settings(session, guild_id)
    day, _ = guild_day(now, await zone(session, guild_id, default_timezone))
    sql = await Sql.of(session)
    sent = await _spend_allowance(sql, guild_id, payer_id, day, amount, rules.pay_daily_limit)
    # Accounts in id order, so two members paying each other lock them in the same order.
    payer_balance = 0
    for user_id in sorted((payer_id, payee_id)):
        if user_id == payer_id:
            payer_balance = await economy.debit(
                session,
                guild_id=guild_id,
                user_id=payer_id,
                amount=amount,
                reason=Reason.PAY_SENT,
                detail=f"<@{payee_id}>",
                actor_id=payer_id,
                now=now,
            )
        else:
            await economy.credit(
                session,
                guild_id=guild_id,
                user_id=payee_id,
                amount=amount,
                reason=Reason.PAY_RECEIVED,
                detail=f"<@{payer_id}>",
                actor_id=payer_id,
                now=now,
                channel_id=channel_id,
            )
    return Payment(amount, payer_balance, sent, rules.pay_daily_limit)


# --- activity ---------------------------------------------------------------------------------


async def message_sent(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    role_ids: tuple[int, ...],
    now: datetime,
    channel_id: int | None = None,
) -> int:
    """Points for a message, at most once per cooldown per member; returns what it earned (0 if none).

    A points milestone it reaches is announced in the message's `channel_id`."""
    rules = await settings(session, guild_id)
    if rules.message_points <= 0:
        return 0
    sql = await Sql.of(session)
    stamp = sql.stamp(now)
    cutoff = sql.stamp(now - timedelta(seconds=rules.message_cooldown_seconds))
    earned = (
        await sql.execute(
            "UPDATE economy_member SET message_at = ? WHERE guild_id = ? AND user_id = ?"
            " AND (message_at IS NULL OR message_at <= ?)",
            (stamp, guild_id, user_id, cutoff),
        )
        == 1
    )
    if not earned:
        earned = await _create_member(sql, guild_id, user_id, message_at=stamp)
    if not earned:
        return 0
    return await _grant(
        session, guild_id, user_id, rules.message_points, role_ids, Reason.MESSAGE_ACTIVITY, now, channel_id
    )


async def voice_joined(session: AsyncSession, *, guild_id: int, user_id: int, now: datetime) -> None:
    """Start the member's voice clock. A clock already running means a leave was missed (the bot
    was away): it restarts now, paying nothing for the time nobody saw."""
    sql = await Sql.of(session)
    stamp = sql.stamp(now)
    started = await sql.execute(
        "UPDATE economy_member SET voice_since = ? WHERE guild_id = ? AND user_id = ?",
        (stamp, guild_id, user_id),
    )
    if not started:
        await _create_member(sql, guild_id, user_id, voice_since=stamp)


async def voice_left(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    role_ids: tuple[int, ...],
    now: datetime,
    pay: bool = True,
) -> int:
    """Stop the member's voice clock and pay its whole minutes (unless not `pay`); returns what it earned."""
    since = await session.scalar(
        select(EconomyMember.voice_since)
        .where(EconomyMember.guild_id == guild_id, EconomyMember.user_id == user_id)
        .with_for_update()
    )
    if since is None:
        return 0
    sql = await Sql.of(session)
    stopped = await sql.execute(
        "UPDATE economy_member SET voice_since = NULL WHERE guild_id = ? AND user_id = ? AND voice_since = ?",
        (guild_id, user_id, sql.stamp(since)),
    )
    if stopped != 1 or not pay:
        return 0
    minutes = min(int((now - since).total_seconds() // 60), MAX_VOICE_MINUTES)
    rules = await settings(session, guild_id)
    if minutes <= 0 or rules.voice_points_per_minute <= 0:
        return 0
    amount = minutes * rules.voice_points_per_minute
    return await _grant(session, guild_id, user_id, amount, role_ids, Reason.VOICE_ACTIVITY, now)


async def _grant(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    base: int,
    role_ids: tuple[int, ...],
    reason: Reason,
    now: datetime,
    channel_id: int | None = None,
) -> int:
    amount = min(scaled(base, await multiplier(session, guild_id, role_ids)), economy.MAX_TRANSFER)
    if amount > 0:
        await economy.credit(
            session,
            guild_id=guild_id,
            user_id=user_id,
            amount=amount,
            reason=reason,
            now=now,
            channel_id=channel_id,
        )
    return amount
