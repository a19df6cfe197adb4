"""PostgreSQL specifics: one round trip per append, lock timeout, retries, atomicity."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from threading import Timer
from time import perf_counter
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.pq import Trace

from storage.postgres import (
    LedgerPostgresApplicationRecorder,
    LedgerPostgresProcessRecorder,
)
from tests.conftest import PostgresDatabase
from tests.storage.support import stored_event

pytestmark = pytest.mark.postgres


@pytest.fixture
def datastore(postgres_database: PostgresDatabase) -> Iterator[PostgresDatastore]:
    datastore = PostgresDatastore(
        dbname=postgres_database.dbname,
        host=postgres_database.host,
        port=postgres_database.port,
        user=postgres_database.user,
        password=postgres_database.password,
        pool_size=1,
        max_overflow=0,
    )
    yield datastore
    datastore.close()


@pytest.fixture
def recorder(datastore: PostgresDatastore) -> LedgerPostgresApplicationRecorder:
    recorder = LedgerPostgresApplicationRecorder(datastore)
    recorder.create_table()
    return recorder


def _frontend_syncs(datastore: PostgresDatastore, action: object) -> int:
    """Count protocol Sync messages (one per round trip) sent while running `action`."""
    assert callable(action)
    with tempfile.TemporaryDirectory() as tmpdir:
        trace_path = Path(tmpdir) / "trace"
        with trace_path.open("wb") as trace_file:
            with datastore.get_connection() as conn:  # The pool's only connection.
                conn.pgconn.trace(trace_file.fileno())
                conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
            try:
                action()
            finally:
                with datastore.get_connection() as conn:
                    conn.pgconn.untrace()
        lines = trace_path.read_text().splitlines()
    return sum(1 for line in lines if line.startswith("F") and line.split("\t")[2] == "Sync")


def test_append_is_one_round_trip(
    datastore: PostgresDatastore, recorder: LedgerPostgresApplicationRecorder
) -> None:
    recorder.insert_events([stored_event()])  # Prepares the statement on the connection.
    assert _frontend_syncs(datastore, lambda: recorder.insert_events([stored_event()])) == 1
    events = [stored_event(version=1), stored_event(version=1), stored_event(version=1)]
    assert _frontend_syncs(datastore, lambda: recorder.insert_events(events)) == 1
    assert recorder.max_notification_id() == 5


def test_append_is_atomic_and_conflicts_raise_integrity_error(
    recorder: LedgerPostgresApplicationRecorder,
) -> None:
    existing = stored_event()
    assert recorder.insert_events([existing]) == [1]
    new = stored_event()
    with pytest.raises(IntegrityError):
        recorder.insert_events([new, existing])
    assert recorder.select_events(new.originator_id) == []
    assert recorder.insert_events([]) is None


def test_lock_timeout_is_respected_and_the_append_retried(
    postgres_database: PostgresDatabase,
    datastore: PostgresDatastore,
    recorder: LedgerPostgresApplicationRecorder,
) -> None:
    datastore.lock_timeout = 1  # Seconds, as in the library (POSTGRES_LOCK_TIMEOUT).
    with psycopg.connect(postgres_database.url) as blocker:
        blocker.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE")

        # One attempt (no retry) gives up after the lock timeout.
        started = perf_counter()
        with (
            pytest.raises(OperationalError, match="lock timeout"),
            datastore.get_connection() as conn,
            conn.cursor() as curs,
        ):
            recorder._append(curs, [stored_event()])
        assert 0.9 < perf_counter() - started < 5

        # insert_events() retries, like the library's: it succeeds once the
        # blocker commits, after its first attempt has timed out.
        release = Timer(1.5, blocker.commit)
        release.start()
        started = perf_counter()
        try:
            assert recorder.insert_events([stored_event()]) == [1]
        finally:
            release.join()
        assert perf_counter() - started > 1.4


def test_process_recorder_commits_tracking_with_events(datastore: PostgresDatastore) -> None:
    recorder = LedgerPostgresProcessRecorder(datastore)
    recorder.create_table()
    assert recorder.insert_events([stored_event()], tracking=Tracking("upstream", 1)) == [1]
    # Tracking conflict: the events are not recorded either.
    lost = stored_event()
    with pytest.raises(IntegrityError):
        recorder.insert_events([lost], tracking=Tracking("upstream", 1))
    assert recorder.select_events(lost.originator_id) == []
    assert recorder.max_tracking_id("upstream") == 1
    # Without tracking: one round trip, as for the application recorder.
    recorder.insert_events([stored_event()])
    assert _frontend_syncs(datastore, lambda: recorder.insert_events([stored_event()])) == 1
    recorded = recorder.select_notifications_with_record_time(None, 10)
    # The tracking conflict is found before the append, so no id was used up.
    assert [n.id for n in recorded] == [1, 2, 3]


def test_append_function_is_named_after_its_table(datastore: PostgresDatastore) -> None:
    short = LedgerPostgresApplicationRecorder(datastore, events_table_name="trades_events")
    assert short.append_function_name == "tl_append_trades_events"
    long_names = ["e" * 60 + "1", "e" * 60 + "2"]
    recorders = [
        LedgerPostgresApplicationRecorder(datastore, events_table_name=name) for name in long_names
    ]
    function_names = {r.append_function_name for r in recorders}
    assert len(function_names) == 2
    assert all(len(name) <= 63 for name in function_names)
    for r in recorders:
        r.create_table()
        assert r.insert_events([stored_event(uuid4())]) == [1]
