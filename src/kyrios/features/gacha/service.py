"""Gacha.

Invariants: one free pull per member per guild-local day (primary key on the day); paid pulls
debit points through the economy ledger in the same transaction; after `pity_threshold - 1`
pulls without a top-rarity item the next pull is a top-rarity item; every pull is stored with
the seed that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql, cache_of, insert_ignore
from kyrios.core.errors import Conflict, InvalidInput, NotFound
from kyrios.core.i18n import Translator, negotiate, plain_text
from kyrios.core.paging import Page, clamp_page
from kyrios.core.rng import RandomSource
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Achievement, Stat
from kyrios.features.economy import service as economy
from kyrios.features.gacha import owned
from kyrios.features.gacha.defaults import DEFAULT_ITEMS
from kyrios.features.gacha.models import (
    GachaItem,
    GachaOwnedItem,
    GachaPull,
    GachaSettings,
    GachaStats,
    Rarity,
)
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.guild_settings.models import DEFAULT_TIMEZONE, GuildSettings

MAX_PULLS_PER_COMMAND = 10
MAX_WEIGHT = 1_000_000
MAX_ITEMS_PER_GUILD = 200
CACHE_NAMESPACE = "gacha_table"
GACHA_ACHIEVEMENTS = (
    "gacha_first_pull",
    "gacha_legends",
    "gacha_high_roller",
    "gacha_collector",
    "gacha_collector_25",
    "gacha_collector_50",
)
"""The achievements a pull's stats feed; a code's position is its bit in `gacha_stats.unlocked`
(append only)."""


@dataclass(frozen=True, slots=True)
class Drawn:
    """One pull as shown to the member."""

    item_id: int
    item_name: str
    rarity: Rarity
    cost_points: int
    free: bool
    pity: bool


@dataclass
class PullResult:
    """What one `/gacha pull` gave."""

    pulls: list[Drawn]
    points_spent: int
    balance: int
    pulls_until_pity: int | None
    next_free_at: datetime | None
    unlocked: list[Achievement] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TableItem:
    """An item that can be drawn, as cached per guild configuration version."""

    id: int
    name: str
    rarity: Rarity
    weight: int


@dataclass(frozen=True)
class DrawTable:
    """A guild's drawable items with their cumulative weights, for the normal and the pity pool."""

    items: tuple[TableItem, ...]
    cumulative: tuple[int, ...]
    top: Rarity
    top_items: tuple[TableItem, ...]
    top_cumulative: tuple[int, ...]
    ever: int  # items the guild ever had, removed ones included: the most a member can collect

    @classmethod
    def of(cls, items: list[TableItem], ever: int) -> DrawTable:
        """Build from the active items (at least one)."""
        top = max((item.rarity for item in items), key=lambda r: r.rank)
        top_items = [item for item in items if item.rarity == top]
        return cls(
            tuple(items),
            tuple(accumulate(item.weight for item in items)),
            top,
            tuple(top_items),
            tuple(accumulate(item.weight for item in top_items)),
            ever,
        )


@dataclass
class MemberStats:
    """A member's pull counters, as locked for one pull."""

    total_pulls: int
    pulls_since_top: int
    top_pulls: int
    last_free_day: Any  # as the driver returns a Date column
    unlocked: int  # one bit per GACHA_ACHIEVEMENTS code known to be unlocked


@dataclass(frozen=True)
class Rate:
    """One item's published chance."""

    name: str
    rarity: Rarity
    weight: int
    percent: float


async def settings(session: AsyncSession, guild_id: int) -> GachaSettings:
    """The guild's gacha rules (the defaults until an admin changes one), cached per config version."""
    return await guild_settings.slice_settings(session, GachaSettings, guild_id)


async def configure(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> GachaSettings:
    """Change the guild's gacha rules (`pull_cost`, `pity_threshold`, `daily_free`)."""
    return await guild_settings.change_slice_settings(session, GachaSettings, guild_id, now=now, **changes)


def guild_language(settings: GuildSettings, guild_locale: str | None) -> Translator:
    """The guild's language for what is written once for everyone (item names, ledger details):
    its setting, else Discord's guild locale, else English."""
    return plain_text(negotiate(settings.locale, guild_locale))


async def ensure_items(
    session: AsyncSession, guild_id: int, now: datetime, *, guild_locale: str | None = None
) -> None:
    """Give a guild that never had items the default table, named in the guild's language."""
    has_any = await session.scalar(select(GachaItem.id).where(GachaItem.guild_id == guild_id).limit(1))
    if has_any is not None:
        return
    language = guild_language(await guild_settings.current(session, guild_id), guild_locale)
    for name, rarity, weight in DEFAULT_ITEMS:
        values = {
            "guild_id": guild_id,
            "name": language.t(name),
            "rarity": rarity,
            "weight": weight,
            "active": True,
            "created_at": now,
        }
        await session.execute(insert_ignore(session, GachaItem, values))


async def active_items(session: AsyncSession, guild_id: int) -> list[GachaItem]:
    """The guild's items that can be drawn, rarest first."""
    # A locking read sees rows committed after this transaction's snapshot (MariaDB's REPEATABLE
    # READ would otherwise hide the default table another transaction just created).
    rows = await session.scalars(
        select(GachaItem)
        .where(GachaItem.guild_id == guild_id, GachaItem.active.is_(True))
        .with_for_update(read=True)
    )
    return sorted(rows, key=lambda item: (-item.rarity.rank, -item.weight, item.name))


async def draw_table(
    session: AsyncSession, guild_id: int, version: int, now: datetime, *, guild_locale: str | None = None
) -> DrawTable | None:
    """The guild's drawable items (the default table for a new guild), cached per config version."""
    cache = cache_of(session)
    table: DrawTable | None = cache.get(CACHE_NAMESPACE, guild_id, version)
    if table is not None:
        return table
    rows = await active_items(session, guild_id)
    created_here = not rows
    if created_here:
        await ensure_items(session, guild_id, now, guild_locale=guild_locale)
        rows = await active_items(session, guild_id)
    if not rows:
        return None
    ever = await session.scalar(
        select(func.count()).select_from(GachaItem).where(GachaItem.guild_id == guild_id)
    )
    table = DrawTable.of([TableItem(r.id, r.name, r.rarity, r.weight) for r in rows], int(ever or 0))
    if not created_here:  # a table made by this transaction is gone if it rolls back
        cache.put(CACHE_NAMESPACE, guild_id, version, table)
    return table


def guild_day(now: datetime, tz: ZoneInfo) -> tuple[date, datetime]:
    """The guild-local date of `now`, and the instant the next guild-local day starts."""
    local = now.astimezone(tz)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return local.date(), next_midnight


_STATS = (
    "SELECT total_pulls, pulls_since_top, top_pulls, last_free_day, unlocked FROM gacha_stats"
    " WHERE guild_id = ? AND user_id = ?{lock}"
)


async def _lock_stats(sql: Sql, guild_id: int, user_id: int) -> MemberStats:
    """Lock (creating if needed) the member's stats row: the per-member mutex of every pull.

    Lock first, insert only when missing: an INSERT IGNORE on an existing key takes a shared
    lock, and two transactions upgrading shared locks to exclusive deadlock each other.
    """
    row = await sql.one(_STATS, (guild_id, user_id))
    if row is None:
        columns = ("guild_id", "user_id", "total_pulls", "pulls_since_top", "top_pulls", "unlocked")
        await sql.execute(sql.insert_ignore("gacha_stats", columns), (guild_id, user_id, 0, 0, 0, 0))
        row = await sql.one(_STATS, (guild_id, user_id))
        assert row is not None
    return MemberStats(int(row[0]), int(row[1]), int(row[2]), row[3], int(row[4]))


async def claim_daily(session: AsyncSession, guild_id: int, user_id: int, day: date, now: datetime) -> bool:
    """Take today's free pull; False if it was already taken."""
    sql = await Sql.of(session)
    columns = ("guild_id", "user_id", "day", "claimed_at")
    claimed = await sql.execute(
        sql.insert_ignore("gacha_daily_claim", columns), (guild_id, user_id, sql.day(day), sql.stamp(now))
    )
    return claimed == 1


_INSERT_PULL = (
    "INSERT INTO gacha_pull (guild_id, user_id, item_id, item_name, rarity, cost_points, free, pity,"
    " seed, seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SAVE_STATS = (
    "UPDATE gacha_stats SET total_pulls = ?, pulls_since_top = ?, top_pulls = ?, last_free_day = ?,"
    " unlocked = ? WHERE guild_id = ? AND user_id = ?"
)


async def pull(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    count: int,
    now: datetime,
    rng: RandomSource,
    daily_only: bool = False,
    default_timezone: str = DEFAULT_TIMEZONE,
    guild_locale: str | None = None,
    channel_id: int | None = None,
) -> PullResult:
    """Pull `count` times: today's free pull first if unclaimed, the rest paid with points.

    `guild_locale` (Discord's) names a new guild's default items and the ledger's detail when
    the guild set no language; an achievement the pull unlocks is announced in `channel_id`.
    """
    if not 1 <= count <= MAX_PULLS_PER_COMMAND:
        raise InvalidInput("You can pull 1 to {maximum} times at once.", maximum=MAX_PULLS_PER_COMMAND)
    sql = await Sql.of(session)
    stats = await _lock_stats(sql, guild_id, user_id)
    version, shared = await guild_settings.snapshot(session, guild_id)
    rules = await settings(session, guild_id)  # cached at the same version: no read of its own
    day, next_day = guild_day(now, guild_settings.zone(shared, default_timezone))
    table = await draw_table(session, guild_id, version, now, guild_locale=guild_locale)
    if table is None:
        raise NotFound("This server's gacha has no items yet. An admin can add some with `/gacha item add`.")

    free = 0
    today = sql.day(day)
    if rules.daily_free and stats.last_free_day != today:
        # The claim's primary key decides; the hint only saves the attempt once it is known.
        free = int(await claim_daily(session, guild_id, user_id, day, now))
        stats.last_free_day = today
    if not free and daily_only:
        raise Conflict("You already took today's free pull. The next one is {next_at:R}.", next_at=next_day)
    paid = count - free
    cost = paid * rules.pull_cost
    if cost == 0:
        balance = await economy.balance(session, guild_id, user_id)
    else:
        # Stored with the ledger row and shown as written: in the guild's language.
        detail = guild_language(shared, guild_locale).tn("{n} gacha pull", "{n} gacha pulls", paid)
        balance = await economy.debit(
            session,
            guild_id=guild_id,
            user_id=user_id,
            amount=cost,
            reason=economy.Reason.GACHA_PULL,
            detail=detail,
            now=now,
        )

    seed = rng.new_seed()
    generator = rng.generator(seed)
    threshold = rules.pity_threshold
    pulls: list[Drawn] = []
    rows = []
    stamp = sql.stamp(now)
    for seq in range(count):
        pity = threshold > 0 and stats.pulls_since_top + 1 >= threshold
        if pity:
            item = generator.choices(table.top_items, cum_weights=table.top_cumulative, k=1)[0]
        else:
            item = generator.choices(table.items, cum_weights=table.cumulative, k=1)[0]
        is_top = item.rarity == table.top
        stats.total_pulls += 1
        stats.pulls_since_top = 0 if is_top else stats.pulls_since_top + 1
        stats.top_pulls += int(is_top)
        drawn = Drawn(
            item.id,
            item.name,
            item.rarity,
            0 if seq < free else rules.pull_cost,
            seq < free,
            pity and is_top,
        )
        pulls.append(drawn)
        rows.append(
            (
                guild_id,
                user_id,
                item.id,
                item.name,
                item.rarity.value,
                drawn.cost_points,
                drawn.free,
                drawn.pity,
                seed,
                seq,
                stamp,
            )
        )
    await sql.many(_INSERT_PULL, rows)
    distinct = await owned.add(sql, guild_id, user_id, [p.item_id for p in pulls], now)
    progress = {Stat.GACHA_PULLS: stats.total_pulls, Stat.GACHA_TOP_PULLS: stats.top_pulls}
    if distinct is not None:  # only a new item can earn a collector tier
        progress[Stat.GACHA_DISTINCT_ITEMS] = distinct
    known = {code for code in GACHA_ACHIEVEMENTS if stats.unlocked & _ACHIEVEMENT_BITS[code]}
    unlocked = await achievements.observe(
        session,
        guild_id=guild_id,
        user_id=user_id,
        stats=progress,
        now=now,
        channel_id=channel_id,
        known=known,
    )
    for code in achievements.earned(progress, known):  # new or already unlocked: no need to look again
        stats.unlocked |= _ACHIEVEMENT_BITS[code]
    await sql.execute(
        _SAVE_STATS,
        (
            stats.total_pulls,
            stats.pulls_since_top,
            stats.top_pulls,
            stats.last_free_day,
            stats.unlocked,
            guild_id,
            user_id,
        ),
    )
    return PullResult(
        pulls=pulls,
        points_spent=cost,
        balance=balance,
        pulls_until_pity=threshold - stats.pulls_since_top if threshold > 0 else None,
        next_free_at=next_day if rules.daily_free else None,
        unlocked=unlocked,
    )


_ACHIEVEMENT_BITS = {code: 1 << index for index, code in enumerate(GACHA_ACHIEVEMENTS)}


async def rates(
    session: AsyncSession, guild_id: int, now: datetime, *, guild_locale: str | None = None
) -> list[Rate]:
    """Every active item's chance of a normal (non-pity) pull."""
    await ensure_items(session, guild_id, now, guild_locale=guild_locale)
    items = await active_items(session, guild_id)
    total = sum(item.weight for item in items)
    return [Rate(i.name, i.rarity, i.weight, 100 * i.weight / total if total else 0.0) for i in items]


async def pity_counter(session: AsyncSession, guild_id: int, user_id: int) -> int:
    """Pulls since the member's last top-rarity item."""
    since = await session.scalar(
        select(GachaStats.pulls_since_top).where(
            GachaStats.guild_id == guild_id, GachaStats.user_id == user_id
        )
    )
    return int(since or 0)


async def total_pulls(session: AsyncSession, guild_id: int, user_id: int) -> int:
    """How many times the member pulled."""
    total = await session.scalar(
        select(GachaStats.total_pulls).where(GachaStats.guild_id == guild_id, GachaStats.user_id == user_id)
    )
    return int(total or 0)


async def distinct_items(session: AsyncSession, guild_id: int, user_id: int) -> int:
    """How many different items the member owns (their owned-item rows, not their pulls)."""
    return await owned.distinct(await Sql.of(session), guild_id, user_id)


async def history(
    session: AsyncSession, guild_id: int, user_id: int, *, page: int = 1, per_page: int = 10
) -> Page[GachaPull]:
    """The member's pulls, newest first."""
    where = (GachaPull.guild_id == guild_id, GachaPull.user_id == user_id)
    total = int(await session.scalar(select(func.count()).select_from(GachaPull).where(*where)) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.scalars(
        select(GachaPull)
        .where(*where)
        .order_by(GachaPull.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(rows), page, pages, total)


async def collection(
    session: AsyncSession, guild_id: int, user_id: int, *, page: int = 1, per_page: int = 15
) -> Page[tuple[str, Rarity, int]]:
    """(item, rarity, copies) owned by the member, rarest first."""
    rows = await session.execute(
        select(GachaItem.name, GachaItem.rarity, GachaOwnedItem.copies)
        .join(GachaItem, GachaItem.id == GachaOwnedItem.item_id)
        .where(GachaOwnedItem.guild_id == guild_id, GachaOwnedItem.user_id == user_id)
    )
    owned = sorted(((n, r, int(c)) for n, r, c in rows), key=lambda t: (-t[1].rank, t[0]))
    page, pages = clamp_page(page, len(owned), per_page)
    return Page(owned[(page - 1) * per_page : page * per_page], page, pages, len(owned))


async def add_item(
    session: AsyncSession,
    guild_id: int,
    *,
    name: str,
    rarity: Rarity,
    weight: int,
    now: datetime,
    guild_locale: str | None = None,
) -> GachaItem:
    """Add an item (or bring back a removed one with the new rarity and weight)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 64:
        raise InvalidInput("Item names are 1 to 64 characters.")
    if not 1 <= weight <= MAX_WEIGHT:
        raise InvalidInput("The weight must be between 1 and {maximum}.", maximum=MAX_WEIGHT)
    await ensure_items(session, guild_id, now, guild_locale=guild_locale)
    existing = await session.scalar(
        select(GachaItem).where(GachaItem.guild_id == guild_id, func.lower(GachaItem.name) == name.lower())
    )
    if existing is not None:
        if existing.active:
            raise Conflict(
                "**{name}** is already in the table; remove it first to change it.", name=existing.name
            )
        existing.active, existing.rarity, existing.weight = True, rarity, weight
        await session.flush()
        await guild_settings.update(session, guild_id, now=now)  # a new table version
        return existing
    count = await session.scalar(
        select(func.count()).select_from(GachaItem).where(GachaItem.guild_id == guild_id)
    )
    if int(count or 0) >= MAX_ITEMS_PER_GUILD:
        raise Conflict("A server can have at most {maximum} items.", maximum=MAX_ITEMS_PER_GUILD)
    item = GachaItem(guild_id=guild_id, name=name, rarity=rarity, weight=weight, active=True, created_at=now)
    session.add(item)
    await session.flush()
    await guild_settings.update(session, guild_id, now=now)  # a new table version
    return item


async def remove_item(
    session: AsyncSession, guild_id: int, *, name: str, now: datetime, guild_locale: str | None = None
) -> GachaItem:
    """Take an item out of the table; pulls already made keep it."""
    await ensure_items(session, guild_id, now, guild_locale=guild_locale)
    result = await session.execute(
        update(GachaItem)
        .where(
            GachaItem.guild_id == guild_id,
            func.lower(GachaItem.name) == " ".join(name.split()).lower(),
            GachaItem.active.is_(True),
        )
        .values(active=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("There is no item called **{name}** in this server's gacha.", name=name)
    await guild_settings.update(session, guild_id, now=now)  # a new table version
    item = await session.scalar(
        select(GachaItem).where(
            GachaItem.guild_id == guild_id, func.lower(GachaItem.name) == " ".join(name.split()).lower()
        )
    )
    assert item is not None
    return item
