"""exchange net worth: each account's net deposits, and the players' net-worth history

Revision ID: 0013_exchange_net_worth
Revises: 0012_exchange_candles
Create Date: 2026-12-03 13:00:00

`exchange_cash.net_deposits_cents` starts as each account's deposits minus withdrawals from its
ledger, so an existing account's trading P&L is right from the first point. The history starts
empty: the exchange's owner records it from now on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_exchange_net_worth"
down_revision: str | None = "0012_exchange_candles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_cash") as batch:
        batch.add_column(sa.Column("net_deposits_cents", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        "UPDATE exchange_cash SET net_deposits_cents = COALESCE((SELECT SUM(l.delta_cents)"
        " FROM exchange_cash_ledger l WHERE l.user_id = exchange_cash.user_id"
        " AND l.reason IN ('deposit', 'withdrawal')), 0)"
    )
    op.create_table(
        "exchange_net_worth",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("snapshot_time", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("net_worth_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_deposits_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["exchange_user.id"], name=op.f("fk_exchange_net_worth_user_id_exchange_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "snapshot_time", name=op.f("pk_exchange_net_worth")),
    )
    op.create_index(
        op.f("ix_exchange_net_worth_snapshot_time"), "exchange_net_worth", ["snapshot_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_exchange_net_worth_snapshot_time"), table_name="exchange_net_worth")
    op.drop_table("exchange_net_worth")
    with op.batch_alter_table("exchange_cash") as batch:
        batch.drop_column("net_deposits_cents")
