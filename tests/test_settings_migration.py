"""Moving the slices' settings out of `guild_settings` loses nothing, and comes back on downgrade.

A database at the heads before the move (as users' databases are) is filled with data, upgraded
with `upgrade(db, "heads")` as `kyrios up` does, and compared value by value; then the new
revisions are downgraded and everything must be exactly as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import MetaData, Table, select, text
from sqlalchemy.engine import Connection

from kyrios.core.db import Database, normalise_url
from kyrios.core.migrate import downgrade, upgrade
from kyrios.testing.database import drop_everything

T = TypeVar("T")
OLD_HEADS = ("0010_exchange_owner", "0010_guild_locale", "0008_modlog_posts")
"""The heads before the move: where every existing database stands."""
NEW_REVISIONS_DOWN = (
    "web_auth@base",
    "stock@base",
    "gacha@base",
    "auto_role@base",
    "tickets@base",
    "rumble@base",
    "music@base",
    "wallet@base",
    "economy@base",
    "achievements@base",
    "modlog@0008_modlog_posts",
    "exchange@0010_exchange_owner",  # exchange_candles from the executions; net deposits from the ledger
)
MOVES = {  # the slice's table: {its column: the guild_settings column it came from}
    "gacha_settings": {
        "pull_cost": "gacha_pull_cost",
        "pity_threshold": "gacha_pity_threshold",
        "daily_free": "gacha_daily_free",
    },
    "auto_role_settings": {"role_id": "auto_role_id"},
    "tickets_settings": {"category_id": "ticket_category_id", "archive_category_id": "archive_category_id"},
    "rumble_settings": {
        "points_per_win": "rumble_points_per_win",
        "points_per_loss": "rumble_points_per_loss",
        "cooldown_minutes": "rumble_cooldown_minutes",
    },
    "wallet_settings": {"required": "wallet_required", "allowed_chains": "wallet_allowed_chains"},
}
ADDED: dict[str, dict[str, object]] = {
    "wallet_settings": {"role_id": None, "gated_features": ""},
    "rumble_settings": {"challenge_timeout_seconds": 60, "max_stake": 10_000},
    "tickets_settings": {
        "staff_role_ids": "",
        "max_open_per_category": 1,
        "delete_on_close": False,
        "auto_close_hours": None,
    },
}
"""Columns a slice added to its settings table after the move, with the value existing rows get."""
KEPT = ("guild_id", "timezone", "locale", "prefix", "disabled_features", "log_channel_id", "updated_at")
BIG = 1_234_567_890_123_456_789  # a snowflake beyond 32 bits
# Written through reflected tables: naive UTC, as the `UTCDateTime` columns store it.
T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC).replace(tzinfo=None)
T1 = datetime(2026, 3, 2, 8, 30, 5, 654321, tzinfo=UTC).replace(tzinfo=None)

GUILDS: list[dict[str, Any]] = [
    {
        "guild_id": 101,
        "timezone": "Europe/Berlin",
        "locale": "ja",
        "prefix": "k!",
        "disabled_features": "gacha,music",
        "log_channel_id": 9001,
        "ticket_category_id": 9002,
        "archive_category_id": 9003,
        "auto_role_id": 9004,
        "retention_days": 7,
        "gacha_pull_cost": 250,
        "gacha_pity_threshold": 0,
        "gacha_daily_free": False,
        "rumble_points_per_win": 75,
        "rumble_points_per_loss": 5,
        "rumble_cooldown_minutes": 15,
        "wallet_required": True,
        "wallet_allowed_chains": "SOL",
        "updated_at": T0,
        "config_version": 123_456_789,
    },
    {  # every default, nothing set
        "guild_id": 102,
        "timezone": None,
        "locale": None,
        "prefix": None,
        "disabled_features": "",
        "log_channel_id": None,
        "ticket_category_id": None,
        "archive_category_id": None,
        "auto_role_id": None,
        "retention_days": 30,
        "gacha_pull_cost": 100,
        "gacha_pity_threshold": 50,
        "gacha_daily_free": True,
        "rumble_points_per_win": 50,
        "rumble_points_per_loss": 10,
        "rumble_cooldown_minutes": 30,
        "wallet_required": False,
        "wallet_allowed_chains": "ETH,SOL",
        "updated_at": None,
        "config_version": 0,
    },
    {
        "guild_id": BIG,
        "timezone": "America/Argentina/Buenos_Aires",
        "locale": "en",
        "prefix": "x" * 25,
        "disabled_features": "economy,exchange,modlog",
        "log_channel_id": BIG + 1,
        "ticket_category_id": BIG + 2,
        "archive_category_id": None,
        "auto_role_id": BIG + 3,
        "retention_days": 365,
        "gacha_pull_cost": 10**12,
        "gacha_pity_threshold": 90,
        "gacha_daily_free": True,
        "rumble_points_per_win": 10**12,
        "rumble_points_per_loss": 0,
        "rumble_cooldown_minutes": 0,
        "wallet_required": True,
        "wallet_allowed_chains": "ETH,SOL,BTC,MATIC,ARB,OP,BASE,AVAX,TON,TRX,SUI,APT,NEAR,DOT,ATOM",
        "updated_at": T1,
        "config_version": 2**62 - 1,
    },
]


def other_data() -> dict[str, list[dict[str, Any]]]:
    """Points, pulls, cases, orders and the rest: none of it may change."""
    day = date(2026, 3, 1)
    return {
        "economy_account": [
            {"guild_id": 101, "user_id": 42, "points": 1_250, "created_at": T0},
            {"guild_id": BIG, "user_id": BIG, "points": 10**15, "created_at": T1},
        ],
        "economy_ledger": [
            {
                "id": 1,
                "guild_id": 101,
                "user_id": 42,
                "delta": 1_500,
                "balance_after": 1_500,
                "reason": "grant",
                "detail": "Given by an admin",
                "actor_id": 7,
                "created_at": T0,
            },
            {
                "id": 2,
                "guild_id": 101,
                "user_id": 42,
                "delta": -250,
                "balance_after": 1_250,
                "reason": "gacha_pull",
                "detail": "1 回ガチャ",
                "actor_id": None,
                "created_at": T1,
            },
        ],
        "gacha_item": [
            {
                "id": 1,
                "guild_id": 101,
                "name": "黄金の竜",
                "rarity": "SSR",
                "weight": 1,
                "active": True,
                "created_at": T0,
            },
            {
                "id": 2,
                "guild_id": 101,
                "name": "Bread Roll",
                "rarity": "N",
                "weight": 600,
                "active": False,
                "created_at": T0,
            },
        ],
        "gacha_pull": [
            {
                "id": 1,
                "guild_id": 101,
                "user_id": 42,
                "item_id": 1,
                "item_name": "黄金の竜",
                "rarity": "SSR",
                "cost_points": 250,
                "free": False,
                "pity": True,
                "seed": 987_654_321,
                "seq": 0,
                "created_at": T1,
            },
        ],
        "gacha_stats": [
            {
                "guild_id": 101,
                "user_id": 42,
                "total_pulls": 1,
                "pulls_since_top": 0,
                "top_pulls": 1,
                "last_free_day": day,
                "unlocked": 3,
            },
        ],
        "gacha_daily_claim": [{"guild_id": 101, "user_id": 42, "day": day, "claimed_at": T1}],
        "achievement_unlock": [
            {"guild_id": 101, "user_id": 42, "code": "gacha_first_pull", "unlocked_at": T1}
        ],
        "modlog_entry": [
            {
                "id": 1,
                "guild_id": 101,
                "log_type": "member_ban",
                "user_id": 77,
                "moderator_id": 5,
                "attribution": "exact",
                "reason": "spam",
                "created_at": T0,
            },
        ],
        "modlog_note": [{"id": 1, "entry_id": 1, "author_id": 5, "text": "appealed", "created_at": T1}],
        "modlog_guild": [{"guild_id": 101, "store_messages": True, "updated_at": T1}],
        "avatar_history": [  # 0015 adds the archive's references: none for rows recorded before it
            {
                "id": 1,
                "user_id": 77,
                "guild_id": None,
                "kind": "avatar_change",
                "old_url": None,
                "new_url": "https://cdn.discordapp.com/avatars/77/a.png",
                "dominant_color": "#1e90ff",
                "image_format": "png",
                "image_size": 1234,
                "changed_at": T0,
            },
        ],
        "exchange_user": [
            {
                "id": 1,
                "uuid": str(uuid.UUID(int=1)),
                "discord_id": 42,
                "username": "alice",
                "role": "trader",
                "created_at": T0,
            },
        ],
        "exchange_asset": [
            {
                "symbol": "ACME",
                "name": "Acme Corp",
                "type": "STOCK",
                "sector": "",
                "tick_size_cents": 1,
                "min_quantity": 1,
                "max_quantity": 1_000,
                "max_notional_cents": 10**9,
                "status": "ACTIVE",
                "issued_supply": 1_000_000,
                "issuer_user_id": 1,
                "last_price_cents": 1_234,
                "engine_seq": 7,
                "created_at": T0,
            },
        ],
        "exchange_order": [
            {
                "id": 1,
                "uuid": str(uuid.UUID(int=2)),
                "client_order_id": "c-1",
                "user_id": 1,
                "symbol": "ACME",
                "side": "buy",
                "type": "limit",
                "price_cents": 1_200,
                "quantity": 10,
                "filled_quantity": 0,
                "canceled_quantity": 0,
                "remaining_quantity": 10,
                "status": "new",
                "reject_reason": None,
                "stp": "cancel_newest",
                "priority": 1,
                "reserved_cents": 12_000,
                "created_at": T0,
                "updated_at": T0,
            },
        ],
        "exchange_cash": [{"user_id": 1, "cash_cents": 50_000, "reserved_cents": 12_000}],
        "exchange_cash_ledger": [  # 0013 sums the deposits and withdrawals into net_deposits_cents
            {"id": n, "user_id": 1, "delta_cents": delta, "reason": reason, "execution_id": None}
            | {"detail": "", "created_at": T0}
            for n, (delta, reason) in enumerate(
                [(100_000, "deposit"), (-30_000, "withdrawal"), (-8_000, "buy")], start=1
            )
        ],
        "exchange_execution": [  # folded into exchange_candles by 0012 (orders as makers and takers)
            {
                "id": n,
                "symbol": "ACME",
                "seq": 10 + n,
                "maker_order_id": 1,
                "taker_order_id": 1,
                "maker_user_id": 1,
                "taker_user_id": 1,
                "taker_side": "buy",
                "price_cents": price,
                "quantity": quantity,
                "executed_at": at,
            }
            for n, (price, quantity, at) in enumerate(EXECUTIONS, start=1)
        ],
    }


EXECUTIONS = [(1_200, 2, T0), (1_250, 1, T0), (1_190, 4, T0), (1_300, 3, T1)]
"""(price, quantity, executed_at): three trades in one minute of one day, one on the next day."""


def candles_of_executions() -> list[dict[str, Any]]:
    """The bars 0012 must write for EXECUTIONS, spelled out."""
    day0 = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    at0 = int(T0.replace(tzinfo=UTC).timestamp()) // 60 * 60  # 12:00:00
    at1 = int(T1.replace(tzinfo=UTC).timestamp()) // 60 * 60  # 08:30:00 next day
    first = (1_200, 1_250, 1_190, 1_190, 7, 3)
    last = (1_300, 1_300, 1_300, 1_300, 3, 1)
    bars = {
        ("1d", day0): first,
        ("1d", day0 + 86_400): last,
        ("1h", at0): first,
        ("1h", at1 - 30 * 60): last,
        ("1m", at0): first,
        ("1m", at1): last,
        ("5m", at0): first,
        ("5m", at1): last,
    }
    names = ("open_cents", "high_cents", "low_cents", "close_cents", "volume", "trade_count")
    return [
        {
            "symbol": "ACME",
            "bar_interval": interval,
            "start_time": start,
            **dict(zip(names, bar, strict=True)),
        }
        for (interval, start), bar in sorted(bars.items())
    ]


def snapshot(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (Alembic's excepted), in primary-key order, as plain values."""
    metadata = MetaData()
    metadata.reflect(connection)
    tables = {}
    for name, table in sorted(metadata.tables.items()):
        if name != "alembic_version":
            order = list(table.primary_key.columns) or list(table.columns)
            tables[name] = [dict(row._mapping) for row in connection.execute(select(table).order_by(*order))]
    return tables


def fill(connection: Connection) -> None:
    metadata = MetaData()
    metadata.reflect(connection)
    for name, rows in {"guild_settings": GUILDS, **other_data()}.items():
        table: Table = metadata.tables[name]
        connection.execute(table.insert(), rows)


def versions(connection: Connection) -> set[str]:
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


@pytest.fixture
async def empty_db(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database: a file of its own on SQLite; on a server, the test database, migrated back
    to the current heads afterwards for the tests that follow."""
    on_sqlite = normalise_url(database_url).get_backend_name() == "sqlite"
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}" if on_sqlite else database_url)
    await drop_everything(db)
    try:
        yield db
    finally:
        if not on_sqlite:
            await drop_everything(db)
            await upgrade(db)
        await db.dispose()


async def read(db: Database, what: Callable[[Connection], T]) -> T:
    async with db.engine.connect() as connection:
        return await connection.run_sync(what)


async def test_the_move_keeps_every_value_and_the_downgrade_restores_them(empty_db: Database) -> None:
    db = empty_db
    for head in OLD_HEADS:
        await upgrade(db, head)
    async with db.engine.begin() as connection:
        await connection.run_sync(fill)
    before = await read(db, snapshot)

    await upgrade(db, "heads")  # what `kyrios up` / `kyrios migrate` does to an existing database
    after = await read(db, snapshot)
    old_settings = before["guild_settings"]
    assert after["guild_settings"] == [
        {key: row[key] for key in (*KEPT, "config_version")} for row in old_settings
    ]
    for table, columns in MOVES.items():
        expected = [
            {"guild_id": row["guild_id"]}
            | {new: row[old] for new, old in columns.items()}
            | ADDED.get(table, {})
            for row in old_settings
        ]
        assert after[table] == expected, table
    stored = {row["guild_id"]: row for row in before["modlog_guild"]}
    assert after["modlog_guild"] == [
        {
            "guild_id": row["guild_id"],
            "store_messages": stored[row["guild_id"]]["store_messages"]
            if row["guild_id"] in stored
            else False,
            "updated_at": stored[row["guild_id"]]["updated_at"] if row["guild_id"] in stored else None,
            "retention_days": row["retention_days"],
        }
        for row in old_settings
    ]
    assert after["exchange_candles"] == candles_of_executions()
    assert after["gacha_owned_item"] == [  # backfilled from the pulls: one pull of item 1
        {
            "guild_id": pull["guild_id"],
            "user_id": pull["user_id"],
            "item_id": pull["item_id"],
            "copies": 1,
            "first_obtained_at": pull["created_at"],
        }
        for pull in before["gacha_pull"]
    ]
    added = {"net_deposits_cents": 70_000, "margin_restricted": False}
    assert after["exchange_cash"] == [row | added for row in before["exchange_cash"]]
    no_image = {"old_sha256": None, "new_sha256": None}
    assert after["avatar_history"] == [row | no_image for row in before["avatar_history"]]
    assert after["avatar_blob"] == []
    untouched = set(before) - {"guild_settings", "modlog_guild", "exchange_cash", "avatar_history"}
    assert {name: after[name] for name in untouched} == {name: before[name] for name in untouched}
    assert all(before[name] for name in other_data())  # the comparison above compared something

    for target in NEW_REVISIONS_DOWN:
        await downgrade(db, target)
    assert await read(db, versions) == set(OLD_HEADS)
    assert await read(db, snapshot) == before
