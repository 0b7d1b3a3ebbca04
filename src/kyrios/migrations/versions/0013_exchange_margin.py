"""exchange margin: cash-backed shorts (margin held per position, the restriction flag, the rules)

Revision ID: 0013_exchange_margin
Revises: 0013_exchange_net_worth
Create Date: 2026-12-03 13:00:00

Every new column has a server default, so existing rows read as "no margin held, not restricted"
and an existing settings row keeps its rules with the margin defaults (150 %, 125 %, no liquidation).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_exchange_margin"
down_revision: str | None = "0013_exchange_net_worth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_position") as batch:
        batch.add_column(sa.Column("margin_cents", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("exchange_cash") as batch:
        batch.add_column(
            sa.Column("margin_restricted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("exchange_settings") as batch:
        batch.add_column(
            sa.Column("initial_margin_bps", sa.Integer(), server_default="15000", nullable=False)
        )
        batch.add_column(
            sa.Column("maintenance_margin_bps", sa.Integer(), server_default="12500", nullable=False)
        )
        batch.add_column(
            sa.Column("liquidation_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_settings") as batch:
        batch.drop_column("liquidation_enabled")
        batch.drop_column("maintenance_margin_bps")
        batch.drop_column("initial_margin_bps")
    with op.batch_alter_table("exchange_cash") as batch:
        batch.drop_column("margin_restricted")
    with op.batch_alter_table("exchange_position") as batch:
        batch.drop_column("margin_cents")
