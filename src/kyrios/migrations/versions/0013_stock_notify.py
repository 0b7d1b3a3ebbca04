"""stock bank: a guild's market notifications (channel, big-move threshold and window, large trades)

Revision ID: 0013_stock_notify
Revises: 0012_stock_settings
Create Date: 2026-12-03 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_stock_notify"
down_revision: str | None = "0012_stock_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_settings") as batch:
        batch.add_column(sa.Column("notify_channel_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("move_alert_bp", sa.Integer(), nullable=False, server_default="500"))
        batch.add_column(sa.Column("move_window_minutes", sa.Integer(), nullable=False, server_default="15"))
        batch.add_column(sa.Column("trade_alert_cents", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("stock_settings") as batch:
        batch.drop_column("trade_alert_cents")
        batch.drop_column("move_window_minutes")
        batch.drop_column("move_alert_bp")
        batch.drop_column("notify_channel_id")
