"""Gacha.

Invariants: one free pull per member per guild-local day (primary key on the day); paid pulls
debit points through the economy ledger in the same transaction; after `pity_threshold - 1`
pulls without a top-rarity item the next pull is a top-rarity item; every pull is stored with
the seed that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.core.errors import Conflict, InvalidInput, NotFound
from kyrios.core.paging import Page, clamp_page
from kyrios.core.rng import RandomSource
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Achievement
from kyrios.features.economy import service as economy
from kyrios.features.gacha.defaults import DEFAULT_ITEMS
from kyrios.features.gacha.models import GachaDailyClaim, GachaItem, GachaPull, GachaStats, Rarity
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.guild_settings.models import DEFAULT_TIMEZONE

MAX_PULLS_PER_COMMAND = 10
MAX_WEIGHT = 1_000_000
MAX_ITEMS_PER_GUILD = 200
COLLECTOR_DISTINCT_ITEMS = 10
HIGH_ROLLER_PULLS = 100
GACHA_ACHIEVEMENTS = ("gacha_first_pull", "gacha_legends", "gacha_high_roller", "gacha_collector")


@dataclass
class PullResult:
    """What one `/gacha pull` gave."""

    pulls: list[GachaPull]
    points_spent: int
    balance: int
    pulls_until_pity: int | None
    next_free_at: datetime | None
    unlocked: list[Achievement] = field(default_factory=list)


@dataclass(frozen=True)
class Rate:
    """One item's published chance."""

    name: str
    rarity: Rarity
    weight: int
    percent: float


async def ensure_items(session: AsyncSession, guild_id: int, now: datetime) -> None:
    """Give a guild that never had items the default table."""
    has_any = await session.scalar(select(GachaItem.id).where(GachaItem.guild_id == guild_id).limit(1))
    if has_any is not None:
        return
    for name, rarity, weight in DEFAULT_ITEMS:
        values = {
            "guild_id": guild_id,
            "name": name,
            "rarity": rarity.value,
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
    return sorted(rows, key=lambda item: (-Rarity(item.rarity).rank, -item.weight, item.name))


def top_rarity(items: list[GachaItem]) -> Rarity:
    """The highest rarity present in the table (the pity target)."""
    return max((Rarity(item.rarity) for item in items), key=lambda r: r.rank)


def guild_day(now: datetime, tz: ZoneInfo) -> tuple[date, datetime]:
    """The guild-local date of `now`, and the instant the next guild-local day starts."""
    local = now.astimezone(tz)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return local.date(), next_midnight


async def _lock_stats(session: AsyncSession, guild_id: int, user_id: int) -> GachaStats:
    """Lock (creating if needed) the member's stats row: the per-member mutex of every pull.

    Lock first, insert only when missing: an INSERT IGNORE on an existing key takes a shared
    lock, and two transactions upgrading shared locks to exclusive deadlock each other.
    """
    query = (
        select(GachaStats)
        .where(GachaStats.guild_id == guild_id, GachaStats.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    stats = (await session.execute(query)).scalar_one_or_none()
    if stats is not None:
        return stats
    values = {
        "guild_id": guild_id,
        "user_id": user_id,
        "total_pulls": 0,
        "pulls_since_top": 0,
        "top_pulls": 0,
    }
    await session.execute(insert_ignore(session, GachaStats, values))
    return (await session.execute(query)).scalar_one()


async def claim_daily(session: AsyncSession, guild_id: int, user_id: int, day: date, now: datetime) -> bool:
    """Take today's free pull; False if it was already taken."""
    values = {"guild_id": guild_id, "user_id": user_id, "day": day, "claimed_at": now}
    result = await session.execute(insert_ignore(session, GachaDailyClaim, values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


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
) -> PullResult:
    """Pull `count` times: today's free pull first if unclaimed, the rest paid with points."""
    if not 1 <= count <= MAX_PULLS_PER_COMMAND:
        raise InvalidInput(f"You can pull 1 to {MAX_PULLS_PER_COMMAND} times at once.")
    stats = await _lock_stats(session, guild_id, user_id)
    settings = await guild_settings.get(session, guild_id)
    day, next_day = guild_day(now, guild_settings.zone(settings, default_timezone))
    items = await active_items(session, guild_id)
    if not items:
        await ensure_items(session, guild_id, now)
        items = await active_items(session, guild_id)
    if not items:
        raise NotFound("This server's gacha has no items yet. An admin can add some with `/gacha item add`.")

    free = 0
    if settings.gacha_daily_free and await claim_daily(session, guild_id, user_id, day, now):
        free = 1
    elif daily_only:
        raise Conflict(
            f"You already took today's free pull. The next one is <t:{int(next_day.timestamp())}:R>."
        )
    paid = count - free
    cost = paid * settings.gacha_pull_cost
    if cost == 0:
        balance = await economy.balance(session, guild_id, user_id)
    else:
        detail = f"{paid} gacha pull{'s' if paid > 1 else ''}"
        balance = await economy.debit(
            session,
            guild_id=guild_id,
            user_id=user_id,
            amount=cost,
            reason=economy.Reason.GACHA_PULL,
            detail=detail,
            now=now,
        )

    top = top_rarity(items)
    seed = rng.new_seed()
    generator = rng.generator(seed)
    threshold = settings.gacha_pity_threshold
    pulls: list[GachaPull] = []
    for seq in range(count):
        pity = threshold > 0 and stats.pulls_since_top + 1 >= threshold
        pool = [item for item in items if Rarity(item.rarity) == top] if pity else items
        item = generator.choices(pool, weights=[i.weight for i in pool], k=1)[0]
        is_top = Rarity(item.rarity) == top
        stats.total_pulls += 1
        stats.pulls_since_top = 0 if is_top else stats.pulls_since_top + 1
        stats.top_pulls += int(is_top)
        row = GachaPull(
            guild_id=guild_id,
            user_id=user_id,
            item_id=item.id,
            item_name=item.name,
            rarity=item.rarity,
            cost_points=0 if seq < free else settings.gacha_pull_cost,
            free=seq < free,
            pity=pity and is_top,
            seed=seed,
            seq=seq,
            created_at=now,
        )
        session.add(row)
        pulls.append(row)
    await session.flush()

    locked = await achievements.locked(session, guild_id=guild_id, user_id=user_id, codes=GACHA_ACHIEVEMENTS)
    earned = [code for code in locked if code != "gacha_collector" and _earned(code, stats)]
    if (
        "gacha_collector" in locked
        and await distinct_items(session, guild_id, user_id) >= COLLECTOR_DISTINCT_ITEMS
    ):
        earned.append("gacha_collector")
    unlocked = await achievements.unlock_all(
        session, guild_id=guild_id, user_id=user_id, codes=earned, now=now
    )
    return PullResult(
        pulls=pulls,
        points_spent=cost,
        balance=balance,
        pulls_until_pity=threshold - stats.pulls_since_top if threshold > 0 else None,
        next_free_at=next_day if settings.gacha_daily_free else None,
        unlocked=unlocked,
    )


def _earned(code: str, stats: GachaStats) -> bool:
    """Whether the member's counters earn a gacha achievement (the collector rule needs a query)."""
    if code == "gacha_legends":
        return stats.top_pulls > 0
    if code == "gacha_high_roller":
        return stats.total_pulls >= HIGH_ROLLER_PULLS
    return code == "gacha_first_pull" and stats.total_pulls > 0


async def rates(session: AsyncSession, guild_id: int, now: datetime) -> list[Rate]:
    """Every active item's chance of a normal (non-pity) pull."""
    await ensure_items(session, guild_id, now)
    items = await active_items(session, guild_id)
    total = sum(item.weight for item in items)
    return [Rate(i.name, Rarity(i.rarity), i.weight, 100 * i.weight / total if total else 0.0) for i in items]


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
    """How many different items the member owns."""
    count = await session.scalar(
        select(func.count(func.distinct(GachaPull.item_id))).where(
            GachaPull.guild_id == guild_id, GachaPull.user_id == user_id
        )
    )
    return int(count or 0)


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
        select(GachaPull.item_name, GachaPull.rarity, func.count())
        .where(GachaPull.guild_id == guild_id, GachaPull.user_id == user_id)
        .group_by(GachaPull.item_name, GachaPull.rarity)
    )
    owned = sorted(((n, Rarity(r), int(c)) for n, r, c in rows), key=lambda t: (-t[1].rank, t[0]))
    page, pages = clamp_page(page, len(owned), per_page)
    return Page(owned[(page - 1) * per_page : page * per_page], page, pages, len(owned))


async def add_item(
    session: AsyncSession, guild_id: int, *, name: str, rarity: Rarity, weight: int, now: datetime
) -> GachaItem:
    """Add an item (or bring back a removed one with the new rarity and weight)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 64:
        raise InvalidInput("Item names are 1 to 64 characters.")
    if not 1 <= weight <= MAX_WEIGHT:
        raise InvalidInput(f"The weight must be between 1 and {MAX_WEIGHT:,}.")
    await ensure_items(session, guild_id, now)
    existing = await session.scalar(
        select(GachaItem).where(GachaItem.guild_id == guild_id, func.lower(GachaItem.name) == name.lower())
    )
    if existing is not None:
        if existing.active:
            raise Conflict(f"**{existing.name}** is already in the table; remove it first to change it.")
        existing.active, existing.rarity, existing.weight = True, rarity.value, weight
        await session.flush()
        return existing
    count = await session.scalar(
        select(func.count()).select_from(GachaItem).where(GachaItem.guild_id == guild_id)
    )
    if int(count or 0) >= MAX_ITEMS_PER_GUILD:
        raise Conflict(f"A server can have at most {MAX_ITEMS_PER_GUILD} items.")
    item = GachaItem(
        guild_id=guild_id, name=name, rarity=rarity.value, weight=weight, active=True, created_at=now
    )
    session.add(item)
    await session.flush()
    return item


async def remove_item(session: AsyncSession, guild_id: int, *, name: str, now: datetime) -> GachaItem:
    """Take an item out of the table; pulls already made keep it."""
    await ensure_items(session, guild_id, now)
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
        raise NotFound(f"There is no item called **{name}** in this server's gacha.")
    item = await session.scalar(
        select(GachaItem).where(
            GachaItem.guild_id == guild_id, func.lower(GachaItem.name) == " ".join(name.split()).lower()
        )
    )
    assert item is not None
    return item
