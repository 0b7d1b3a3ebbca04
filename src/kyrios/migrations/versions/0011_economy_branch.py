"""economy branch: the economy slice's own line (its tables were created by 0001, the shared root)

Revision ID: 0011_economy_branch
Revises:
Depends on: 0001
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

revision: str = "0011_economy_branch"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("economy",)
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
