"""The value types of the public schema: country codes, HS prefixes, rates, dates, text.

Each type validates with the domain's own function, so that the edge and the domain
cannot disagree about what a country code or an HS prefix is; the JSON Schema is
written out by hand because a validator function has none.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from domain.errors import InvalidValue
from domain.values import (
    ISO_3166_ALPHA_2,
    MAX_RATE,
    RATE_PLACES,
    country_code,
    echo,
    hs_prefix,
    rate,
    start_of_day,
    target_code,
    utc_instant,
)
from eventschema.id_characters import MARKS, NOT_IN_IDS, not_in_ids
from eventschema.recordable import NON_BLANK_TEXT_PATTERN, RECORDABLE_TEXT_PATTERN


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


def _within_precision(value: object) -> object:
    """Refuse a number the rate's precision cannot hold (see `domain.values.rate`), before
    pydantic parses it: pydantic would call 1e400 "not finite" and round nothing, but
    say nothing useful either. Negative, infinite and non-numbers are left to pydantic."""
    value = _reject_non_numbers(value)
    if isinstance(value, Decimal | int | float | str):
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except ArithmeticError:
            return value
        if number.is_finite() and number >= 0:
            try:
                return rate(number, "value")
            except InvalidValue as error:
                raise invalid(error.message.removeprefix("value: ")) from None
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
            raise invalid(f"{echo(value)} is not a valid date: {error}") from None
    raise invalid(f"{echo(value)} is not a date; give YYYY-MM-DD")


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
                    f"{echo(text)} is neither a date (YYYY-MM-DD) nor an ISO 8601 date and time"
                ) from None
    if isinstance(value, datetime):
        try:
            return utc_instant(value, "announced_at")
        except InvalidValue as error:
            raise invalid(error.message.removeprefix("announced_at: ")) from None
    if isinstance(value, date):
        return start_of_day(value)
    raise invalid(f"{echo(value)} is not a date or an ISO 8601 date and time")


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

HS_PREFIX_PATTERN = "^(\\*|[0-9](?:[. ]*[0-9]){1,11}[. ]*)$"
"""What `hs_prefix` takes: "*", or 2 to 12 digits with dots (or spaces) after the first."""

HsPrefix = Annotated[
    str,
    AfterValidator(with_domain_check(hs_prefix)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": HS_PREFIX_PATTERN,
            "description": (
                'An HS/HTS code prefix: 2 to 12 digits, dots allowed ("8517.13"), '
                'or "*" for every product. Stored as digits ("851713"; "*" as "").'
            ),
            "examples": ["8517.13", "9503.00.00", "*"],
        }
    ),
]
"""An HS prefix, normalised to digits; "*" (every product) becomes ""."""

_PLACES = f"(?:\\.[0-9]{{1,{RATE_PLACES}}})?"
_MAX_DIGITS = len(str(int(MAX_RATE)))
assert 10 ** (_MAX_DIGITS - 1) == MAX_RATE, "the rate pattern below assumes a power of ten"
RATE_STRING_PATTERN = (
    f"^0*(?:[0-9]{{1,{_MAX_DIGITS - 1}}}{_PLACES}|{int(MAX_RATE)}(?:\\.0{{1,{RATE_PLACES}}})?)$"
)
"""A rate written as a string, as the schema states it: digits, at most RATE_PLACES
decimal places, and no more than MAX_RATE (10**6: below it at most six integer digits,
leading zeros aside), so that a valid-looking string the server refuses cannot exist."""

Rate = Annotated[
    Decimal,
    BeforeValidator(_within_precision),
    Field(ge=0, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                # multipleOf: at most RATE_PLACES decimal places, as for the string.
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": int(MAX_RATE),
                    "multipleOf": 10.0**-RATE_PLACES,
                },
                {"type": "string", "pattern": RATE_STRING_PATTERN},
            ],
            "description": (
                "Additional ad valorem duty in percent (not including MFN): a JSON number "
                f"or a numeric string (exact), finite, from 0 to {MAX_RATE}, with at most "
                f"{RATE_PLACES} decimal places. A number beyond that precision (1e-400, "
                "1e400) is refused, never rounded."
            ),
            "examples": ["125", 7.5],
        }
    ),
]
"""A rate in percent, exact (Decimal), from 0 to MAX_RATE with at most RATE_PLACES
decimal places (the domain's `rate` decides)."""

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


Text = Annotated[str, WithJsonSchema({"type": "string", "pattern": RECORDABLE_TEXT_PATTERN})]
"""Free text: anything the store gives back as it was given (no NUL; Unicode, so no lone
surrogate), as `check_recordable` decides. Every free-text field of an event is one, so
that the schema says what the server takes."""

NonBlank = Annotated[
    str,
    AfterValidator(_not_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "pattern": NON_BLANK_TEXT_PATTERN}),
]
"""Text that says something: surrounding blanks are removed, and blank text is refused
(and, like all Text, recordable)."""

ID_MAX_LENGTH = 200
"""The most characters an identifier (an event id, a layer, a status) may have."""

ID_RULE = (
    "An identifier: 1 to 200 characters (surrounding spaces removed), NFC-normalised (a "
    "decomposed 'e' + U+0301 is stored as U+00E9); no control (Cc) or format (Cf) "
    "character such as U+200B or U+202E, no line or paragraph separator, no space other "
    "than U+0020, and no combining mark (M) first. Two ids that look alike are then the "
    "same id."
)
"""The rule every caller-chosen identifier follows, as the schema and the README state it."""


def _character_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """The body of a regular-expression character class holding `ranges`: `\\uXXXX` in
    the BMP, the characters themselves beyond it (the one spelling both Python's `re` and
    ECMA-262 regular expressions, which JSON Schema patterns are, read alike; surrogates,
    which no JSON Schema tool accepts in a pattern, are not in the ranges)."""

    def spelled(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)

    return "".join(
        spelled(first) if first == last else f"{spelled(first)}-{spelled(last)}"
        for first, last in ranges
    )


_NOT_IN_IDS = _character_class(NOT_IN_IDS)
_MARKS = _character_class(MARKS)
ID_PATTERN = f"^ *[^{_NOT_IN_IDS}{_MARKS} ](?:[^{_NOT_IN_IDS}]*[^{_NOT_IN_IDS} ])? *$"
"""ID_RULE as a regular expression (before NFC), built from the same Unicode categories
the validator applies, so that the published schema accepts exactly what the server does."""

_ID_MATCH = re.compile(ID_PATTERN)


def _identifier(value: str) -> str:
    """`value` as an identifier (see ID_RULE), or an error saying what is wrong.

    Ids are compared as strings: without this rule `US-CN-FENT-20` and `US-CN-FENT-20`
    followed by a zero-width space would be two events, and an RTL override or a newline
    would make an id print as something it is not.
    """
    text = value.strip(" ")
    if not text:
        raise invalid("must not be empty or blank")
    if len(text) > ID_MAX_LENGTH:
        raise invalid(f"must have at most {ID_MAX_LENGTH} characters, not {len(text)}")
    if not _ID_MATCH.match(text):
        position, char = next(((i, c) for i, c in enumerate(text) if not_in_ids(c)), (0, text[0]))
        if not_in_ids(char):
            raise invalid(
                f"must not contain U+{ord(char):04X} ({_describe(char)}) at position "
                f"{position + 1}: ids are printable text"
            )
        raise invalid(
            f"must not start with the combining mark U+{ord(char):04X}; "
            "a mark belongs to the character before it"
        )
    return unicodedata.normalize("NFC", text)


def _describe(char: str) -> str:
    category = unicodedata.category(char)
    name = unicodedata.name(char, "")
    kinds = {
        "Cc": "a control character",
        "Cf": "a format character",
        "Zl": "a line separator",
        "Zp": "a paragraph separator",
        "Zs": "a space other than U+0020",
    }
    kind = kinds.get(category, f"category {category}")
    return f"{kind}, {name}" if name else kind


_ID_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": ID_MAX_LENGTH,
    "pattern": ID_PATTERN,
    "description": ID_RULE,
}

Identifier = Annotated[
    str,
    AfterValidator(_identifier),
    WithJsonSchema(_ID_SCHEMA),
]
"""A caller-chosen identifier (a layer, a status): printable text, see ID_RULE."""

EventId = Annotated[
    str,
    AfterValidator(_identifier),
    WithJsonSchema({**_ID_SCHEMA, "examples": ["US-CN-FENT-10"]}),
]
"""An event id, or a reference to one: an identifier (see ID_RULE)."""
