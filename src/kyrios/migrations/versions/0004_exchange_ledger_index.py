"""exchange: the cash ledger loses its (user_id, id) index

Every trade writes two ledger rows; with that index each group commit rewrote one index leaf
page per trading user (about a hundred scattered pages per batch on SQLite, where a commit
writes whole pages). Nothing reads the ledger by user yet; a per-user statement should bring
an index back with its query. MariaDB/MySQL need an index for the user_id foreign key, so
there one on user_id alone stays, named after the constraint (as InnoDB names its own).

Revision ID: 0004_exchange_ledger_index
Revises: 0002_exchange
Create Date: 2026-11-30 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_exchange_ledger_index"
down_revision: str | None = "0002_exchange"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_INDEX = "fk_exchange_cash_ledger_user_id_exchange_user"


def upgrade() -> None:
    if op.get_bind().dialect.name == "mysql":
        op.create_index(FK_INDEX, "exchange_cash_ledger", ["user_id"], unique=False)
    op.drop_index("ix_exchange_cash_ledger_user", table_name="exchange_cash_ledger")


def downgrade() -> None:
    op.create_index("ix_exchange_cash_ledger_user", "exchange_cash_ledger", ["user_id", "id"], unique=False)
    if op.get_bind().dialect.name == "mysql":
        op.drop_index(FK_INDEX, table_name="exchange_cash_ledger")
