"""Points economy.

Invariants: points are integers and never negative; every change of `points` is made in the
same transaction as its `economy_ledger` row, so `points == sum(delta)` for every account;
spending is a conditional `UPDATE … WHERE points >= cost` (no check-then-act race), and a
refusal states the balance that update saw (a locking read, not the transaction's snapshot).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.core.errors import InsufficientFunds, InvalidInput
from kyrios.core.paging import Page, clamp_page
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Stat
from kyrios.features.economy.models import EconomyAccount, EconomyLedger
from kyrios.features.economy.models import Reason as Reason  # other slices name it through the service

MAX_BALANCE = 10**15
MAX_TRANSFER = 10**9


def check_amount(amount: int) -> None:
    """Amounts are positive whole numbers within a sane bound."""
    if amount <= 0:
        raise InvalidInput("The amount must be a positive whole number.")
    if amount > MAX_TRANSFER:
        raise InvalidInput("The amount is too large (at most {maximum}).", maximum=MAX_TRANSFER)


async def balance(session: AsyncSession, guild_id: int, user_id: int) -> int:
    """Current points (0 for a member who never had any)."""
    return await _points(await Sql.of(session), guild_id, user_id)


_POINTS = "SELECT points FROM economy_account WHERE guild_id = ? AND user_id = ?"
# The latest committed points: under MariaDB's REPEATABLE READ a plain read answers from the
# snapshot of the transaction's first read (the command's feature gate), older than what a
# conditional UPDATE sees.
_CURRENT_POINTS = _POINTS + "{share}"


async def _points(sql: Sql, guild_id: int, user_id: int, *, current: bool = False) -> int:
    points = await sql.scalar(_CURRENT_POINTS if current else _POINTS, (guild_id, user_id))
    return int(points or 0)


async def _record(
    sql: Sql,
    *,
    guild_id: int,
    user_id: int,
    delta: int,
    reason: Reason,
    detail: str,
    actor_id: int | None,
    now: datetime,
    after: int | None = None,
) -> int:
    """Write the ledger row of a change just made; returns the balance after it (read if not given)."""
    if after is None:
        after = await _points(sql, guild_id, user_id)
    await sql.execute(
        "INSERT INTO economy_ledger (guild_id, user_id, delta, balance_after, reason, detail, actor_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (guild_id, user_id, delta, after, reason.value, detail[:200], actor_id, sql.stamp(now)),
    )
    return after


_CREDIT = "UPDATE economy_account SET points = points + ? WHERE guild_id = ? AND user_id = ? AND points <= ?"
_DEBIT = "UPDATE economy_account SET points = points - ? WHERE guild_id = ? AND user_id = ? AND points >= ?"


async def credit(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    amount: int,
    reason: Reason,
    now: datetime,
    detail: str = "",
    actor_id: int | None = None,
    channel_id: int | None = None,
) -> int:
    """Add points and write the ledger row; returns the new balance.

    A points milestone the new balance reaches is unlocked here, announced in `channel_id`.
    """
    check_amount(amount)
    sql = await Sql.of(session)
    params = (amount, guild_id, user_id, MAX_BALANCE - amount)
    if await sql.execute(_CREDIT, params) != 1:
        # Create the account only when the update found none: inserting first would take a
        # shared lock on an existing row, and two such locks upgrading to exclusive deadlock.
        await sql.execute(
            sql.insert_ignore("economy_account", ("guild_id", "user_id", "points", "created_at")),
            (guild_id, user_id, 0, sql.stamp(now)),
        )
        if await sql.execute(_CREDIT, params) != 1:
            raise InvalidInput(
                "That would take the balance over the maximum of {maximum} points.", maximum=MAX_BALANCE
            )
    after = await _record(
        sql,
        guild_id=guild_id,
        user_id=user_id,
        delta=amount,
        reason=reason,
        detail=detail,
        actor_id=actor_id,
        now=now,
    )
    await achievements.observe(
        session,
        guild_id=guild_id,
        user_id=user_id,
        stats={Stat.POINTS_BALANCE: after},
        now=now,
        channel_id=channel_id,
    )
    return after


async def debit(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    amount: int,
    reason: Reason,
    now: datetime,
    detail: str = "",
    actor_id: int | None = None,
) -> int:
    """Take points if the member has enough (atomically), write the ledger row; returns the new balance."""
    check_amount(amount)
    sql = await Sql.of(session)
    params = (amount, guild_id, user_id, amount)
    after: int | None = None
    if sql.has_returning:
        row = await sql.one(_DEBIT + " RETURNING points", params)
        taken = row is not None
        after = int(row[0]) if row is not None else None
    else:
        taken = await sql.execute(_DEBIT, params) == 1
    if not taken:
        have = await _points(sql, guild_id, user_id, current=True)
        raise InsufficientFunds("You need {cost} points but have {points}.", cost=amount, points=have)
    return await _record(
        sql,
        guild_id=guild_id,
        user_id=user_id,
        delta=-amount,
        reason=reason,
        detail=detail,
        actor_id=actor_id,
        now=now,
        after=after,
    )


async def history(
    session: AsyncSession, guild_id: int, user_id: int, *, page: int = 1, per_page: int = 10
) -> Page[EconomyLedger]:
    """The member's own ledger, newest first."""
    where = (EconomyLedger.guild_id == guild_id, EconomyLedger.user_id == user_id)
    total = int(await session.scalar(select(func.count()).select_from(EconomyLedger).where(*where)) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.scalars(
        select(EconomyLedger)
        .where(*where)
        .order_by(EconomyLedger.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(rows), page, pages, total)


async def leaderboard(
    session: AsyncSession, guild_id: int, *, page: int = 1, per_page: int = 10
) -> Page[tuple[int, int, int]]:
    """(rank, user_id, points) for members with points, richest first."""
    where = (EconomyAccount.guild_id == guild_id, EconomyAccount.points > 0)
    total = int(await session.scalar(select(func.count()).select_from(EconomyAccount).where(*where)) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.execute(
        select(EconomyAccount.user_id, EconomyAccount.points)
        .where(*where)
        .order_by(EconomyAccount.points.desc(), EconomyAccount.user_id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    start = (page - 1) * per_page
    return Page(
        [(start + i + 1, int(uid), int(pts)) for i, (uid, pts) in enumerate(rows)], page, pages, total
    )


class Period(StrEnum):
    """A leaderboard's span: this guild-local week (from Monday), this month, or all time."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"


def period_start(period: Period, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant the guild-local week or month of `now` began (None for all time)."""
    day = now.astimezone(tz).date()
    if period is Period.WEEK:
        day -= timedelta(days=day.weekday())
    elif period is Period.MONTH:
        day = day.replace(day=1)
    else:
        return None
    return datetime.combine(day, time(0), tzinfo=tz)


NOT_EARNED = (Reason.PAY_RECEIVED,)
"""Credits that move points between members rather than earn them: left out of period boards."""


async def earned_leaderboard(
    session: AsyncSession, guild_id: int, since: datetime, *, page: int = 1, per_page: int = 10
) -> Page[tuple[int, int, int]]:
    """(rank, user_id, points earned since `since`), from the ledger's credits, highest first.

    Reads one guild's rows newer than `since` through `ix_economy_ledger_guild_created`, so a
    week's board costs that week's rows, not the guild's whole history.
    """
    earned = func.sum(EconomyLedger.delta).label("earned")
    per_member = (
        select(EconomyLedger.user_id, earned)
        .where(
            EconomyLedger.guild_id == guild_id,
            EconomyLedger.created_at >= since,
            EconomyLedger.delta > 0,
            EconomyLedger.reason.not_in(NOT_EARNED),
        )
        .group_by(EconomyLedger.user_id)
    )
    total = int(await session.scalar(select(func.count()).select_from(per_member.subquery())) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.execute(
        per_member.order_by(earned.desc(), EconomyLedger.user_id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    start = (page - 1) * per_page
    return Page(
        [(start + i + 1, int(uid), int(pts)) for i, (uid, pts) in enumerate(rows)], page, pages, total
    )


async def rank(session: AsyncSession, guild_id: int, user_id: int) -> int | None:
    """The member's place on the points leaderboard (None without points)."""
    points = await balance(session, guild_id, user_id)
    if points <= 0:
        return None
    higher = await session.scalar(
        select(func.count())
        .select_from(EconomyAccount)
        .where(EconomyAccount.guild_id == guild_id, EconomyAccount.points > points)
    )
    return int(higher or 0) + 1


async def unbalanced_accounts(session: AsyncSession) -> list[tuple[int, int, int, int]]:
    """Accounts whose points differ from their ledger sum: (guild, user, points, sum); empty when sound."""
    ledger = (
        select(EconomyLedger.guild_id, EconomyLedger.user_id, func.sum(EconomyLedger.delta).label("total"))
        .group_by(EconomyLedger.guild_id, EconomyLedger.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            EconomyAccount.guild_id, EconomyAccount.user_id, EconomyAccount.points, ledger.c.total
        ).outerjoin(
            ledger,
            (ledger.c.guild_id == EconomyAccount.guild_id) & (ledger.c.user_id == EconomyAccount.user_id),
        )
    )
    return [
        (int(g), int(u), int(p), int(t or 0)) for g, u, p, t in rows if int(p) != int(t or 0) or int(p) < 0
    ]
