"""The library's own recorder and factory test cases, run against our PostgreSQL store.

Every test gets a fresh database (``postgres_database`` fixture), so none of the
library suite's table dropping is needed.
"""

from __future__ import annotations

# Import the module, not the classes: pytest would otherwise collect the library's
# abstract base cases from this module's namespace.
import eventsourcing.tests.persistence as es_tests
import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresTrackingRecorder
from eventsourcing.utils import Environment

from storage.postgres import (
    LedgerPostgresApplicationRecorder,
    LedgerPostgresFactory,
    LedgerPostgresProcessRecorder,
)
from tests.conftest import PostgresDatabase
from tests.storage.support import PostgresDatastoreTestCase

pytestmark = pytest.mark.postgres


class TestPostgresApplicationRecorder(
    PostgresDatastoreTestCase,
    es_tests.ApplicationRecorderTestCase[LedgerPostgresApplicationRecorder],
):
    def create_recorder(self) -> LedgerPostgresApplicationRecorder:
        recorder = LedgerPostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        self.resize_pool(2)  # The subscription's LISTEN holds a connection.
        self.optional_test_insert_subscribe()

    def test_concurrent_no_conflicts(self, initial_position: int = 0) -> None:
        self.resize_pool(12)  # 10 writer threads and 2 reader threads.
        super().test_concurrent_no_conflicts(initial_position)

    def test_concurrent_throughput(self) -> None:
        self.resize_pool(4)
        super().test_concurrent_throughput()


class TestPostgresProcessRecorder(PostgresDatastoreTestCase, es_tests.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        recorder = LedgerPostgresProcessRecorder(self.datastore)
        recorder.create_table()
        return recorder


class TestPostgresNonInterleavingNotificationIDs(
    PostgresDatastoreTestCase, es_tests.NonInterleavingNotificationIDsBaseCase
):
    pool_size = 2  # Two writers race.

    def create_recorder(self) -> ApplicationRecorder:
        recorder = LedgerPostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder


class _TrackingRecorderSubclass(PostgresTrackingRecorder):
    pass


class TestPostgresFactory(es_tests.InfrastructureFactoryTestCase[LedgerPostgresFactory]):
    postgres: PostgresDatabase

    @pytest.fixture(autouse=True)
    def _use_fresh_database(self, postgres_database: PostgresDatabase) -> None:
        self.postgres = postgres_database

    def setUp(self) -> None:
        # The library's factory reads its settings from this Environment, not from
        # os.environ, so nothing leaks between tests.
        self.env = Environment(
            "TestCase",
            {
                "PERSISTENCE_MODULE": "storage.postgres",
                **self.postgres.eventsourcing_env(),
            },
        )
        super().setUp()

    def expected_factory_class(self) -> type[LedgerPostgresFactory]:
        return LedgerPostgresFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return PostgresAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return LedgerPostgresApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return PostgresTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return _TrackingRecorderSubclass

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return LedgerPostgresProcessRecorder
