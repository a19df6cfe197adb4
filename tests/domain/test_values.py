"""Value objects: HS codes, country codes, rates, instants and provenance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import InvalidValue
from domain.values import (
    ALL_ORIGINS,
    ALL_PRODUCTS,
    Provenance,
    Reliability,
    Source,
    country_code,
    end_of_day,
    hs_digits,
    hs_prefix,
    prefixes_of,
    rate,
    start_of_day,
    target_code,
    utc_instant,
)

OFFICIAL = Source(
    "https://www.federalregister.gov/d/2025-06063", "Federal Register", Reliability.OFFICIAL
)
PRESS = Source("https://www.reuters.com/world/china/", "Reuters", Reliability.PRESS)
RUMOUR = Source("https://example.org/forum/post", "a forum", Reliability.UNVERIFIED)
LAW_FIRM = Source("https://www.cmtradelaw.com/2025/04/", "CM Trade Law", Reliability.LAW_FIRM)


# -- HS codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("9503.00.0090", "9503000090"),
        ("8517.13", "851713"),
        ("851713", "851713"),
        ("8517 13 00", "85171300"),
        ("  1201.90 ", "120190"),
        ("95", "95"),
        ("8703.80.0000.10", "870380000010"),
    ],
)
def test_an_hs_code_is_compared_as_its_digits(written: str, digits: str) -> None:
    normalised = hs_digits(written)

    assert normalised == digits


def test_dotted_and_undotted_forms_of_a_code_are_the_same_prefix() -> None:
    dotted = hs_digits("8517.13")

    undotted = hs_digits("851713")

    assert dotted == undotted


@pytest.mark.parametrize(
    "written",
    ["", "   ", "9", "1234567890123", "95O3", "HS9503", "-9503", ".9503", "9503/00", "*"],
)
def test_an_hs_code_needs_two_to_twelve_digits_and_nothing_else(written: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        hs_digits(written, field="hs_code")

    assert raised.value.field == "hs_code"
    assert raised.value.rule == "invalid_value"


def test_the_star_prefix_means_every_product() -> None:
    every_product = hs_prefix("*")

    assert every_product == ALL_PRODUCTS == ""


def test_a_scope_prefix_other_than_star_is_normalised_to_digits() -> None:
    prefix = hs_prefix("8471.30")

    assert prefix == "847130"


def test_a_bad_scope_prefix_names_the_field_it_came_from() -> None:
    with pytest.raises(InvalidValue) as raised:
        hs_prefix("84x", field="scope.hs_prefixes[2]")

    assert raised.value.field == "scope.hs_prefixes[2]"


def test_the_prefixes_that_can_match_a_code_run_from_longest_to_every_product() -> None:
    prefixes = prefixes_of("9503000090")

    assert prefixes == [
        "9503000090",
        "950300009",
        "95030000",
        "9503000",
        "950300",
        "95030",
        "9503",
        "950",
        "95",
        ALL_PRODUCTS,
    ]


def test_a_chapter_is_matched_by_itself_and_by_every_product() -> None:
    prefixes = prefixes_of("72")

    assert prefixes == ["72", ALL_PRODUCTS]


# -- countries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "code"), [("cn", "CN"), (" US ", "US"), ("Gb", "GB"), ("XK", "XK")]
)
def test_a_country_code_is_normalised_to_upper_case_iso_alpha_2(written: str, code: str) -> None:
    normalised = country_code(written)

    assert normalised == code


@pytest.mark.parametrize("written", ["", "USA", "UK", "EU", "ZZ", "C", "*", "1N"])
def test_anything_but_an_assigned_iso_alpha_2_code_is_rejected(written: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        country_code(written, field="parties")

    assert raised.value.field == "parties"


def test_a_measure_target_is_a_country_or_every_origin() -> None:
    targets = [target_code(" * "), target_code("mx")]

    assert targets == [ALL_ORIGINS, "MX"]


def test_a_measure_target_rejects_unknown_countries() -> None:
    with pytest.raises(InvalidValue) as raised:
        target_code("EU")

    assert raised.value.field == "targets"


# -- rates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "percent"),
    [("125", Decimal("125")), (34, Decimal("34")), ("7.5", Decimal("7.5")), (0, Decimal("0"))],
)
def test_a_rate_is_a_decimal_percentage(written: Decimal | int | str, percent: Decimal) -> None:
    parsed = rate(written)

    assert parsed == percent
    assert isinstance(parsed, Decimal)


def test_a_rate_keeps_its_exact_decimal_value() -> None:
    parsed = rate("0.1")

    assert parsed + rate("0.2") == Decimal("0.3")


@pytest.mark.parametrize("written", ["-10", -1, "NaN", "Infinity", "-Infinity", "ten", "", "10%"])
def test_a_rate_must_be_a_finite_number_not_below_zero(written: Decimal | int | str) -> None:
    with pytest.raises(InvalidValue) as raised:
        rate(written, field="rate_by_prefix.8703.80")

    assert raised.value.field == "rate_by_prefix.8703.80"


# -- instants -------------------------------------------------------------------------


def test_a_day_starts_at_midnight_utc() -> None:
    start = start_of_day(date(2025, 4, 10))

    assert start == datetime(2025, 4, 10, 0, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)


def test_a_day_given_as_known_at_means_its_last_instant_in_utc() -> None:
    end = end_of_day(date(2025, 4, 10))

    assert end == datetime(2025, 4, 10, 23, 59, 59, 999999, tzinfo=UTC)
    assert end + timedelta(microseconds=1) == start_of_day(date(2025, 4, 11))


def test_the_end_of_a_year_is_the_last_instant_of_31_december() -> None:
    end = end_of_day(date(2025, 12, 31))

    assert end == datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_a_naive_datetime_is_rejected_because_local_time_is_never_implied() -> None:
    naive = datetime(2025, 4, 9, 12, 1)

    with pytest.raises(InvalidValue) as raised:
        utc_instant(naive, field="known_at")

    assert raised.value.field == "known_at"
    assert "2025-04-09T12:01:00" in raised.value.message


def test_an_instant_with_an_offset_is_converted_to_utc() -> None:
    eastern_daylight = timezone(timedelta(hours=-4))
    one_past_midnight_in_washington = datetime(2025, 4, 9, 0, 1, tzinfo=eastern_daylight)

    instant = utc_instant(one_past_midnight_in_washington, field="announced_at")

    assert instant == datetime(2025, 4, 9, 4, 1, tzinfo=UTC)
    assert instant.tzinfo is UTC


def test_an_instant_already_in_utc_is_unchanged() -> None:
    moment = datetime(2025, 5, 12, 8, 30, tzinfo=UTC)

    instant = utc_instant(moment, field="recorded_at")

    assert instant == moment


# -- provenance -----------------------------------------------------------------------


def test_one_official_source_makes_a_fact_official() -> None:
    provenance = Provenance((PRESS, RUMOUR, OFFICIAL), recorded_by="analyst@tradeledger")

    reliability = provenance.reliability

    assert reliability is Reliability.OFFICIAL


def test_provenance_is_as_reliable_as_its_best_source() -> None:
    provenance = Provenance((RUMOUR, PRESS, LAW_FIRM), recorded_by="analyst@tradeledger")

    reliability = provenance.reliability

    assert reliability is Reliability.LAW_FIRM


def test_an_unverified_report_stays_unverified() -> None:
    provenance = Provenance((RUMOUR,), recorded_by="analyst@tradeledger", note="ethane")

    reliability = provenance.reliability

    assert reliability is Reliability.UNVERIFIED


def test_reliabilities_are_listed_most_trustworthy_first() -> None:
    order = list(Reliability)

    assert order == [
        Reliability.OFFICIAL,
        Reliability.LAW_FIRM,
        Reliability.PRESS,
        Reliability.UNVERIFIED,
    ]


def test_a_fact_without_sources_is_rejected() -> None:
    with pytest.raises(InvalidValue) as raised:
        Provenance((), recorded_by="analyst@tradeledger")

    assert raised.value.field == "sources"


def test_a_fact_must_say_who_recorded_it() -> None:
    with pytest.raises(InvalidValue) as raised:
        Provenance((OFFICIAL,), recorded_by="  ")

    assert raised.value.field == "recorded_by"


def test_a_source_needs_a_citation() -> None:
    with pytest.raises(InvalidValue) as raised:
        Source(" ", "Reuters", Reliability.PRESS)

    assert raised.value.field == "source.citation"
