"""The library's own recorder and factory test cases, run against our POPO store."""

from __future__ import annotations

# Import the module, not the classes: pytest would otherwise collect the library's
# abstract base cases from this module's namespace.
import eventsourcing.tests.persistence as es_tests
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.popo import POPOAggregateRecorder, POPOTrackingRecorder
from eventsourcing.utils import Environment

from storage.popo import (
    LedgerPOPOApplicationRecorder,
    LedgerPOPOFactory,
    LedgerPOPOProcessRecorder,
)


class TestPOPOApplicationRecorder(
    es_tests.ApplicationRecorderTestCase[LedgerPOPOApplicationRecorder]
):
    def create_recorder(self) -> LedgerPOPOApplicationRecorder:
        return LedgerPOPOApplicationRecorder()

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestPOPOProcessRecorder(es_tests.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return LedgerPOPOProcessRecorder()


class TestPOPONonInterleavingNotificationIDs(es_tests.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> ApplicationRecorder:
        return LedgerPOPOApplicationRecorder()


class _TrackingRecorderSubclass(POPOTrackingRecorder):
    pass


class TestPOPOFactory(es_tests.InfrastructureFactoryTestCase[LedgerPOPOFactory]):
    def setUp(self) -> None:
        self.env = Environment("TestCase", {"PERSISTENCE_MODULE": "storage.popo"})
        super().setUp()

    def expected_factory_class(self) -> type[LedgerPOPOFactory]:
        return LedgerPOPOFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return POPOAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return LedgerPOPOApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return POPOTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return _TrackingRecorderSubclass

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return LedgerPOPOProcessRecorder
