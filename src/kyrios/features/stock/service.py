"""Points ⇄ game cash: a member's guild points and their exchange cash change in one transaction.

Invariants: the points ledger row, the exchange cash ledger row and the transfer row are written
in the command's one unit of work, or none is (a refusal anywhere, the exchange's fence included,
rolls all back); a member converts at most `daily_limit_points` each way per guild-local day; the
member's points row is locked before the day's transfers are read, so two conversions of one
member cannot both pass the limit. Ledger details are written once, for everyone, in the guild's
language (its setting, else Discord's guild locale), as the economy's other ledger rows are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import InvalidInput, OnCooldown
from kyrios.core.i18n import N_, Translator, negotiate, plain_text
from kyrios.features.economy import service as economy
from kyrios.features.economy.models import Reason
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.stock.models import StockSettings, StockTransfer

if TYPE_CHECKING:
    from kyrios.exchange.client import ExchangeClient

MAX_RATE_CENTS = 10**6
MAX_DAILY_LIMIT = 10**9
MAX_WINDOW_MINUTES = 24 * 60
DEPOSIT_DETAIL = N_("Stock deposit")
WITHDRAW_DETAIL = N_("Stock withdrawal")
CASH_IN_DETAIL = N_("Points from server {guild_id}")
CASH_OUT_DETAIL = N_("Points to server {guild_id}")


@dataclass(frozen=True, slots=True)
class Transfer:
    """What a conversion did: points and cash moved, both balances after, what is left today."""

    points: int
    cash_cents: int
    points_after: int
    cash_after_cents: int
    left_today: int


async def settings(session: AsyncSession, guild_id: int) -> StockSettings:
    """The guild's rate and limit (the defaults until an admin changes one)."""
    return await guild_settings.slice_settings(session, StockSettings, guild_id)


async def configure(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> StockSettings:
    """Change any of the guild's `StockSettings` columns (rate, limit, notifications)."""
    return await guild_settings.change_slice_settings(session, StockSettings, guild_id, now=now, **changes)


async def _ledger_language(session: AsyncSession, guild_id: int, guild_locale: str | None) -> Translator:
    shared = await guild_settings.get(session, guild_id)
    return plain_text(negotiate(shared.locale, guild_locale))


async def _day_start(session: AsyncSession, guild_id: int, now: datetime, default_timezone: str) -> datetime:
    shared = await guild_settings.get(session, guild_id)
    zone: ZoneInfo = guild_settings.zone(shared, default_timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


async def _converted_today(
    session: AsyncSession, guild_id: int, user_id: int, since: datetime, *, into_cash: bool
) -> int:
    """Points converted today in one direction: a locking read (the latest rows, never an old snapshot)."""
    rows = await session.scalars(
        select(StockTransfer.points)
        .where(
            StockTransfer.guild_id == guild_id,
            StockTransfer.user_id == user_id,
            StockTransfer.created_at >= since,
        )
        .with_for_update()
    )
    return sum(p for p in rows if (p > 0) == into_cash)


async def _check_limit(
    session: AsyncSession,
    rules: StockSettings,
    guild_id: int,
    user_id: int,
    points: int,
    since: datetime,
    *,
    into_cash: bool,
) -> int:
    done = await _converted_today(session, guild_id, user_id, since, into_cash=into_cash)
    left = rules.daily_limit_points - done
    if points > left:
        raise OnCooldown(
            "You can convert {limit} points a day each way; {left} are left today.",
            limit=rules.daily_limit_points,
            left=max(left, 0),
        )
    return left - points


async def deposit(
    session: AsyncSession,
    exchange: ExchangeClient,
    *,
    guild_id: int,
    user_id: int,
    name: str,
    points: int,
    now: datetime,
    default_timezone: str,
    guild_locale: str | None = None,
) -> Transfer:
    """Turn `points` of the member's guild points into game cash at the guild's rate."""
    economy.check_amount(points)
    rules = await settings(session, guild_id)
    cash = points * rules.cents_per_point
    words = await _ledger_language(session, guild_id, guild_locale)
    points_after = await economy.debit(
        session,
        guild_id=guild_id,
        user_id=user_id,
        amount=points,
        reason=Reason.EXCHANGE,
        now=now,
        detail=words.t(DEPOSIT_DETAIL),
    )
    since = await _day_start(session, guild_id, now, default_timezone)
    left = await _check_limit(session, rules, guild_id, user_id, points, since, into_cash=True)
    cash_after = await exchange.deposit_within(
        session, user_id, name, cash, now=now, detail=words.t(CASH_IN_DETAIL, guild_id=str(guild_id))
    )
    session.add(
        StockTransfer(guild_id=guild_id, user_id=user_id, points=points, cash_cents=cash, created_at=now)
    )
    await session.flush()
    return Transfer(points, cash, points_after, cash_after, left)


async def withdraw(
    session: AsyncSession,
    exchange: ExchangeClient,
    *,
    guild_id: int,
    user_id: int,
    cash_cents: int,
    now: datetime,
    default_timezone: str,
    guild_locale: str | None = None,
) -> Transfer:
    """Turn `cash_cents` of the member's free game cash back into guild points at the guild's rate."""
    rules = await settings(session, guild_id)
    words = await _ledger_language(session, guild_id, guild_locale)
    rate = rules.cents_per_point
    if cash_cents <= 0 or cash_cents % rate:
        raise InvalidInput(
            "At this server's rate one point is {rate:cents} of cash: withdraw a multiple of it.", rate=rate
        )
    points = cash_cents // rate
    points_after = await economy.credit(
        session,
        guild_id=guild_id,
        user_id=user_id,
        amount=points,
        reason=Reason.EXCHANGE,
        now=now,
        detail=words.t(WITHDRAW_DETAIL),
    )
    since = await _day_start(session, guild_id, now, default_timezone)
    left = await _check_limit(session, rules, guild_id, user_id, points, since, into_cash=False)
    cash_after = await exchange.withdraw_within(
        session, user_id, cash_cents, now=now, detail=words.t(CASH_OUT_DETAIL, guild_id=str(guild_id))
    )
    session.add(
        StockTransfer(
            guild_id=guild_id, user_id=user_id, points=-points, cash_cents=-cash_cents, created_at=now
        )
    )
    await session.flush()
    return Transfer(points, cash_cents, points_after, cash_after, left)
