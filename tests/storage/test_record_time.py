"""Record times, on every backend: set by the store, UTC, in notification-id order."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from eventsourcing.persistence import Notification

from storage import RecordedNotification, RecordTimeRecorder
from tests.storage.conftest import LedgerRecorder
from tests.storage.support import stored_event

# Record times come from the store's clock: SQLite's is truncated to milliseconds,
# and the PostgreSQL server may be another host. Allow for both, and for scheduling.
CLOCK_SLACK = timedelta(seconds=1)


def _all(recorder: LedgerRecorder) -> list[RecordedNotification]:
    return recorder.select_notifications_with_record_time(None, limit=1_000_000)


def _assert_non_decreasing_in_id_order(notifications: list[RecordedNotification]) -> None:
    ids = [n.id for n in notifications]
    assert ids == sorted(ids)
    for earlier, later in itertools.pairwise(notifications):
        assert earlier.recorded_at <= later.recorded_at, (earlier, later)


def test_recorder_offers_record_times(recorder: LedgerRecorder) -> None:
    assert isinstance(recorder, RecordTimeRecorder)
    assert recorder.select_notifications_with_record_time(None, 10) == []


def test_record_times_are_utc_set_at_insert_and_non_decreasing(
    recorder: LedgerRecorder,
) -> None:
    windows: list[tuple[datetime, datetime, list[int]]] = []
    for batch_size in (1, 3, 1, 2, 1):
        originator_id = uuid4()
        before = datetime.now(UTC)
        ids = recorder.insert_events(
            [stored_event(originator_id, version) for version in range(1, batch_size + 1)]
        )
        after = datetime.now(UTC)
        assert ids is not None
        windows.append((before, after, list(ids)))
        time.sleep(0.003)  # Let the clock move on (SQLite has ms resolution).

    notifications = _all(recorder)
    assert [n.id for n in notifications] == [i for _, _, ids in windows for i in ids]
    for n in notifications:
        assert n.recorded_at.tzinfo is UTC
    by_id = {n.id: n for n in notifications}
    for before, after, ids in windows:
        for notification_id in ids:
            recorded_at = by_id[notification_id].recorded_at
            assert before - CLOCK_SLACK <= recorded_at <= after + CLOCK_SLACK
    _assert_non_decreasing_in_id_order(notifications)
    # Batches recorded apart get distinct record times.
    assert len({n.recorded_at for n in notifications}) >= len(windows)


def test_record_times_non_decreasing_under_concurrent_writers(recorder: LedgerRecorder) -> None:
    def write(batch_size: int) -> None:
        originator_id = uuid4()
        recorder.insert_events(
            [stored_event(originator_id, version) for version in range(1, batch_size + 1)]
        )

    batch_sizes = [1 + i % 20 for i in range(300)]
    with ThreadPoolExecutor(max_workers=8) as executor:
        list(executor.map(write, batch_sizes))

    notifications = _all(recorder)
    assert len(notifications) == sum(batch_sizes)
    _assert_non_decreasing_in_id_order(notifications)
    # Each append's events are contiguous in the log: appends were serialised, so
    # commit order is notification-id order.
    changes = sum(
        1 for a, b in itertools.pairwise(notifications) if a.originator_id != b.originator_id
    )
    assert changes + 1 == len(batch_sizes)


def _fields(
    notifications: list[RecordedNotification] | list[Notification],
) -> list[tuple[object, ...]]:
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


def test_select_with_record_time_filters_like_select_notifications(
    recorder: LedgerRecorder,
) -> None:
    topics = ["topic-a", "topic-b", "topic-c"]
    originator_id = uuid4()
    for version in range(1, 11):
        recorder.insert_events([stored_event(originator_id, version, topics[version % 3])])

    cases = itertools.product(
        (None, 0, 1, 4, 10, 11),  # start
        (1, 3, 100),  # limit
        (None, 0, 1, 5, 10),  # stop
        ((), ("topic-b",), ("topic-a", "topic-c"), ("nope",)),  # topics
        (True, False),  # inclusive_of_start
    )
    for start, limit, stop, topic_filter, inclusive in cases:
        expected = recorder.select_notifications(
            start, limit, stop, topic_filter, inclusive_of_start=inclusive
        )
        actual = recorder.select_notifications_with_record_time(
            start, limit, stop, topic_filter, inclusive_of_start=inclusive
        )
        assert _fields(actual) == _fields(list(expected)), (
            start,
            limit,
            stop,
            topic_filter,
            inclusive,
        )
        assert all(isinstance(n, RecordedNotification) for n in actual)
