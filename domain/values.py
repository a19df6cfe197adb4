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


def country_code(value: str, field: str = "country") -> str:
    """Normalise an ISO 3166 alpha-2 code ("cn" -> "CN"); reject anything else."""
    code = value.strip().upper()
    if code not in ISO_3166_ALPHA_2:
        raise InvalidValue(field, f"{value!r} is not an ISO 3166 alpha-2 country code")
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
        raise InvalidValue(field, f"{value!r} is not an HS code (digits, optionally with dots)")
    digits = text.replace(".", "").replace(" ", "")
    if not 2 <= len(digits) <= 12:
        raise InvalidValue(field, f"{value!r} must have between 2 and 12 digits")
    return digits


ALL_PRODUCTS = ""
"""The empty prefix: it matches every HS code ("*" in the dataset format)."""


def hs_prefix(value: str, field: str = "hs_prefixes") -> str:
    """A scope prefix: "*" (every product) becomes the empty prefix, others become digits."""
    return ALL_PRODUCTS if value.strip() == "*" else hs_digits(value, field)


def prefixes_of(digits: str) -> list[str]:
    """Every prefix that can match an HS code, longest first, ending with ALL_PRODUCTS."""
    return [digits[:n] for n in range(len(digits), 1, -1)] + [ALL_PRODUCTS]


def rate(value: Decimal | int | str, field: str = "rate_pct") -> Decimal:
    """An additional ad valorem rate in percent: a finite, non-negative Decimal."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(field, f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise InvalidValue(field, f"{value!r} must be a finite number >= 0")
    return number


def start_of_day(day: date) -> datetime:
    """The first instant of a day, in UTC: when a date-only announcement counts as known."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """The last instant of a calendar day, in UTC: a date given as `known_at` means all of it."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(
        microseconds=1
    )


def utc_instant(value: datetime, field: str) -> datetime:
    """Reject naive datetimes (local time is never implied) and convert to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(field, f"{value.isoformat()} has no time zone; add 'Z' or an offset")
    return value.astimezone(UTC)
