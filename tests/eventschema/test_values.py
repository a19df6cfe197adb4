"""The value types: dates and instants as a client writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventschema import DATASET_LINE, MeasureRateChanged
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
