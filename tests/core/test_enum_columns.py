"""Enum columns hold their `StrEnum`: members in and out, anything else refused, on every database.

The columns are found in the models (every `StrEnumColumn` in `Base.metadata`), so a new one is
covered without being listed here. The round trips run through a probe table built from the very
column types of the models; `test_migrations` proves the migrated tables declare the same VARCHARs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, insert, select
from sqlalchemy.exc import StatementError

import kyrios.slices  # noqa: F401  (every table in Base.metadata)
from kyrios.core.db import Database
from kyrios.core.models import Base, StrEnumColumn
from kyrios.exchange import accounts
from kyrios.exchange.engine import Side
from kyrios.exchange.models import CashReason, ExchangeUser, Role
from kyrios.runtime import Runtime

ENUM_COLUMNS = [
    column
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, StrEnumColumn)
]


def probe_name(column: Column[object]) -> str:
    """The probe table's column standing in for `column`."""
    return f"{column.table.name}__{column.name}"


def enum_of(column: Column[object]) -> type[StrEnum]:
    """The enum a model column holds."""
    assert isinstance(column.type, StrEnumColumn)
    return column.type.enum_class


def length_of(column: Column[object]) -> int:
    """The VARCHAR length of a model's enum column."""
    assert isinstance(column.type, StrEnumColumn)
    return int(column.type.length)


def probe_table(typed: bool) -> Table:
    """One column per enum column of the models: of its type, or (untyped) a plain VARCHAR as long."""
    columns = [
        Column(probe_name(c), c.type if typed else String(length_of(c)), nullable=True) for c in ENUM_COLUMNS
    ]
    return Table("enum_column_probe", MetaData(), Column("id", Integer, primary_key=True), *columns)


PROBE = probe_table(typed=True)
RAW = probe_table(typed=False)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The test database with an empty probe table (dropped afterwards)."""
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(PROBE.drop, checkfirst=True)
        await connection.run_sync(PROBE.create)
    try:
        yield database
    finally:
        async with database.engine.begin() as connection:
            await connection.run_sync(PROBE.drop)
        await database.dispose()


async def probe_rows(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(PROBE)) or 0)


def test_the_models_type_every_enum_column() -> None:
    found = {f"{c.table.name}.{c.name}": enum_of(c).__name__ for c in ENUM_COLUMNS}
    assert found == {
        "avatar_history.kind": "AvatarKind",
        "economy_ledger.reason": "Reason",
        "exchange_asset.status": "AssetStatus",
        "exchange_asset.type": "AssetType",
        "exchange_cash_ledger.reason": "CashReason",
        "exchange_execution.taker_side": "Side",
        "exchange_order.side": "Side",
        "exchange_order.status": "OrderStatus",
        "exchange_order.stp": "SelfTradePrevention",
        "exchange_order.type": "OrderType",
        "exchange_user.role": "Role",
        "gacha_item.rarity": "Rarity",
        "gacha_pull.rarity": "Rarity",
        "modlog_entry.attribution": "Attribution",
        "modlog_entry.log_type": "LogType",
        "modlog_event_config.log_type": "LogType",
        "music_session.loop_mode": "LoopMode",
        "rumble_battle.status": "BattleStatus",
        "tickets_ticket.category": "TicketCategory",
        "tickets_ticket.status": "TicketStatus",
        "wallet_challenge.chain": "Chain",
        "wallet_link.chain": "Chain",
    }


async def test_every_member_of_every_enum_column_round_trips(db: Database) -> None:
    members = {probe_name(c): list(enum_of(c)) for c in ENUM_COLUMNS}
    rows: list[dict[str, int | StrEnum]] = [
        {"id": i + 1, **{name: values[i % len(values)] for name, values in members.items()}}
        for i in range(max(len(values) for values in members.values()))
    ]
    async with db.engine.begin() as connection:
        await connection.execute(insert(PROBE), rows)
    async with db.engine.connect() as connection:
        loaded = [row._asdict() for row in await connection.execute(select(PROBE).order_by(PROBE.c.id))]
        stored = [row._asdict() for row in await connection.execute(select(RAW).order_by(RAW.c.id))]
    assert loaded == rows
    for row, written in zip(loaded, rows, strict=True):
        for name in members:
            assert type(row[name]) is type(written[name])  # the member itself, not a str
    assert stored == [{k: v.value if isinstance(v, StrEnum) else v for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("column", ENUM_COLUMNS, ids=probe_name)
async def test_a_plain_string_is_refused_on_write(db: Database, column: Column[object]) -> None:
    value = next(iter(enum_of(column))).value  # a valid spelling, but not a member
    with pytest.raises(StatementError) as refused:
        async with db.engine.begin() as connection:
            await connection.execute(insert(PROBE).values({"id": 1, probe_name(column): value}))
    assert isinstance(refused.value.orig, TypeError)
    assert f"only members of {enum_of(column).__name__} go in this column, not {value!r}" in str(
        refused.value
    )
    assert await probe_rows(db) == 0


async def test_a_member_of_another_enum_with_the_same_value_is_refused(db: Database) -> None:
    assert CashReason.BUY.value == Side.BUY.value  # equal strings, different vocabularies
    with pytest.raises(StatementError, match="only members of Side go in this column"):
        async with db.engine.begin() as connection:
            await connection.execute(insert(PROBE).values(id=1, exchange_order__side=CashReason.BUY))
    assert await probe_rows(db) == 0


async def test_a_query_comparing_with_a_plain_string_is_refused(db: Database) -> None:
    async with db.engine.connect() as connection:
        with pytest.raises(StatementError, match="only members of OrderStatus go in this column, not 'OPEN'"):
            await connection.execute(select(PROBE).where(PROBE.c.exchange_order__status == "OPEN"))


@pytest.mark.parametrize("column", ENUM_COLUMNS, ids=probe_name)
async def test_an_unknown_stored_value_fails_loudly_on_read(db: Database, column: Column[object]) -> None:
    name = probe_name(column)
    async with db.engine.begin() as connection:
        await connection.execute(insert(RAW).values({"id": 1, name: "?"}))
    async with db.engine.connect() as connection:
        result = await connection.execute(select(PROBE.c[name]))
        with pytest.raises(LookupError, match=rf"'\?' is stored in a {enum_of(column).__name__} column"):
            result.all()
    async with db.engine.begin() as connection:
        await connection.execute(delete(RAW))


async def test_a_table_row_loads_its_member(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        user = await accounts.create_user(session, username="alice", role=Role.BOT, now=runtime.clock.now())
    async with runtime.db.read() as session:
        role = await session.scalar(select(ExchangeUser.role).where(ExchangeUser.id == user.id))
        found = await session.scalar(select(ExchangeUser.id).where(ExchangeUser.role == Role.BOT))
    assert role is Role.BOT
    assert found == user.id


def test_a_column_too_short_for_its_longest_value_is_refused() -> None:
    with pytest.raises(ValueError, match="CashReason has a value of 11 characters, longer than 8"):
        StrEnumColumn(CashReason, length=8)
