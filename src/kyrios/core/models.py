"""Declarative base, naming convention and column types shared by every slice."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every table; constraint names follow `NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A Discord snowflake (64-bit) — BIGINT everywhere.
Snowflake = BigInteger

# An auto-increment 64-bit key; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, always returns timezone-aware UTC (SQLite and MySQL drop the zone)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Microsecond precision on MySQL, plain DATETIME elsewhere."""
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert aware datetimes to naive UTC; refuse naive ones (they are ambiguous)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what the database returns."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


EnumT = TypeVar("EnumT", bound=StrEnum)


class StrEnumColumn(TypeDecorator[EnumT]):
    """A `StrEnum` column: a VARCHAR holding the member's value, loaded as the member.

    Only members of this very enum are written; anything else (a plain string, even one spelling
    a value, or another enum's member) raises before the statement runs, so a typo or a mixed-up
    vocabulary cannot reach the table. A stored value that is no member (written by hand or by a
    newer version) raises `LookupError` on load rather than passing for a string.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[EnumT], length: int) -> None:
        longest = max(len(member.value) for member in enum_class)
        if longest > length:
            raise ValueError(
                f"{enum_class.__name__} has a value of {longest} characters, longer than {length}"
            )
        super().__init__(length)
        # Both arguments by their parameter names: SQLAlchemy's statement cache keys on them.
        self.enum_class = enum_class
        self.length = length

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.enum_class.__name__}, length={self.length})"

    @property
    def python_type(self) -> type[EnumT]:
        """The enum, not `str`."""
        return self.enum_class

    def process_bind_param(self, value: EnumT | None, dialect: Dialect) -> str | None:
        """The member's value; refuse anything that is not a member."""
        if value is None:
            return None
        if not isinstance(value, self.enum_class):
            raise TypeError(f"only members of {self.enum_class.__name__} go in this column, not {value!r}")
        return value.value

    def process_result_value(self, value: str | None, dialect: Dialect) -> EnumT | None:
        """The member whose value was stored; an unknown value is an error, not a string."""
        if value is None:
            return None
        try:
            return self.enum_class(value)
        except ValueError:
            raise LookupError(
                f"{value!r} is stored in a {self.enum_class.__name__} column but is none of its values"
            ) from None
