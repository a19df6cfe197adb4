"""One point on the three time axes, as the API, the CLI and the queries pass it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.errors import InvalidValue
from projections.timepoint import NOW, TimePoint

NOON_UTC = datetime(2025, 4, 10, 12, 0, tzinfo=UTC)


def test_an_axis_left_out_takes_its_default_from_the_clock() -> None:
    resolved = NOW.resolve(NOON_UTC)

    assert resolved == (date(2025, 4, 10), NOON_UTC, NOON_UTC)


def test_a_date_for_known_at_or_recorded_at_means_the_end_of_that_day_in_utc() -> None:
    point = TimePoint(known_at=date(2025, 4, 10), recorded_at=date(2025, 4, 11))

    assert point.known_at == datetime(2025, 4, 10, 23, 59, 59, 999999, tzinfo=UTC)
    assert point.recorded_at == datetime(2025, 4, 11, 23, 59, 59, 999999, tzinfo=UTC)


def test_an_instant_is_kept_in_utc_and_an_instant_for_on_names_its_day() -> None:
    tokyo = timezone(timedelta(hours=9))

    point = TimePoint(on=datetime(2025, 4, 10, 8, 0, tzinfo=tokyo), known_at=NOON_UTC)

    assert point.on == date(2025, 4, 10)
    assert point.known_at == NOON_UTC
    assert point.known_at.tzinfo is UTC


def test_an_instant_without_a_zone_is_refused() -> None:
    with pytest.raises(InvalidValue) as refused:
        TimePoint(known_at=datetime(2025, 4, 10, 12, 0))

    assert refused.value.field == "known_at"


@pytest.mark.parametrize(
    ("texts", "field"),
    [
        ({"on": "2025-13-01"}, "on2"),
        ({"known_at": "2025-04-10T10:00"}, "known_at2"),
    ],
)
def test_text_that_is_no_point_is_refused_naming_the_parameter(
    texts: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        TimePoint.parse(**texts, suffix="2")

    assert refused.value.field == field


def test_the_edges_of_the_calendar_are_the_first_and_last_instants() -> None:
    """Valid dates and RFC 3339 instants with no end of day or no UTC equivalent name
    the edge of the calendar (every recorded instant is inside it), not an error."""
    last_day = TimePoint.parse(known_at="9999-12-31", recorded_at="9999-12-31T23:59:59-14:00")
    first = TimePoint.parse(recorded_at="0001-01-01T00:00:00+14:00")

    assert last_day.known_at == last_day.recorded_at == datetime.max.replace(tzinfo=UTC)
    assert first.recorded_at == datetime.min.replace(tzinfo=UTC)


def test_parsed_text_is_the_same_point_as_values() -> None:
    parsed = TimePoint.parse(
        on="2025-04-15", known_at="2025-04-12", recorded_at="2025-04-20T12:00:00Z"
    )

    assert parsed == TimePoint(
        on=date(2025, 4, 15),
        known_at=date(2025, 4, 12),
        recorded_at=datetime(2025, 4, 20, 12, 0, tzinfo=UTC),
    )


def test_the_second_point_of_a_diff_takes_what_it_leaves_out_from_the_first() -> None:
    first = TimePoint(on=date(2025, 5, 13), known_at=date(2025, 5, 14))

    second = TimePoint(on=date(2025, 5, 14)).or_else(first)

    assert second == TimePoint(on=date(2025, 5, 14), known_at=date(2025, 5, 14))
