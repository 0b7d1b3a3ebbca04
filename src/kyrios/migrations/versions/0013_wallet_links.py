"""wallet links: one-time challenges, verified wallets, role grants; the wallet role and gated features

Revision ID: 0013_wallet_links
Revises: 0011_wallet_settings
Create Date: 2026-12-03 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0013_wallet_links"
down_revision: str | None = "0011_wallet_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("wallet_settings") as batch:
        batch.add_column(sa.Column("role_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("gated_features", sa.String(length=255), nullable=False, server_default="")
        )
    op.create_table(
        "wallet_challenge",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chain", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("issued_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", kyrios.core.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_challenge")),
        sa.UniqueConstraint("nonce", name=op.f("uq_wallet_challenge_nonce")),
    )
    op.create_index("ix_wallet_challenge_user_issued", "wallet_challenge", ["user_id", "issued_at"])
    op.create_table(
        "wallet_link",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=8), nullable=False),
        sa.Column("key_hex", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("verified_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_link")),
        sa.UniqueConstraint("chain", "key_hex", name=op.f("uq_wallet_link_chain_key_hex")),
    )
    op.create_index("ix_wallet_link_user_id", "wallet_link", ["user_id"])
    op.create_table(
        "wallet_role_grant",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_wallet_role_grant")),
    )
    op.create_index("ix_wallet_role_grant_user_id", "wallet_role_grant", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_wallet_role_grant_user_id", table_name="wallet_role_grant")
    op.drop_table("wallet_role_grant")
    op.drop_index("ix_wallet_link_user_id", table_name="wallet_link")
    op.drop_table("wallet_link")
    op.drop_index("ix_wallet_challenge_user_issued", table_name="wallet_challenge")
    op.drop_table("wallet_challenge")
    with op.batch_alter_table("wallet_settings") as batch:
        batch.drop_column("gated_features")
        batch.drop_column("role_id")
