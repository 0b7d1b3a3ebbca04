"""Players' net worth: valued now at the last prices, over a period, and as a history for a chart.

Net worth is free + reserved cash + every position at its symbol's last price. Trading P&L is net
worth minus net deposits (deposits − withdrawals, `ExchangeCash.net_deposits_cents`), so moving
cash in or out is never a gain or a loss. A period's change is the change of that P&L from the
period's baseline: the account's last history point at or before the period's start; an account
opened after the start starts from zero; an older account without such a point (opened before the
history was kept) starts from its first point in the period. The change in percent is the change
over the capital at work: the baseline's net worth plus the net deposits made since.

Players are the accounts of Discord users (`discord_id` set): bots and the market's issuer are
neither ranked nor recorded (`recorder.py` writes the history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import InvalidInput, NotFound
from kyrios.core.i18n import N_
from kyrios.exchange.models import (
    ExchangeAsset,
    ExchangeCash,
    ExchangeNetWorth,
    ExchangePosition,
    ExchangeUser,
)


class Period(StrEnum):
    """How far back a change or a chart reaches."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"

    @property
    def seconds(self) -> int | None:
        """The period's length; None for all time."""
        return _SECONDS.get(self)


_SECONDS = {Period.DAY: 86_400, Period.WEEK: 7 * 86_400, Period.MONTH: 30 * 86_400}
LEADERBOARD_PERIODS = (Period.DAY, Period.WEEK, Period.ALL)
HISTORY_PERIODS = (Period.DAY, Period.WEEK, Period.MONTH, Period.ALL)
CHART_STEP_SECONDS = {Period.DAY: 60, Period.WEEK: 900, Period.MONTH: 3_600, Period.ALL: 86_400}
"""A chart keeps the last point of each step: at most about 1,440 / 672 / 720 points, one a day."""
UNKNOWN_PERIOD = N_("There is no period '{period}'; choose one of: {choices}.")


def parse_period(text: str, allowed: tuple[Period, ...]) -> Period:
    """`text` as one of the `allowed` periods; any other value is refused, naming the choices."""
    for period in allowed:
        if text.strip().lower() == period.value:
            return period
    raise InvalidInput(UNKNOWN_PERIOD, period=text[:20], choices=", ".join(p.value for p in allowed))


@dataclass(frozen=True, slots=True)
class Valuation:
    """A player's account valued now."""

    user_id: int
    username: str
    discord_id: int
    created_at: datetime
    net_worth_cents: int
    net_deposits_cents: int

    @property
    def pnl_cents(self) -> int:
        """All-time trading P&L: net worth minus net deposits."""
        return self.net_worth_cents - self.net_deposits_cents


@dataclass(frozen=True, slots=True)
class Change:
    """A player's net worth now and its trading change over a period."""

    valuation: Valuation
    change_cents: int
    capital_cents: int
    """What the change is measured against: the baseline's net worth plus net deposits since."""

    @property
    def change_percent(self) -> float | None:
        """The change in percent of the capital at work (None without positive capital)."""
        if self.capital_cents <= 0:
            return None
        return round(100 * self.change_cents / self.capital_cents, 2)


@dataclass(frozen=True, slots=True)
class Point:
    """One point of a net-worth chart: UTC epoch seconds, net worth and net deposits then."""

    time: int
    net_worth_cents: int
    net_deposits_cents: int


async def valuations(session: AsyncSession, user_id: int | None = None) -> list[Valuation]:
    """Every player's account (or the one with `user_id`) valued at the last prices."""
    holdings = (
        select(
            ExchangePosition.user_id.label("user_id"),
            func.sum(ExchangePosition.quantity * ExchangeAsset.last_price_cents).label("value"),
        )
        .join(ExchangeAsset, ExchangeAsset.symbol == ExchangePosition.symbol)
        .group_by(ExchangePosition.user_id)
        .subquery()
    )
    query = (
        select(
            ExchangeUser.id,
            ExchangeUser.username,
            ExchangeUser.discord_id,
            ExchangeUser.created_at,
            ExchangeCash.cash_cents + ExchangeCash.reserved_cents,
            ExchangeCash.net_deposits_cents,
            holdings.c.value,
        )
        .join(ExchangeCash, ExchangeCash.user_id == ExchangeUser.id)
        .outerjoin(holdings, holdings.c.user_id == ExchangeUser.id)
        .where(ExchangeUser.discord_id.is_not(None))
    )
    if user_id is not None:
        query = query.where(ExchangeUser.id == user_id)
    return [
        Valuation(int(uid), name, int(discord_id), created_at, int(cash) + int(value or 0), int(deposits))
        for uid, name, discord_id, created_at, cash, deposits, value in await session.execute(query)
    ]


async def _points(
    session: AsyncSession, ids: list[int], moment: int, *, at_or_before: bool
) -> dict[int, tuple[int, int, int]]:
    """Per user of `ids`: (time, net worth, net deposits) of its last point at or before `moment`, or
    of its first point after it; users without such a point are left out. One index seek each."""
    if not ids:
        return {}
    point = select(ExchangeNetWorth).where(ExchangeNetWorth.user_id == ExchangeUser.id)
    if at_or_before:
        point = point.where(ExchangeNetWorth.snapshot_time <= moment).order_by(
            ExchangeNetWorth.snapshot_time.desc()
        )
    else:
        point = point.where(ExchangeNetWorth.snapshot_time > moment).order_by(ExchangeNetWorth.snapshot_time)
    point = point.limit(1).correlate(ExchangeUser)
    columns = (
        ExchangeNetWorth.snapshot_time,
        ExchangeNetWorth.net_worth_cents,
        ExchangeNetWorth.net_deposits_cents,
    )
    rows = await session.execute(
        select(ExchangeUser.id, *(point.with_only_columns(c).scalar_subquery() for c in columns)).where(
            ExchangeUser.id.in_(ids)
        )
    )
    return {int(uid): (int(t), int(nw), int(nd)) for uid, t, nw, nd in rows if t is not None}


async def last_points(session: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Each user's latest history point: (time, net worth, net deposits)."""
    return await _points(session, ids, 2**62, at_or_before=True)


async def _baselines(session: AsyncSession, start: int, users: list[Valuation]) -> dict[int, tuple[int, int]]:
    """(net worth, net deposits) at `start` per user that has a baseline (see the module docstring)."""
    found = await _points(session, [v.user_id for v in users], start, at_or_before=True)
    older = [v.user_id for v in users if v.user_id not in found and v.created_at.timestamp() < start]
    found |= await _points(session, older, start, at_or_before=False)
    return {uid: (nw, nd) for uid, (_, nw, nd) in found.items()}


def period_start(period: Period, now: datetime) -> int | None:
    """The period's first second (UTC epoch seconds); None for all time."""
    seconds = period.seconds
    return None if seconds is None else int(now.timestamp()) - seconds


async def changes(
    session: AsyncSession, period: Period, now: datetime, user_id: int | None = None
) -> list[Change]:
    """Every player's (or one's) net worth and trading change over `period` up to `now`."""
    valued = await valuations(session, user_id)
    start = period_start(period, now)
    if start is None:
        return [Change(v, v.pnl_cents, v.net_deposits_cents) for v in valued]
    baselines = await _baselines(session, start, valued)
    result = []
    for v in valued:
        baseline = baselines.get(v.user_id)
        if baseline is None:  # opened in the period: from zero; else no point yet: no change
            baseline = (
                (0, 0) if v.created_at.timestamp() >= start else (v.net_worth_cents, v.net_deposits_cents)
            )
        worth, deposits = baseline
        result.append(Change(v, v.pnl_cents - (worth - deposits), worth + v.net_deposits_cents - deposits))
    return result


async def leaderboard(session: AsyncSession, period: Period, now: datetime, limit: int) -> list[Change]:
    """The top `limit` players: by net worth for all time, by trading change for a day or a week."""
    ranked = await changes(session, period, now)
    if period is Period.ALL:
        ranked.sort(key=lambda c: (-c.valuation.net_worth_cents, c.valuation.user_id))
    else:
        ranked.sort(key=lambda c: (-c.change_cents, -c.valuation.net_worth_cents, c.valuation.user_id))
    return ranked[:limit]


async def history(
    session: AsyncSession, user_id: int, period: Period, now: datetime
) -> tuple[Change, list[Point]]:
    """The player's change over `period` and its chart: the baseline at the start (when there is
    one), the last recorded point of each chart step, and now."""
    found = await changes(session, period, now, user_id)
    if not found:
        raise NotFound("There is no exchange user {user_id}.", user_id=str(user_id))
    change = found[0]
    start = period_start(period, now)
    query = select(
        ExchangeNetWorth.snapshot_time, ExchangeNetWorth.net_worth_cents, ExchangeNetWorth.net_deposits_cents
    ).where(ExchangeNetWorth.user_id == user_id)
    points: list[Point] = []
    if start is not None:
        before = await session.execute(
            query.where(ExchangeNetWorth.snapshot_time <= start)
            .order_by(ExchangeNetWorth.snapshot_time.desc())
            .limit(1)
        )
        points += [Point(start, int(nw), int(nd)) for _, nw, nd in before]
        query = query.where(ExchangeNetWorth.snapshot_time > start)
    step = CHART_STEP_SECONDS[period]
    latest: dict[int, Point] = {}
    for time, nw, nd in await session.execute(query.order_by(ExchangeNetWorth.snapshot_time)):
        latest[int(time) // step] = Point(int(time), int(nw), int(nd))
    points += latest.values()
    now_seconds = int(now.timestamp())
    valuation = change.valuation
    if points and points[-1].time >= now_seconds:
        points.pop()
    points.append(Point(now_seconds, valuation.net_worth_cents, valuation.net_deposits_cents))
    return change, points
