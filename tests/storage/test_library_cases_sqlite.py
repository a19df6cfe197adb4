"""The library's own recorder and factory test cases, run against our SQLite store.

Each test uses a database file of its own (in a temporary directory).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Import the module, not the classes: pytest would otherwise collect the library's
# abstract base cases from this module's namespace.
import eventsourcing.tests.persistence as es_tests
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore, SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from storage.sqlite import (
    LedgerSQLiteApplicationRecorder,
    LedgerSQLiteFactory,
    LedgerSQLiteProcessRecorder,
)


class _TemporaryDatabaseFile(es_tests.RecorderTestCase):
    """A fresh database file per test; datastores are closed after the test."""

    def setUp(self) -> None:
        super().setUp()
        tmpdir = tempfile.TemporaryDirectory(prefix="tl_store_test_")
        self.addCleanup(tmpdir.cleanup)
        self.db_name = str(Path(tmpdir.name) / "events.sqlite")

    def create_datastore(self, pool_size: int = 5) -> SQLiteDatastore:
        datastore = SQLiteDatastore(self.db_name, pool_size=pool_size)
        self.addCleanup(datastore.close)
        return datastore


class TestSQLiteApplicationRecorder(
    _TemporaryDatabaseFile,
    es_tests.ApplicationRecorderTestCase[LedgerSQLiteApplicationRecorder],
):
    def create_recorder(self) -> LedgerSQLiteApplicationRecorder:
        # Pool as large as the library's own SQLite tests use (many threads read).
        recorder = LedgerSQLiteApplicationRecorder(self.create_datastore(pool_size=100))
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        # The library's SQLite recorder cannot run this: it has no subscribe().
        self.optional_test_insert_subscribe()

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        with _threads_joined():
            super().test_concurrent_no_conflicts(initial_position)

    def test_concurrent_throughput(self) -> None:
        with _threads_joined():
            super().test_concurrent_throughput()


@contextmanager
def _threads_joined(timeout: float = 30.0) -> Iterator[None]:
    """Wait for the threads a library test starts before its cleanup closes the database.

    The library's concurrency tests tell their reader threads to stop but do not join
    them, so the datastore's cleanup can close an SQLite connection that a reader is
    still using: a segmentation fault in the sqlite3 C module (seen in CI).
    """
    before = set(threading.enumerate())
    try:
        yield
    finally:
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout)


class TestSQLiteProcessRecorder(_TemporaryDatabaseFile, es_tests.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        recorder = LedgerSQLiteProcessRecorder(self.create_datastore())
        recorder.create_table()
        return recorder


class TestSQLiteNonInterleavingNotificationIDs(
    _TemporaryDatabaseFile, es_tests.NonInterleavingNotificationIDsBaseCase
):
    def create_recorder(self) -> ApplicationRecorder:
        recorder = LedgerSQLiteApplicationRecorder(self.create_datastore())
        recorder.create_table()
        return recorder


class _TrackingRecorderSubclass(SQLiteTrackingRecorder):
    pass


class TestSQLiteFactory(es_tests.InfrastructureFactoryTestCase[LedgerSQLiteFactory]):
    def setUp(self) -> None:
        tmpdir = tempfile.TemporaryDirectory(prefix="tl_store_test_")
        self.addCleanup(tmpdir.cleanup)
        self.env = Environment(
            "TestCase",
            {
                "PERSISTENCE_MODULE": "storage.sqlite",
                "SQLITE_DBNAME": str(Path(tmpdir.name) / "events.sqlite"),
            },
        )
        super().setUp()

    def expected_factory_class(self) -> type[LedgerSQLiteFactory]:
        return LedgerSQLiteFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return SQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return LedgerSQLiteApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return _TrackingRecorderSubclass

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return LedgerSQLiteProcessRecorder
