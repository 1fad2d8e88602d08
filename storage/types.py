"""Column types shared by the tables: aware UTC datetimes and enums stored as plain strings."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.operators import OperatorType
from typing_extensions import override

# Room for enum values added later without a migration (no CHECK constraint either).
ENUM_LENGTH = 32


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that accepts only aware datetimes and always returns aware UTC ones.

    SQLite keeps no offset, so values are converted to UTC before they are written and
    marked UTC when they are read; PostgreSQL's ``timestamptz`` gets the same UTC values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @override
    def coerce_compared_value(
        self, op: OperatorType | None, value: Any
    ) -> sa.types.TypeEngine[Any]:
        # `column + timedelta` must stay interval arithmetic, not a datetime bind.
        if isinstance(value, timedelta):
            return sa.Interval()
        return self

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware datetime")
        return value.astimezone(UTC)

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def string_enum(enum_class: type[StrEnum]) -> sa.Enum:
    """A column type that stores the enum's values as VARCHAR on every database."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=ENUM_LENGTH,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
