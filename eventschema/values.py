"""The value types of the public schema: country codes, HS prefixes, rates, dates, text.

Each type validates with the domain's own function, so that the edge and the domain
cannot disagree about what a country code or an HS prefix is; the JSON Schema is
written out by hand because a validator function has none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from domain.errors import InvalidValue
from domain.values import (
    ISO_3166_ALPHA_2,
    country_code,
    hs_prefix,
    start_of_day,
    target_code,
    utc_instant,
)


def invalid(message: str) -> PydanticCustomError:
    # A custom error type keeps pydantic's "Value error, " prefix out of one-line messages.
    return PydanticCustomError("invalid_value", "{reason}", {"reason": message})


def with_domain_check(check: Callable[[str, str], str]) -> Callable[[str], str]:
    """Run a domain normaliser as a pydantic validator, turning InvalidValue into an error."""

    def validate(value: str) -> str:
        try:
            return check(value, "value")
        except InvalidValue as error:
            raise invalid(error.message.removeprefix(f"{error.field}: ")) from None

    return validate


def _reject_non_numbers(value: object) -> object:
    # Python's bool is an int: without this `true` would be a rate of 1%.
    if isinstance(value, bool):
        raise invalid("a rate is a number (or a numeric string), not true/false")
    return value


def _iso_date(value: object) -> object:
    # Pydantic would also take a Unix timestamp or a midnight datetime for a date;
    # in a dataset either is a mistake, so only YYYY-MM-DD (or a date object) passes.
    if isinstance(value, datetime):
        raise invalid("give a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            raise invalid(f"{value!r} is not a valid date: {error}") from None
    raise invalid(f"{value!r} is not a date; give YYYY-MM-DD")


def _announced_at(value: object) -> datetime:
    """A date (meaning 00:00 UTC that day) or a datetime with a zone, as a UTC instant."""
    if isinstance(value, str):
        text = value.strip()
        if _DATE.fullmatch(text):
            value = _iso_date(text)
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise invalid(
                    f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 date and time"
                ) from None
    if isinstance(value, datetime):
        try:
            return utc_instant(value, "announced_at")
        except InvalidValue as error:
            raise invalid(error.message.removeprefix("announced_at: ")) from None
    if isinstance(value, date):
        return start_of_day(value)
    raise invalid(f"{value!r} is not a date or an ISO 8601 date and time")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Country = Annotated[
    str,
    AfterValidator(with_domain_check(country_code)),
    WithJsonSchema(
        {
            "type": "string",
            # The codes themselves, not a pattern any two letters match ("AA" is none).
            "enum": sorted(ISO_3166_ALPHA_2),
            "description": "ISO 3166-1 alpha-2 country code (also taken in lower case).",
            "examples": ["US", "CN"],
        }
    ),
]
"""An ISO 3166-1 alpha-2 code, normalised to upper case."""

Target = Annotated[
    str,
    AfterValidator(with_domain_check(target_code)),
    WithJsonSchema(
        {
            "type": "string",
            "enum": ["*", *sorted(ISO_3166_ALPHA_2)],
            "description": 'An origin: ISO 3166-1 alpha-2 code (also taken in lower case), or "*" '
            "for every origin.",
            "examples": ["CN", "*"],
        }
    ),
]
"""An origin a measure targets: a country code, or "*" (every origin)."""

HsPrefix = Annotated[
    str,
    AfterValidator(with_domain_check(hs_prefix)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^(\\*|[0-9][0-9. ]*)$",
            "description": (
                'An HS/HTS code prefix: 2 to 12 digits, dots allowed ("8517.13"), '
                'or "*" for every product. Stored as digits ("851713"; "*" as "").'
            ),
            "examples": ["8517.13", "9503.00.00", "*"],
        }
    ),
]
"""An HS prefix, normalised to digits; "*" (every product) becomes ""."""

Rate = Annotated[
    Decimal,
    BeforeValidator(_reject_non_numbers),
    Field(ge=0, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
            ],
            "description": (
                "Additional ad valorem duty in percent (not including MFN): a JSON number "
                "or a numeric string (exact), finite and >= 0."
            ),
            "examples": ["125", 7.5],
        }
    ),
]
"""A rate in percent, exact (Decimal), finite and non-negative."""

IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2025-04-05"]}),
]
"""A calendar date written YYYY-MM-DD."""

AnnouncedAt = Annotated[
    datetime,
    BeforeValidator(_announced_at),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ],
            "description": (
                "When the fact became public: a date (00:00 UTC that day) or an ISO 8601 "
                "date and time with a zone ('Z' or an offset); a time without zone is an error."
            ),
            "examples": ["2025-04-11", "2025-04-11T21:30:00-04:00"],
        }
    ),
]
"""When a fact became public, as a UTC instant."""


def _not_blank(value: str) -> str:
    text = value.strip()
    if not text:
        raise invalid("must not be empty or blank")
    return text


NonBlank = Annotated[
    str,
    AfterValidator(_not_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "pattern": "\\S"}),
]
"""Text that says something: surrounding blanks are removed, and blank text is refused."""

EventId = Annotated[
    str,
    Field(max_length=200),
    AfterValidator(_not_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"}),
]
