"""Moving settings columns out of `guild_settings` into a slice's own table, and back on downgrade.

Used by the 0011 revisions that gave each slice its settings table. Revisions are history: never
change what these functions do; a later move that needs something else gets a function of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.types import TypeEngine


@dataclass(frozen=True)
class Moved:
    """One column: its name in `guild_settings`, its name in the slice's table, its type, and (for a
    NOT NULL column) the server default it gets while it is added back to existing rows."""

    old: str
    new: str
    type_: TypeEngine[Any]
    refill: str | TextClause | ColumnElement[Any] | None = None

    @property
    def nullable(self) -> bool:
        """NULL allowed (nothing to refill existing rows with)."""
        return self.refill is None


def _tables(table: str, moved: Sequence[Moved]) -> tuple[sa.TableClause, sa.TableClause]:
    shared = sa.table("guild_settings", sa.column("guild_id"), *(sa.column(m.old) for m in moved))
    owned = sa.table(table, sa.column("guild_id"), *(sa.column(m.new) for m in moved))
    return shared, owned


def out_of_guild_settings(table: str, moved: Sequence[Moved]) -> None:
    """Create `table` (one row per guild), copy the columns of every guild that has a settings row,
    then drop them from `guild_settings`."""
    op.create_table(
        table,
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        *(sa.Column(m.new, m.type_, nullable=m.nullable) for m in moved),
        sa.PrimaryKeyConstraint("guild_id", name=op.f(f"pk_{table}")),
    )
    shared, owned = _tables(table, moved)
    copied = sa.select(shared.c.guild_id, *(shared.c[m.old] for m in moved))
    op.execute(owned.insert().from_select(["guild_id", *(m.new for m in moved)], copied))
    with op.batch_alter_table("guild_settings") as batch:
        for m in moved:
            batch.drop_column(m.old)


def back_into_guild_settings(table: str, moved: Sequence[Moved]) -> None:
    """Add the columns back to `guild_settings` (the defaults for guilds without a row in `table`),
    copy the values of `table`, and drop it."""
    with op.batch_alter_table("guild_settings") as batch:
        for m in moved:
            batch.add_column(sa.Column(m.old, m.type_, nullable=m.nullable, server_default=m.refill))
    shared, owned = _tables(table, moved)
    same_guild = owned.c.guild_id == shared.c.guild_id
    values = {m.old: sa.select(owned.c[m.new]).where(same_guild).scalar_subquery() for m in moved}
    op.execute(shared.update().values(values).where(sa.exists().where(same_guild)))
    refilled = [m for m in moved if m.refill is not None]
    if refilled:  # as they were: NOT NULL without a server default (the models' defaults fill them)
        with op.batch_alter_table("guild_settings") as batch:
            for m in refilled:
                batch.alter_column(m.old, server_default=None, existing_type=m.type_, existing_nullable=False)
    op.drop_table(table)
