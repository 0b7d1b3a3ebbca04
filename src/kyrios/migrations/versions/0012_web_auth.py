"""web auth: refresh-token sessions and API keys of the web door

Revision ID: 0012_web_auth
Revises:
Depends on: 0002_exchange
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0012_web_auth"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("web_auth",)
depends_on: str | Sequence[str] | None = "0002_exchange"


def upgrade() -> None:
    op.create_table(
        "auth_session",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("discord_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", kyrios.core.models.UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["exchange_user.id"], name=op.f("fk_auth_session_account_id_exchange_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_session_token_hash")),
    )
    op.create_index("ix_auth_session_family", "auth_session", ["family"])
    op.create_table(
        "auth_api_key",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", kyrios.core.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["exchange_user.id"], name=op.f("fk_auth_api_key_account_id_exchange_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_auth_api_key_key_id")),
    )


def downgrade() -> None:
    op.drop_table("auth_api_key")
    op.drop_index("ix_auth_session_family", table_name="auth_session")
    op.drop_table("auth_session")
