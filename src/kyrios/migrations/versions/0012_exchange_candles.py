"""exchange candles: OHLCV bars per symbol and interval, kept current by each batch

Revision ID: 0012_exchange_candles
Revises: 0010_exchange_owner
Create Date: 2026-12-03 09:00:00

Existing executions are folded into bars here, so a database that traded before keeps its charts.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012_exchange_candles"
down_revision: str | None = "0010_exchange_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported) so that later changes of the app leave this revision as it ran.
SECONDS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86_400}


def upgrade() -> None:
    candles = op.create_table(
        "exchange_candles",
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("bar_interval", sa.String(length=4), nullable=False),
        sa.Column("start_time", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("open_cents", sa.BigInteger(), nullable=False),
        sa.Column("high_cents", sa.BigInteger(), nullable=False),
        sa.Column("low_cents", sa.BigInteger(), nullable=False),
        sa.Column("close_cents", sa.BigInteger(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("trade_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["symbol"], ["exchange_asset.symbol"], name=op.f("fk_exchange_candles_symbol_exchange_asset")
        ),
        sa.PrimaryKeyConstraint("symbol", "bar_interval", "start_time", name=op.f("pk_exchange_candles")),
    )
    assert candles is not None
    backfill(candles)


def backfill(candles: sa.Table) -> None:
    """Fold every existing execution, in id order, into its bars."""
    bind = op.get_bind()
    bars: defaultdict[tuple[str, str, int], list[int]] = defaultdict(list)
    executions = bind.execute(
        sa.text("SELECT symbol, executed_at, price_cents, quantity FROM exchange_execution ORDER BY id")
    )
    for symbol, executed_at, price, quantity in executions:
        seconds = int(_utc(executed_at).timestamp() // 1)
        for name, length in SECONDS.items():
            bar = bars[(symbol, name, seconds - seconds % length)]
            if not bar:
                bar.extend((price, price, price, price, quantity, 1))
            else:
                bar[1], bar[2], bar[3] = max(bar[1], price), min(bar[2], price), price
                bar[4] += quantity
                bar[5] += 1
    rows: list[dict[str, Any]] = [
        {
            "symbol": symbol,
            "bar_interval": name,
            "start_time": start,
            "open_cents": bar[0],
            "high_cents": bar[1],
            "low_cents": bar[2],
            "close_cents": bar[3],
            "volume": bar[4],
            "trade_count": bar[5],
        }
        for (symbol, name, start), bar in sorted(bars.items())
    ]
    if rows:
        op.bulk_insert(candles, rows)


def _utc(value: Any) -> datetime:
    """A stored naive-UTC time (a string on SQLite) as an aware datetime."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def downgrade() -> None:
    op.drop_table("exchange_candles")
