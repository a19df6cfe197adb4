"""Value objects shared by the aggregates: provenance, countries, HS codes and instants.

Nothing here touches the clock: every instant is passed in, so that the same
value means the same thing when an event is replayed years later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import InvalidValue


class Reliability(StrEnum):
    """How far an auditor may trust a source, most trustworthy first."""

    OFFICIAL = "official"
    LAW_FIRM = "law_firm"
    PRESS = "press"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: a citation (URL or reference), its publisher, its reliability."""

    citation: str
    publisher: str
    reliability: Reliability

    def __post_init__(self) -> None:
        if not self.citation.strip():
            raise InvalidValue("source.citation", "a source needs a citation or URL")


@dataclass(frozen=True)
class Provenance:
    """Who says so and who typed it in: carried by every event, so every number is traceable."""

    sources: tuple[Source, ...]
    recorded_by: str
    note: str = ""

    def __post_init__(self) -> None:
        if not self.sources:
            raise InvalidValue("sources", "every event needs at least one source")
        if not self.recorded_by.strip():
            raise InvalidValue("recorded_by", "every event must say who recorded it")

    @property
    def reliability(self) -> Reliability:
        """The best reliability among the sources: one official source makes a fact official."""
        order = list(Reliability)
        return min((s.reliability for s in self.sources), key=order.index)


# ISO 3166-1 alpha-2, officially assigned codes (plus XK, widely used for Kosovo).
ISO_3166_ALPHA_2 = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
        "XK",
    ]
)

ALL_ORIGINS = "*"
"""A measure target meaning every origin (erga omnes), e.g. Section 232 steel."""


ECHO_LIMIT = 80
"""The most characters of a caller's input an error message repeats (see `echo`)."""


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text`, cut to `limit` characters with an ellipsis: an error names what it refuses,
    but a 1 MB key must not become a 1 MB error line."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """The repr of a value a caller gave, as an error message repeats it (see `shorten`)."""
    return shorten(repr(value), limit)


def country_code(value: str, field: str = "country") -> str:
    """Normalise an ISO 3166 alpha-2 code ("cn" -> "CN"); reject anything else."""
    code = value.strip().upper()
    if code not in ISO_3166_ALPHA_2:
        raise InvalidValue(field, f"{echo(value)} is not an ISO 3166 alpha-2 country code")
    return code


def target_code(value: str, field: str = "targets") -> str:
    """A measure target: a country code, or "*" for every origin."""
    return ALL_ORIGINS if value.strip() == ALL_ORIGINS else country_code(value, field)


_HS_CHARS = re.compile(r"^[0-9][0-9. ]*$")


def hs_digits(value: str, field: str = "hs") -> str:
    """An HS/HTS code as a digit string: "9503.00.0090" -> "9503000090".

    HS codes are compared as digit strings so that "8517.13" and "851713" are the
    same prefix; at least two digits (a chapter), at most twelve (national lines).
    """
    text = value.strip()
    if not _HS_CHARS.match(text):
        raise InvalidValue(field, f"{echo(value)} is not an HS code (digits, optionally with dots)")
    digits = text.replace(".", "").replace(" ", "")
    if not 2 <= len(digits) <= 12:
        raise InvalidValue(field, f"{echo(value)} must have between 2 and 12 digits")
    return digits


ALL_PRODUCTS = ""
"""The empty prefix: it matches every HS code ("*" in the dataset format)."""


def hs_prefix(value: str, field: str = "hs_prefixes") -> str:
    """A scope prefix: "*" (every product) becomes the empty prefix, others become digits."""
    return ALL_PRODUCTS if value.strip() == "*" else hs_digits(value, field)


def prefixes_of(digits: str) -> list[str]:
    """Every prefix that can match an HS code, longest first, ending with ALL_PRODUCTS."""
    return [digits[:n] for n in range(len(digits), 1, -1)] + [ALL_PRODUCTS]


RATE_PLACES = 6
"""The rate's precision: decimal places a rate (or a number of points) may have."""

MAX_RATE = Decimal(1_000_000)
"""The largest rate (or number of points) in percent: no plausible one is higher, and a
bigger number is a typo (or 1e400, which would make every answer mentioning it slow)."""


def rate(value: Decimal | int | str, field: str = "rate_pct") -> Decimal:
    """An additional ad valorem rate in percent: an exact Decimal, finite, from 0 to
    MAX_RATE, with at most RATE_PLACES decimal places.

    A number beyond that precision is refused, never rounded: 1e-400 would otherwise be
    recorded as a rate that prints, sums and compares as 0 (underflow), 1e400 as one no
    answer can print in reasonable time (overflow). The value is kept as written
    (125.0 stays 125.0), except that -0 is 0.
    """
    if isinstance(value, bool):
        raise InvalidValue(field, "a rate is a number, not true/false")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidValue(field, f"{echo(value)} is not a number") from None
    if not number.is_finite() or number < 0:
        raise InvalidValue(field, f"{echo(value)} must be a finite number >= 0")
    if number > MAX_RATE:
        raise InvalidValue(
            field, f"{shorten(str(number))} is above the largest rate recorded ({MAX_RATE})"
        )
    if _decimal_places(number) > RATE_PLACES:
        raise InvalidValue(
            field,
            f"{shorten(str(number))} has more decimal places than a rate's precision "
            f"({RATE_PLACES}); it would not be recorded as given",
        )
    return Decimal(0) if number.is_zero() else number


def _decimal_places(number: Decimal) -> int:
    """The decimal places `number` needs (trailing zeros need none), without arithmetic:
    no context rounds, however large its exponent."""
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    significant = len(digits)
    while significant and digits[significant - 1] == 0:
        significant -= 1
    if significant == 0:
        return 0
    return max(0, -(exponent + len(digits) - significant))


def start_of_day(day: date) -> datetime:
    """The first instant of a day, in UTC: when a date-only announcement counts as known."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """The last instant of a calendar day, in UTC: a date given as `known_at` means all of it."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(
        microseconds=1
    )


def utc_instant(value: datetime, field: str) -> datetime:
    """Reject naive datetimes (local time is never implied) and instants with no UTC
    equivalent, and convert to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(field, f"{value.isoformat()} has no time zone; add 'Z' or an offset")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+14:00 is in year 0 in UTC, 9999-12-31T23:59:59-14:00 in 10000.
        raise InvalidValue(
            field, f"{value.isoformat()} is out of range: in UTC it falls outside years 1 to 9999"
        ) from None
