"""Custom scalars. `DateTime` is ISO 8601 in UTC with a `Z`, served as the store spells it.

The store keeps times as fixed-width UTC text (`2024-03-01T08:15:00.000000Z`), already valid
ISO 8601, so serving them costs nothing; parsing a datetime per field would cost ~1 µs each.
Inputs accept any ISO 8601 timestamp (one without a zone is UTC, as in FORMAT.md) and arrive in
resolvers already in the stored spelling, ready to compare with stored times.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NewType

import strawberry

from newsgraph.db.convert import to_db_time


def _serialize(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return to_db_time(value)
    raise ValueError(f"DateTime cannot represent {value!r}")


def _parse(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return to_db_time(parsed)


DateTime = NewType("DateTime", str)

SCALARS = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="An ISO 8601 timestamp in UTC, e.g. `2024-03-01T08:15:00.000000Z`.",
        serialize=_serialize,
        parse_value=_parse,
    )
}
