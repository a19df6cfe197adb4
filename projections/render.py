"""Plain JSON for the read side's answers, shared by the CLI and the HTTP API.

Answers are frozen dataclasses holding Decimals, dates, UUIDs and enums; JSON gets
numbers for rates (exact decimals printed as JSON numbers), ISO 8601 strings for dates
and instants (UTC, with a Z), and strings for ids.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from domain.errors import InvalidValue


def instant_text(value: datetime) -> str:
    """An instant in UTC as ISO 8601 with a Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def number(value: Decimal) -> int | float:
    """A rate as a JSON number: an int when whole (145), else a float (7.5)."""
    return int(value) if value == value.to_integral_value() else float(value)


def jsonable(value: Any) -> Any:
    """Recursively turn an answer into JSON-ready Python values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def parse_point(text: str, field: str) -> date | datetime:
    """A CLI or query value for `on`, `known_at`, `recorded_at`: a date, or an instant
    with a zone. Local time is never implied: a datetime without a zone is refused."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(field, f"{text!r} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        raise InvalidValue(field, f"{text!r} has no time zone; add 'Z' or an offset like +00:00")
    return moment
