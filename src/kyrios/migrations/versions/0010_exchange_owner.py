"""exchange owner: the lease that lets exactly one process run the exchange

Revision ID: 0010_exchange_owner
Revises: 0007_exchange_settings
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0010_exchange_owner"
down_revision: str | None = "0007_exchange_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_owner",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_exchange_owner")),
        sa.UniqueConstraint("holder", name=op.f("uq_exchange_owner_holder")),
    )


def downgrade() -> None:
    op.drop_table("exchange_owner")
