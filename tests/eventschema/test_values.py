"""The value types: dates and instants as a client writes them."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from eventschema import DATASET_LINE, HsPrefix, MeasureRateChanged, Rate, id_characters
from eventschema.values import ID_PATTERN, RATE_STRING_PATTERN
from tests.eventschema.support import errors_of, rate_changed


def test_an_announcement_date_means_midnight_utc() -> None:
    line = DATASET_LINE.validate_python(rate_changed(announced_at="2025-03-03"))

    assert isinstance(line, MeasureRateChanged)
    assert line.announced_at == datetime(2025, 3, 3, tzinfo=UTC)


def test_an_announcement_with_an_offset_is_converted_to_utc() -> None:
    line = DATASET_LINE.validate_python(rate_changed(announced_at="2025-04-11T21:00:00-04:00"))

    assert isinstance(line, MeasureRateChanged)
    assert line.announced_at == datetime(2025, 4, 12, 1, 0, tzinfo=UTC)


def test_an_announcement_without_a_time_zone_is_refused() -> None:
    message = errors_of(rate_changed(announced_at="2025-04-11T21:00:00"))

    assert message.startswith("announced_at: ")
    assert "no time zone" in message


@pytest.mark.parametrize("given", [1741046400, "2025-03-04T00:00:00", "04/03/2025", "2025-02-30"])
def test_a_business_date_is_written_yyyy_mm_dd(given: object) -> None:
    assert errors_of(rate_changed(effective_on=given)).startswith("effective_on: ")


@pytest.mark.parametrize(
    "given",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
)
def test_an_announcement_with_no_utc_equivalent_is_refused(given: str) -> None:
    message = errors_of(rate_changed(announced_at=given))

    assert message == (
        f"announced_at: {given} is out of range: in UTC it falls outside years 1 to 9999"
    )


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("1e-400", "1E-400 has more decimal places than a rate's precision (6)"),
        ("0.0000001", "1E-7 has more decimal places than a rate's precision (6)"),
        ("1e400", "1E+400 is above the largest rate recorded (1000000)"),
        ("1000000.5", "1000000.5 is above the largest rate recorded (1000000)"),
    ],
)
def test_a_rate_beyond_the_rates_precision_is_refused_not_rounded(
    given: str, complaint: str
) -> None:
    from_text = errors_of(rate_changed(rate_pct=given))
    from_json = errors_of(rate_changed(rate_pct=Decimal(given)))

    assert from_text.startswith(f"rate_pct: {complaint}")
    assert from_json == from_text


@pytest.mark.parametrize("given", ["0.000001", "999999.999999", "7.5", "0.1000000", "1000000"])
def test_a_rate_within_the_rates_precision_is_kept_exactly(given: str) -> None:
    line = DATASET_LINE.validate_python(rate_changed(rate_pct=given))

    assert isinstance(line, MeasureRateChanged)
    assert line.rate_pct == Decimal(given)


def test_a_points_value_follows_the_rates_precision() -> None:
    message = errors_of(
        rate_changed(type="suspension_granted", rate_pct=..., points="1e-400", ends_on="2025-08-12")
    )

    assert message.startswith("points: 1E-400 has more decimal places")


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("US-CN-FENT-20\u200b", "U+200B (a format character, ZERO WIDTH SPACE) at position 14"),
        ("US-CN-\u202eFENT-20", "U+202E (a format character, RIGHT-TO-LEFT OVERRIDE)"),
        ("US-CN\nFENT-20", "U+000A (a control character) at position 6"),
        ("US-CN-FENT\u2028", "U+2028 (a line separator, LINE SEPARATOR)"),
        ("US\u00a0CN", "U+00A0 (a space other than U+0020, NO-BREAK SPACE)"),
        ("\u0301US-CN-FENT-20", "must not start with the combining mark U+0301"),
        ("x" * 201, "must have at most 200 characters, not 201"),
        ("   ", "must not be empty or blank"),
    ],
)
def test_an_event_id_is_printable_text(given: str, complaint: str) -> None:
    message = errors_of(rate_changed(event_id=given))

    assert message.startswith("event_id: ")
    assert complaint in message


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("record_corrected", "corrected_event_id"),
        ("suspension_extended", "suspension_event_id"),
        ("legal_status_changed", "status"),
    ],
)
def test_every_identifier_follows_the_rule(event_type: str, field: str) -> None:
    line = rate_changed(type=event_type, rate_pct=..., **{field: "X\u200b"})

    assert f"{field}: must not contain U+200B" in errors_of(line)


def test_an_event_id_is_normalised_to_nfc_and_stripped_of_spaces() -> None:
    decomposed = DATASET_LINE.validate_python(rate_changed(event_id=" CAFE\u0301-1 "))
    composed = DATASET_LINE.validate_python(rate_changed(event_id="CAF\u00c9-1"))
    spaced = DATASET_LINE.validate_python(rate_changed(event_id="US CN 20"))

    assert isinstance(decomposed, MeasureRateChanged)
    assert isinstance(composed, MeasureRateChanged)
    assert isinstance(spaced, MeasureRateChanged)
    assert decomposed.event_id == composed.event_id == "CAF\u00c9-1"
    assert spaced.event_id == "US CN 20"


def test_an_error_echoes_at_most_80_characters_of_the_input() -> None:
    message = errors_of(rate_changed(effective_on="9" * 1_000_000, **{"k" * 1_000_000: 1}))

    assert len(message) < 400
    assert "'" + "9" * 78 + "\u2026 is not a date" in message
    assert "k" * 79 + "\u2026: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    "number", [0, 7.5, 125, 1e-6, 999999.999999, 1e-7, 1.175494351e-38, 2.2e-309, 12.3456789]
)
def test_the_schema_of_a_rate_takes_the_json_numbers_the_validator_takes(number: float) -> None:
    schema = jsonschema_rs.Draft202012Validator(TypeAdapter(Rate).json_schema())

    try:
        TypeAdapter(Rate).validate_python(number)
        taken = True
    except ValidationError:
        taken = False

    assert schema.is_valid(number) is taken


@pytest.mark.parametrize(
    "prefix", ["*", "85", "8517.13", "9503.00.0090", "8 5", "5", "1234567890123", "85x", ".85"]
)
def test_the_schema_of_an_hs_prefix_takes_what_the_validator_takes(prefix: str) -> None:
    schema = jsonschema_rs.Draft202012Validator(TypeAdapter(HsPrefix).json_schema())

    try:
        TypeAdapter(HsPrefix).validate_python(prefix)
        taken = True
    except ValidationError:
        taken = False

    assert schema.is_valid(prefix) is taken


def test_the_identifier_characters_are_unicodes_own() -> None:
    """The ranges written down in eventschema.id_characters are the categories the rule
    names, as this Python's unicodedata has them (regenerate on a new Unicode version)."""
    assert unicodedata.unidata_version == id_characters.UNICODE_VERSION, (
        "regenerate eventschema/id_characters.py for this Unicode version"
    )
    assert id_characters.ranges_of(id_characters.not_in_ids) == list(id_characters.NOT_IN_IDS)
    assert id_characters.ranges_of(id_characters.is_mark) == list(id_characters.MARKS)


@pytest.mark.parametrize(
    "given",
    ["US-CN-FENT-20", " padded ", "\U000f0000-private-use", "\u0378-unassigned", "x\u0301"],
)
def test_the_schema_pattern_and_the_validator_agree_on_accepted_ids(given: str) -> None:
    assert re.match(ID_PATTERN, given)
    DATASET_LINE.validate_python(rate_changed(event_id=given))  # accepted


@pytest.mark.parametrize(
    "written",
    ["125", "0", "04", "999999.999999", "1000000", "1000000.000000", "1000000.5", "1000001",
     "720650832109549327977516993", "1.1234567", "0001000000", "007.5"],
)  # fmt: skip
def test_a_rate_string_is_valid_to_the_schema_exactly_when_the_server_takes_it(
    written: str,
) -> None:
    """schemathesis found a 27-digit string the pattern allowed and the server refused."""
    try:
        TypeAdapter(Rate).validate_python(written)
        taken = True
    except ValidationError:
        taken = False

    assert bool(re.match(RATE_STRING_PATTERN, written)) == taken
