"""tickets tables: tickets, their transcripts, the blacklist, and the staff/limit/close rules

Revision ID: 0015_tickets_tables
Revises: 0011_tickets_settings
Create Date: 2026-12-03 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0015_tickets_tables"
down_revision: str | None = "0011_tickets_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = kyrios.core.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("tickets_settings") as batch:
        batch.add_column(
            sa.Column("staff_role_ids", sa.String(length=400), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("max_open_per_category", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("delete_on_close", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("auto_close_hours", sa.Integer(), nullable=True))
    op.create_table(
        "tickets_ticket",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("opener_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("response_due_at", WHEN(), nullable=False),
        sa.Column("first_response_at", WHEN(), nullable=True),
        sa.Column("reminded_at", WHEN(), nullable=True),
        sa.Column("last_opener_at", WHEN(), nullable=False),
        sa.Column("last_staff_at", WHEN(), nullable=True),
        sa.Column("warned_at", WHEN(), nullable=True),
        sa.Column("close_requested_at", WHEN(), nullable=True),
        sa.Column("closed_at", WHEN(), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("close_reason", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets_ticket")),
    )
    op.create_index("ix_tickets_ticket_guild_status", "tickets_ticket", ["guild_id", "status"])
    op.create_index("ix_tickets_ticket_opener", "tickets_ticket", ["guild_id", "opener_id", "status"])
    op.create_index("ix_tickets_ticket_channel", "tickets_ticket", ["channel_id"])
    op.create_table(
        "tickets_message",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets_message")),
    )
    op.create_index("ix_tickets_message_ticket", "tickets_message", ["ticket_id", "id"])
    op.create_table(
        "tickets_blacklist",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column("added_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_tickets_blacklist")),
    )


def downgrade() -> None:
    op.drop_table("tickets_blacklist")
    op.drop_index("ix_tickets_message_ticket", table_name="tickets_message")
    op.drop_table("tickets_message")
    for name in ("channel", "opener", "guild_status"):
        op.drop_index(f"ix_tickets_ticket_{name}", table_name="tickets_ticket")
    op.drop_table("tickets_ticket")
    with op.batch_alter_table("tickets_settings") as batch:
        batch.drop_column("auto_close_hours")
        batch.drop_column("delete_on_close")
        batch.drop_column("max_open_per_category")
        batch.drop_column("staff_role_ids")
